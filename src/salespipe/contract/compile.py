"""Compile a source's contract into one set-based SELECT over a raw file's text columns.

The SELECT maps raw columns (or SQL expressions, or constants) to canonical fields,
parses them into typed values, and computes a bit mask of reason codes per row; the
loader never loops over rows in Python. SQL is written in DuckDB's dialect.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from salespipe.config.model import Config, ExprColumn, Source, ValueColumn
from salespipe.contract.canonical import CANONICAL_FIELDS, FIELDS, REQUIRED_FIELDS
from salespipe.errors import ContractError

KEY_SEPARATOR = "chr(31)"
# Wide enough that no valid DECIMAL(18,4) quantity times price can overflow.
AMOUNT = "CAST(quantity AS DECIMAL(38,4)) * unit_price"
TIME_WITH_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$"
# Sales are dated from FIRST_YEAR to before END_YEAR; other years are bad_timestamp.
FIRST_YEAR, END_YEAR = 1900, 2200
PLAIN_COLUMN = re.compile(r'"(?:[^"]|"")*"')  # a quoted raw column, as quote_ident writes it


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class LookupView:
    """A reference file already exposed as a view, with the columns it adds."""

    view: str
    file: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    columns: tuple[str, ...]  # columns added to the row (prefixed), excluding join columns
    source_columns: tuple[str, ...]  # the same columns as named in the view


@dataclass(frozen=True)
class CompiledContract:
    # yields the canonical fields, sale_date, fx_rate, line_revenue, line_cost, row_key,
    # row_hash, mask (reason bits; 0 = valid) and raw_values (the raw row as JSON, when invalid)
    sql: str
    numbered: bool  # the SELECT yields `_row`; otherwise rows are numbered by rowid
    reasons: tuple[str, ...]
    mapped: frozenset[str]
    key: tuple[str, ...]
    unused_columns: tuple[str, ...]
    fingerprint: str

    def reason_sql(self, mask: str = "mask") -> str:
        """SQL listing the reason codes of a mask as a VARCHAR[]."""
        parts = ", ".join(
            f"CASE WHEN ({mask} & {1 << i}) <> 0 THEN {sql_literal(r)} END"
            for i, r in enumerate(self.reasons)
        )
        return f"list_filter([{parts}], lambda x: x IS NOT NULL)"


def contract_fingerprint(source: Source, config: Config) -> str:
    payload = json.dumps(
        [source.model_dump(mode="json"), config.timezone, config.currency, str(config.rates)],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _parse(sql: str, where: str) -> exp.Expr:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ContractError(
            f"{where}: not a valid SQL expression: {str(exc).splitlines()[0]}",
            key=where,
            hint="expressions use DuckDB SQL over the raw column names, e.g. \"date || ' ' || time\"",
        ) from None
    return tree


def expression_columns(sql: str, where: str) -> set[str]:
    return {c.name for c in _parse(sql, where).find_all(exp.Column) if not c.table}


# What a rule sees under its own name: the canonical fields and what the load derives.
RULE_FIELDS = frozenset([*(f.name for f in FIELDS), "sale_date", "fx_rate"])


def _rule_sql(
    sql: str, where: str, resolver: _Resolver, inputs: dict[str, str], file: str | None
) -> str:
    """A rule over canonical fields and, by name, the file's (or a lookup's) other columns
    as text (`order_status <> 'canceled'`); a canonical field wins a shared name."""
    tree = _parse(sql, where)
    unknown: list[str] = []

    def rename(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column) or node.table or node.name.lower() in RULE_FIELDS:
            return node
        column = resolver.find(node.name)
        if column is None:
            unknown.append(node.name)
            return node
        alias = inputs.setdefault(column, f"__rule{len(inputs)}")
        return exp.column(alias)

    rewritten = tree.transform(rename)
    if unknown:
        raise ContractError(
            f"{where} uses {', '.join(repr(u) for u in unknown)}: neither a canonical field nor "
            "a column of the file or its lookups",
            file=file,
            key=where,
            hint="rules see the canonical fields (quantity, unit_price, sale_date, ...) and, by "
            "name, the file's other columns as text; fix the rule or the export",
        )
    return rewritten.sql(dialect="duckdb")


def uses_window(sql: str, where: str) -> bool:
    """A window function makes rows come out in partition order, not file order."""
    return _parse(sql, where).find(exp.Window) is not None


class _Resolver:
    def __init__(self, available: Sequence[str]) -> None:
        self.by_lower = {c.lower(): c for c in available}

    def find(self, name: str) -> str | None:
        return self.by_lower.get(name.lower())


def _text(expr: str, strip_nul: bool = False) -> str:
    value = f"CAST(({expr}) AS VARCHAR)"
    # `strip_nul`: NUL characters dropped, for a warehouse whose text cannot hold them
    # (PostgreSQL); checking for them costs a scan of every value, so only there.
    cleaned = f"trim(replace({value}, chr(0), ''))" if strip_nul else f"trim({value})"
    if not PLAIN_COLUMN.fullmatch(expr):
        return f"NULLIF({cleaned}, '')"
    # trim() strips only the ASCII space and non-ASCII spaces, and costs a copy of every
    # value; a value with no space at either end and no multi-byte character is already
    # trimmed: checking that costs half of trimming. Repeating a column reference is free.
    nul = f" OR contains({value}, chr(0))" if strip_nul else ""
    return (
        f"NULLIF(CASE WHEN prefix({value}, ' ') OR suffix({value}, ' ') "
        f"OR strlen({value}) <> length({value}){nul} THEN {cleaned} ELSE {value} END, '')"
    )


def _number(text: str, source: Source) -> str:
    """A number written the source's way (`decimal`, `thousands`) as SQL number text.

    With a decimal comma, a dot is a thousands separator only when `thousands: "."`
    says so: otherwise "1.234" is ambiguous (1.234 or 1234) and is a bad_number, never
    silently the one or the other."""
    opts = source.options
    out = text
    if opts.decimal == "," and opts.thousands != ".":
        out = f"CASE WHEN contains({out}, '.') THEN NULL ELSE {out} END"
    if opts.thousands:
        out = f"replace({out}, {sql_literal(opts.thousands)}, '')"
    if opts.decimal == ",":
        out = f"replace(replace({out}, ' ', ''), ',', '.')"
    return out


# A zone offset at the end of a timestamp: Z, +05, +0530, +05:30.
TRAILING_OFFSET = r"\s*(Z|[+-]\d\d(:?\d\d)?)$"
# Offsets past +-14:59, or minutes past 59, are no time zone.
BAD_OFFSET = r"[+-]((1[5-9]|[2-9]\d)(:?\d\d)?|\d\d:?[6-9]\d)$"


def _zoned_time(text: str, fmts: list[str]) -> str:
    """Parse zoned timestamps (formats with %z) strictly, as an instant.

    DuckDB's %z parse rolls an impossible date over (June 31 -> July 1) and refuses
    the Z of UTC: a trailing Z is read as +00:00, and when %z ends every format the
    wall-clock part must parse on its own and the offset must be a real one."""
    as_offset = f"regexp_replace({text}, 'Z$', '+00:00')"
    parsed = "try_strptime(" + as_offset + ", [" + ", ".join(sql_literal(f) for f in fmts) + "])"
    if not all(f.endswith("%z") for f in fmts):
        return parsed
    wall = f"regexp_replace({text}, {sql_literal(TRAILING_OFFSET)}, '')"
    wall_fmts = "[" + ", ".join(sql_literal(f.removesuffix("%z").rstrip()) for f in fmts) + "]"
    return (
        f"CASE WHEN try_strptime({wall}, {wall_fmts}) IS NOT NULL "
        f"AND NOT regexp_matches({text}, {sql_literal(BAD_OFFSET)}) THEN {parsed} END"
    )


def _local_time(text: str, field: str, source: Source) -> str:
    """SQL giving the local (store) wall-clock time of a timestamp field, or NULL."""
    formats = source.formats.get(field)
    fmts = [formats] if isinstance(formats, str) else list(formats or [])
    if not fmts:
        return (
            f"CASE WHEN regexp_matches({text}, {sql_literal(TIME_WITH_OFFSET)}) "
            f"THEN timezone(__tz, TRY_CAST({text} AS TIMESTAMPTZ)) ELSE TRY_CAST({text} AS TIMESTAMP) END"
        )
    zoned = ["%z" in f or "%Z" in f for f in fmts]
    if any(zoned) and not all(zoned):
        raise ContractError(
            f"formats.{field}: formats with and without a zone (%z) cannot be mixed",
            key=f"formats.{field}",
            hint="use one list of zoned formats, or split the files into two sources",
        )
    if all(zoned):
        return f"timezone(__tz, {_zoned_time(text, fmts)})"
    fmt_list = "[" + ", ".join(sql_literal(f) for f in fmts) + "]"
    return f"CAST(try_strptime({text}, {fmt_list}) AS TIMESTAMP)"


def compile_contract(
    source: Source,
    config: Config,
    raw_view: str,
    raw_columns: Sequence[str],
    lookups: Sequence[LookupView] = (),
    rates_view: str | None = None,
    file: str | None = None,
    scan_view: str | None = None,
    strip_nul: bool = False,
) -> CompiledContract:
    """Compile a contract. With `scan_view` (a scan in file order, without `_row`) and no joins,
    the SELECT omits `_row`: the caller materialises it and numbers rows by their rowid, which
    saves a window over the whole file. `strip_nul` drops NUL characters from text."""
    available = list(raw_columns) + [c for lk in lookups for c in lk.columns]
    resolver = _Resolver(available)
    used: set[str] = set()
    for lk in lookups:
        used.update(c.lower() for c in lk.left)

    # 1. where each canonical field comes from (text SQL), or None when it is absent
    sources: dict[str, str | None] = {}
    missing: list[tuple[str, str]] = []
    for field in FIELDS:
        spec = source.columns.get(field.name)
        if isinstance(spec, ValueColumn):
            sources[field.name] = sql_literal(spec.value)
        elif isinstance(spec, ExprColumn):
            refs = expression_columns(spec.expr, f"columns.{field.name}")
            absent = sorted(r for r in refs if resolver.find(r) is None)
            if absent:
                missing.append(
                    (field.name, "the expression uses " + ", ".join(repr(a) for a in absent))
                )
                continue
            used.update(r.lower() for r in refs)
            sources[field.name] = spec.expr
        elif isinstance(spec, str):
            col = resolver.find(spec)
            if col is None:
                missing.append((field.name, f"mapped from column '{spec}'"))
                continue
            used.add(col.lower())
            sources[field.name] = quote_ident(col)
        else:
            col = resolver.find(field.name)
            if col is not None:
                used.add(col.lower())
                sources[field.name] = quote_ident(col)
            elif field.required:
                missing.append(
                    (field.name, f"no column '{field.name}' and no mapping in `columns:`")
                )
            else:
                sources[field.name] = None
    if missing:
        name, why = missing[0]
        raise ContractError(
            f"missing_column:{name}: required column not found ({why}); file columns: "
            + ", ".join(raw_columns),
            file=file,
            field=name,
            hint=f"map it in the source's `columns:` (e.g. {name}: <raw column>) or fix the export",
        )
    mapped = frozenset(f for f, s in sources.items() if s is not None)

    # 2. the row key
    if source.key:
        key = tuple(source.key)
    elif "transaction_id" in mapped and "line_no" in mapped:
        key = ("transaction_id", "line_no")
    else:
        key = tuple(f.name for f in FIELDS if f.name in mapped)
    for k in key:
        if k not in mapped:
            raise ContractError(
                f"key field '{k}' is not mapped",
                file=file,
                field=k,
                hint="map it in `columns:` or change `key:`",
            )

    tz_default = config.source_timezone(source)
    if source.store_timezones:
        cases = " ".join(
            f"WHEN {sql_literal(s)} THEN {sql_literal(tz)}"
            for s, tz in source.store_timezones.items()
        )
        tz_expr = f"CASE store_id__t {cases} ELSE {sql_literal(tz_default)} END"
    else:
        tz_expr = sql_literal(tz_default)

    # 3. text values, then typed values under the canonical names
    text_cols: list[str] = []
    typed_cols: list[str] = []
    for field in FIELDS:
        src = sources[field.name]
        t = f"{field.name}__t"
        if src is None:
            text_cols.append(f"CAST({field.default or 'NULL'} AS VARCHAR) AS {t}")
        elif field.default:
            text_cols.append(
                f"coalesce({_text(src, strip_nul)}, CAST({field.default} AS VARCHAR)) AS {t}"
            )
        else:
            text_cols.append(f"{_text(src, strip_nul)} AS {t}")
        if field.kind == "text":
            typed_cols.append(f"{t} AS {field.name}")
        elif field.kind in ("money", "quantity") and isinstance(
            source.columns.get(field.name), ExprColumn
        ):
            # An expression that yields a number is read as that number; only one that
            # yields text is written the file's way (decimal comma, thousands).
            text_cols.append(f"typeof(({src})) <> 'VARCHAR' AS {t}__native")
            typed_cols.append(
                f"CASE WHEN {t}__native THEN TRY_CAST({t} AS DECIMAL(18,4)) "
                f"ELSE TRY_CAST({_number(t, source)} AS DECIMAL(18,4)) END AS {field.name}"
            )
        elif field.kind in ("money", "quantity"):
            typed_cols.append(f"TRY_CAST({_number(t, source)} AS DECIMAL(18,4)) AS {field.name}")
        else:
            typed_cols.append(f"{_local_time(t, field.name, source)} AS {field.name}__local")

    # 4. reason bits
    reasons: list[str] = []
    checks: list[str] = []

    def check(code: str, condition: str) -> None:
        reasons.append(code)
        checks.append(condition)

    # A year outside 1900..2199 is a typo or a placeholder (0000-01-01, 9999-12-31), not
    # a sale: loaded, it would stretch every calendar and series to it.
    check(
        "bad_timestamp",
        "sold_at__t IS NOT NULL AND (sold_at__local IS NULL "
        f"OR sold_at__local < TIMESTAMP '{FIRST_YEAR}-01-01' "
        f"OR sold_at__local >= TIMESTAMP '{END_YEAR}-01-01')",
    )
    numeric = [f.name for f in FIELDS if f.kind in ("money", "quantity") and f.name in mapped]
    check("bad_number", " OR ".join(f"({n}__t IS NOT NULL AND {n} IS NULL)" for n in numeric))
    # Declared keys (and the default transaction_id+line_no) must be present; the
    # fallback key of all mapped fields treats a blank optional field as a value.
    required_keys = key if (source.key or key == ("transaction_id", "line_no")) else ()
    for name in dict.fromkeys([*REQUIRED_FIELDS, *required_keys]):
        check(f"missing_value:{name}", f"{name}__t IS NULL")
    check("negative_price", "unit_price < 0")
    check("zero_quantity", "quantity = 0")
    if "discount" in mapped:
        check("discount_exceeds_amount", "discount < 0 OR discount > abs(__amount)")
    if "unit_cost" in mapped:
        check("negative_cost", "unit_cost < 0")
    reporting = sql_literal(config.currency.upper())
    if "currency" in mapped:
        other = "__fx.rate" if rates_view else "NULL"
        fx_sql = f"CAST(CASE WHEN n.currency IS NULL OR upper(n.currency) = {reporting} THEN 1 ELSE {other} END AS DECIMAL(18,8))"
        check("missing_value:fx_rate", "fx_rate IS NULL")
    else:
        fx_sql = "CAST(1 AS DECIMAL(18,8))"
    fx_join = (
        f"LEFT JOIN {rates_view} __fx ON __fx.currency = upper(n.currency) AND __fx.date = n.sale_date"
        if rates_view and "currency" in mapped
        else ""
    )
    rule_inputs: dict[str, str] = {}  # raw or looked-up column -> its alias in the rows
    for rule in source.rules:
        rule_sql = _rule_sql(rule.check, f"rules.{rule.name}", resolver, rule_inputs, file)
        used.update(c.lower() for c in rule_inputs)
        # As with SQL CHECK constraints, NULL passes: a field that did not parse already
        # has its own reason, and a missing optional field must not trip a rule about it.
        check(f"rule:{rule.name}", f"(({rule_sql}) IS FALSE)")
    if len(reasons) > 62:
        raise ContractError("too many rules: at most 45 per source", key="rules")
    mask = " | ".join(f"(CASE WHEN {c} THEN {1 << i} ELSE 0 END)" for i, c in enumerate(checks))

    # 5. row identity and content
    if len(key) == 1:
        key_sql = f"coalesce(CAST({key[0]} AS VARCHAR), '')"
    else:
        parts = ", ".join(f"coalesce(CAST({k} AS VARCHAR), chr(0))" for k in key)
        key_sql = f"concat_ws({KEY_SEPARATOR}, {parts})"
    # 63 bits, so the value fits a signed BIGINT on every engine.
    hash_sql = (
        "CAST(hash(" + ", ".join([f.name for f in FIELDS] + ["fx_rate"]) + ") >> 1 AS BIGINT)"
    )

    # Lookups are joined in order; a later one may join on columns an earlier one added.
    joined = f"SELECT * FROM {raw_view}"
    for i, lk in enumerate(lookups):
        alias = f"__lk{i}"
        on = " AND ".join(
            f"__prev.{quote_ident(resolver.find(left) or left)} = {alias}.{quote_ident(right)}"
            for left, right in zip(lk.left, lk.right, strict=True)
        )
        added = "".join(
            f", {alias}.{quote_ident(src)} AS {quote_ident(dst)}"
            for src, dst in zip(lk.source_columns, lk.columns, strict=True)
        )
        joined = (
            f"SELECT __prev.*{added} FROM ({joined}) __prev LEFT JOIN {lk.view} {alias} ON {on}"
        )

    expressions = [
        (f"columns.{f}", c.expr) for f, c in source.columns.items() if isinstance(c, ExprColumn)
    ]
    expressions += [(f"rules.{r.name}", r.check) for r in source.rules]
    windowed = any(uses_window(sql_text, where) for where, sql_text in expressions)
    unordered = bool(lookups) or bool(fx_join) or windowed
    if scan_view and not unordered:
        joined, row = f"SELECT * FROM {scan_view}", ""
    else:
        row = "_row, "
    canonical = ", ".join(f.name for f in FIELDS)

    def converted(amount: str) -> str:
        """An amount in the reporting currency, exact to 10 places."""
        if "currency" not in mapped:
            return f"CAST({amount} AS DECIMAL(38,10))"
        # Most lines are in the reporting currency: skip the 128-bit multiply for them.
        return (
            f"CASE WHEN fx_rate = 1 THEN CAST({amount} AS DECIMAL(38,10)) "
            f"ELSE CAST(({amount}) * fx_rate AS DECIMAL(38,10)) END"
        )

    # The raw values ride along, so the quarantine gets them without a second read of the
    # file; only rows that fail a check pay for their JSON (`raw_values`, NULL otherwise).
    raw_refs = [f"__raw{i}" for i in range(len(raw_columns))]
    rule_columns = "".join(f", {quote_ident(c)} AS {a}" for c, a in rule_inputs.items())
    passthrough = "".join(
        f", {quote_ident(c)} AS {r}" for c, r in zip(raw_columns, raw_refs, strict=True)
    )
    raw_struct = ", ".join(
        f"{sql_literal(c)}: {r}" for c, r in zip(raw_columns, raw_refs, strict=True)
    )
    final = (
        f"SELECT * EXCLUDE ({', '.join(raw_refs)}), "
        f"CASE WHEN mask <> 0 THEN to_json({{{raw_struct}}}) END AS raw_values"
        if raw_refs
        else "SELECT *, CAST(NULL AS JSON) AS raw_values"
    )
    sql = f"""
WITH joined AS ({joined}),
texts AS (SELECT {row}{", ".join(text_cols)}{passthrough}{rule_columns} FROM joined),
typed AS (SELECT *, {", ".join(typed_cols)} FROM (SELECT *, {tz_expr} AS __tz FROM texts)),
named AS (
  SELECT * EXCLUDE (__tz), timezone(__tz, sold_at__local) AS sold_at, CAST(sold_at__local AS DATE) AS sale_date
  FROM typed
),
priced AS (SELECT n.*, {fx_sql} AS fx_rate, {AMOUNT} AS __amount FROM named n {fx_join}),
checked AS (
  SELECT {row}{canonical}, sale_date, fx_rate,
    {converted("__amount - coalesce(discount, 0)")} AS line_revenue,
    {converted("CAST(quantity AS DECIMAL(38,4)) * unit_cost")} AS line_cost,
    {key_sql} AS row_key,
    {hash_sql} AS row_hash,
    CAST({mask} AS BIGINT) AS mask{"".join(", " + r for r in raw_refs)}
  FROM priced
)
{final}
FROM checked
"""
    raw_lower = {c.lower() for c in raw_columns}
    unused = tuple(c for c in raw_columns if c.lower() not in used and c.lower() in raw_lower)
    return CompiledContract(
        sql=sql,
        numbered=bool(row),
        reasons=tuple(reasons),
        mapped=mapped,
        key=key,
        unused_columns=unused,
        fingerprint=contract_fingerprint(source, config),
    )


__all__ = [
    "CANONICAL_FIELDS",
    "CompiledContract",
    "LookupView",
    "compile_contract",
    "quote_ident",
    "sql_literal",
]
