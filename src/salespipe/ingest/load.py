"""Load one landed file: read, map, validate, and merge it in a single transaction.

Every row is accounted for: rows_in = loaded + updated + quarantined + duplicate.
The ledger row, the quarantine rows and the fact rows commit together, so a crash
leaves none or all of the file, and the next run completes the work.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from salespipe.config.model import Config, Source
from salespipe.contract.canonical import DUPLICATE_KEY
from salespipe.contract.compile import (
    CompiledContract,
    compile_contract,
    contract_fingerprint,
    quote_ident,
)
from salespipe.errors import ContractError, ReadError, SalespipeError
from salespipe.ingest.lookups import prepare_lookups
from salespipe.ingest.merge_postgres import merge_fact
from salespipe.ingest.readers import RawFile, collect_rejects, detect_format, open_raw
from salespipe.ingest.results import FileResult
from salespipe.ingest.transfer import drop, transfer
from salespipe.landing.files import LandedFile
from salespipe.warehouse import PostgresWarehouse, Warehouse
from salespipe.warehouse.schema import DIMENSIONS, FACT_COLUMNS
from salespipe.warehouse.sql import first_row

MALFORMED = "malformed_row"
# What a load touched, for incremental mart refresh: one row per distinct date and member.
DIRTY_SELECT = (
    "SELECT CAST(? AS BIGINT), CASE WHEN grouping(sale_date) = 0 THEN 'date' WHEN grouping(store_id) = 0 "
    "THEN 'store' WHEN grouping(product_id) = 0 THEN 'product' WHEN grouping(customer_id) = 0 THEN 'customer' "
    "ELSE 'salesperson' END, coalesce(CAST(sale_date AS VARCHAR), store_id, product_id, customer_id, salesperson_id)"
)
DIRTY_GROUPS = (
    "GROUPING SETS ((sale_date), (store_id), (product_id), (customer_id), (salesperson_id))"
)
STAGING_TABLES = (
    "_raw_rejects",
    "_raw_scans",
    "_dups",
    "_dup_keys",
    "_qrows",
    "_qline_numbers",
    "_staged_t",
    "_dim_date_t",
    *(f"_{t}_t" for t in DIMENSIONS),
)
WAREHOUSE_TABLES = (
    "_incoming",
    "_match",
    "_qrows_w",
    "_dim_date_w",
    "_replay_map_w",
    *(f"_{t}_w" for t in DIMENSIONS),
)
QUARANTINE_COLUMNS = (
    ("file_id", "BIGINT"),
    ("source", "VARCHAR"),
    ("row_number", "BIGINT"),
    ("line", "BIGINT"),
    ("reasons", "VARCHAR[]"),
    ("raw", "JSON"),
    ("state", "VARCHAR"),
    ("replay_file_id", "BIGINT"),
    ("quarantined_at", "TIMESTAMPTZ"),
)
DIM_DATE_COLUMNS = (
    ("date", "DATE"),
    ("year", "INTEGER"),
    ("quarter", "INTEGER"),
    ("month", "INTEGER"),
    ("month_start", "DATE"),
    ("week", "INTEGER"),
    ("day_of_month", "INTEGER"),
    ("day_of_week", "INTEGER"),
    ("day_name", "VARCHAR"),
    ("is_weekend", "BOOLEAN"),
)


@dataclass
class LoadContext:
    """What a run prepares once and every file of a source reuses."""

    config: Config
    source: Source
    run_id: str
    rates_view: str | None = None
    strip_nul: bool = False  # the warehouse's text cannot hold NUL (PostgreSQL)

    @classmethod
    def on(
        cls, wh: Warehouse, config: Config, source: Source, run_id: str, rates: str | None
    ) -> LoadContext:
        """The context of loading `source` into `wh`, as its capabilities require."""
        return cls(config, source, run_id, rates, strip_nul=not wh.text_holds_nul)


def cleanup(wh: Warehouse, raw: RawFile | None) -> None:
    """Drop every temporary object of a load, on both connections."""
    drop(wh, WAREHOUSE_TABLES)
    for name in ("_staged", *STAGING_TABLES):
        for kind in ("VIEW", "TABLE"):
            with contextlib.suppress(duckdb.Error):
                wh.staging.execute(f"DROP {kind} IF EXISTS {name}")
    if raw is not None:
        raw.close()


def previously_loaded(con: Any, source: str, content_hash: str) -> tuple[int, str] | None:
    row = first_row(
        con.execute(
            "SELECT file_id, name FROM files WHERE source = ? AND content_hash = ? AND status = 'loaded' LIMIT 1",
            [source, content_hash],
        )
    )
    return (int(row[0]), str(row[1])) if row else None


def next_file_id(con: Any) -> int:
    row = first_row(con.execute("SELECT nextval('file_id_seq')"))
    assert row is not None
    return int(row[0])


def stage_file(
    con: duckdb.DuckDBPyConnection, ctx: LoadContext, landed: LandedFile
) -> tuple[RawFile, CompiledContract]:
    """Read the file and create `_staged`: typed canonical rows with a reason mask each."""
    fmt = detect_format(landed.name, ctx.source.format)
    raw = open_raw(con, landed.local_path(), fmt, ctx.source.options, view="_raw")
    try:
        compiled = stage_raw(con, ctx, raw, landed.uri)
        if fmt in ("csv", "tsv"):
            collect_rejects(con, raw)
    except BaseException:
        raw.close()
        raise
    return raw, compiled


def stage_raw(
    con: duckdb.DuckDBPyConnection, ctx: LoadContext, raw: RawFile, uri: str
) -> CompiledContract:
    """Apply the source's contract to a raw view, creating `_staged`."""
    lookups = prepare_lookups(con, ctx.config, ctx.source, raw.columns)
    compiled = compile_contract(
        ctx.source,
        ctx.config,
        raw.view,
        raw.columns,
        lookups,
        ctx.rates_view,
        uri,
        scan_view=raw.scan_view,
        strip_nul=ctx.strip_nul,
    )
    try:
        con.execute(f"CREATE TEMP TABLE _staged_t AS {compiled.sql}")
        if compiled.numbered:
            con.execute("CREATE TEMP VIEW _staged AS SELECT * FROM _staged_t")
        else:
            # Insertion order is preserved, so rowid + 1 is the data row of the file.
            con.execute("CREATE TEMP VIEW _staged AS SELECT rowid + 1 AS _row, * FROM _staged_t")
    except duckdb.Error as exc:
        raise _explain(exc, uri, ctx.source) from None
    return compiled


def _explain(exc: duckdb.Error, uri: str, source: Source) -> SalespipeError:
    first = str(exc).splitlines()[0]
    if isinstance(exc, duckdb.InvalidInputException | duckdb.IOException) and "CSV" in str(exc):
        return ReadError(
            f"cannot parse the file: {first}",
            file=uri,
            hint="check options.delimiter, quote, encoding and header of the source",
        )
    if isinstance(exc, duckdb.ConversionException):
        return ContractError(
            f"an expression of source '{source.name}' failed on a value of this file: {first}",
            file=uri,
            hint="write TRY_CAST(...) instead of CAST(...) in `columns:` expressions: a value that "
            "does not convert then leaves its field empty, and its row is quarantined with a "
            "reason (bad_number, missing_value:<field>) instead of the whole file failing",
        )
    return ContractError(
        f"the contract of source '{source.name}' failed on this file: {first}",
        file=uri,
        hint="check the `columns:` expressions and `rules:`; expressions see the raw columns as "
        "text, rules the typed canonical fields (and other columns by name, as text)",
    )


def load_file(
    wh: Warehouse, ctx: LoadContext, landed: LandedFile, content_hash: str | None = None
) -> FileResult:
    """Load one file exactly once; remote files are downloaded once and released after."""
    try:
        return _load_file(wh, ctx, landed, content_hash)
    finally:
        landed.release()


def _load_file(
    wh: Warehouse, ctx: LoadContext, landed: LandedFile, content_hash: str | None = None
) -> FileResult:
    started = time.perf_counter()
    con = wh.con
    source = ctx.source
    fingerprint = contract_fingerprint(source, ctx.config)
    result = FileResult(uri=landed.uri, source=source.name, status="loaded")
    if source.name_pattern and not re.fullmatch(source.name_pattern, landed.name):
        content_hash = content_hash or landed.content_hash()
        result.status = "rejected"
        result.error = f"the file name does not match name_pattern '{source.name_pattern}'"
        result.hint = "rename the file or fix the source's `name_pattern:`"
        result.reasons = {"bad_file_name": 1}
        result.file_id = next_file_id(con)
        record_file(
            wh, ctx, landed.uri, landed.name, landed.size, content_hash, fingerprint, result, []
        )
        return result
    digest = _ContentHash(con, source.name, landed, content_hash)
    if not digest.overlapped and _skipped(con, source.name, digest.value(), result):
        return result
    result.file_id = file_id = next_file_id(con)
    raw: RawFile | None = None
    try:
        # Staging touches only temp tables, so it runs before the transaction: rowids of a
        # table created outside a transaction count rows from 0 in file order.
        raw, compiled = stage_file(wh.staging, ctx, landed)
        if digest.overlapped and _skipped(con, source.name, digest.value(), result):
            cleanup(wh, raw)
            return result
        file_hash = digest.value()

        def ledger() -> None:
            con.execute(
                "DELETE FROM files WHERE source = ? AND content_hash = ? AND status <> 'loaded'",
                [source.name, file_hash],
            )
            result.seconds = time.perf_counter() - started
            record_file(
                wh,
                ctx,
                landed.uri,
                landed.name,
                landed.size,
                file_hash,
                fingerprint,
                result,
                raw.columns if raw else [],
            )

        merge_staged(wh, ctx, raw, compiled, file_id, result, ledger)
    except SalespipeError as exc:
        _rollback(wh)
        cleanup(wh, raw)
        file_hash = digest.value()
        if digest.overlapped and _skipped(con, source.name, file_hash, result):
            return result
        result.status = "rejected" if isinstance(exc, ContractError | ReadError) else "failed"
        result.rows_in = result.rows_loaded = result.rows_updated = 0
        result.rows_quarantined = result.rows_duplicate = 0
        result.reasons = {}
        if isinstance(exc, ContractError) and exc.message.startswith("missing_column:"):
            result.reasons = {exc.message.split(":", 2)[0] + ":" + (exc.field or ""): 1}
        result.error = exc.message
        result.hint = exc.hint
        result.seconds = time.perf_counter() - started
        record_file(
            wh,
            ctx,
            landed.uri,
            landed.name,
            landed.size,
            file_hash,
            fingerprint,
            result,
            raw.columns if raw else [],
        )
        return result
    except BaseException:
        _rollback(wh)
        cleanup(wh, raw)
        raise
    cleanup(wh, raw)
    return result


def _skipped(con: Any, source: str, content_hash: str, result: FileResult) -> bool:
    """Whether these bytes are already loaded; if so, `result` says so."""
    earlier = previously_loaded(con, source, content_hash)
    if earlier is None:
        return False
    result.status = "skipped"
    result.file_id = earlier[0]
    result.error = f"same bytes already loaded as file {earlier[0]} ({earlier[1]})"
    return True


class _ContentHash:
    """A landed file's content hash, computed while the file is staged when it can be.

    Same bytes have the same size: when no loaded file of the source has this size (or
    an unknown one), the bytes are almost certainly new, and sha256 (2.5 s for 2 GB) runs
    in a thread beside the staging. The ledger check by hash still decides, after it.
    Otherwise the hash comes first, so a file loaded before is skipped without staging.
    """

    def __init__(self, con: Any, source: str, landed: LandedFile, known: str | None) -> None:
        self._value = known
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if known is not None:
            return
        size = landed.local_path().stat().st_size
        twin = first_row(
            con.execute(
                "SELECT 1 FROM files WHERE source = ? AND status = 'loaded' "
                "AND (size_bytes = ? OR coalesce(size_bytes, 0) <= 0) LIMIT 1",
                [source, size],
            )
        )
        if twin is not None:
            self._value = landed.content_hash()
            return
        self._thread = threading.Thread(
            target=self._run, args=(landed,), name="salespipe-hash", daemon=True
        )
        self._thread.start()

    def _run(self, landed: LandedFile) -> None:
        try:
            self._value = landed.content_hash()
        except BaseException as exc:  # re-raised in the loading thread by value()
            self._error = exc

    @property
    def overlapped(self) -> bool:
        return self._thread is not None

    def value(self) -> str:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def _rollback(wh: Warehouse) -> None:
    # the failure may have come before the transaction began
    with contextlib.suppress(duckdb.TransactionException):
        wh.con.execute("ROLLBACK")


def merge_staged(
    wh: Warehouse,
    ctx: LoadContext,
    raw: RawFile,
    compiled: CompiledContract,
    file_id: int,
    result: FileResult,
    in_transaction: Callable[[], None],
) -> None:
    """Merge `_staged` into the warehouse in one transaction, then run `in_transaction`
    (the ledger row) before the commit. Fills the reconciliation of `result`."""
    staging = wh.staging
    source = ctx.source.name
    counts = first_row(
        staging.execute(
            "SELECT count(*), count(*) FILTER (WHERE mask <> 0), min(sale_date) FILTER (WHERE mask = 0), "
            "max(sale_date) FILTER (WHERE mask = 0), "
            "list(DISTINCT CAST(date_trunc('month', sale_date) AS DATE)) FILTER (WHERE mask = 0) "
            "FROM _staged"
        )
    )
    assert counts is not None
    staged_rows, invalid = int(counts[0]), int(counts[1])
    result.min_date = str(counts[2]) if counts[2] else None
    result.max_date = str(counts[3]) if counts[3] else None
    result.unused_columns = list(compiled.unused_columns)

    months = list(counts[4] or [])
    dups = _find_duplicates(staging)
    _stage_side_tables(staging, ctx, raw, compiled, file_id, invalid, dups, counts[2], counts[3])
    fact_cols = [name for name, _ in FACT_COLUMNS]
    fact_types = dict(FACT_COLUMNS)
    incoming = ", ".join(
        f"CAST({_sql_key(source)} AS VARCHAR) AS source"
        if name == "source"
        else f"CAST({file_id} AS BIGINT) AS file_id"
        if name == "file_id"
        else f"s.{name}"
        for name in fact_cols
    )

    con = wh.con
    con.execute("BEGIN TRANSACTION")
    incoming_sql = f"SELECT {incoming} FROM _staged s WHERE s.mask = 0" + (
        " AND NOT EXISTS (SELECT 1 FROM _dups d WHERE d._row = s._row)" if dups else ""
    )
    incoming_types = [(n, fact_types[n].replace(" NOT NULL", "")) for n in fact_cols]
    if isinstance(wh, PostgresWarehouse):
        # COPY straight into the partitions (see merge_postgres): no second pass of the rows
        same, changed = merge_fact(
            wh, incoming_sql, incoming_types, source, file_id, months, (DIRTY_SELECT, DIRTY_GROUPS)
        )
    else:
        transfer(wh, incoming_sql, "_incoming", incoming_types)
        # A key already in the warehouse is an upsert: same content = duplicate, changed = update.
        existing = first_row(
            con.execute("SELECT 1 FROM fact_sales WHERE source = ? LIMIT 1", [source])
        )
        if existing:
            con.execute(
                "CREATE TEMP TABLE _match AS SELECT i.row_key, f.row_hash = i.row_hash AS same "
                "FROM _incoming i JOIN fact_sales f ON f.source = ? AND f.row_key = i.row_key",
                [source],
            )
        else:
            con.execute("CREATE TEMP TABLE _match (row_key VARCHAR, same BOOLEAN)")
        match = first_row(
            con.execute(
                "SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) FROM _match"
            )
        )
        assert match is not None
        same, changed = int(match[0]), int(match[1])
        if changed:
            # The old versions' dates and members are dirty too (a correction may move a sale).
            con.execute(
                f"INSERT INTO mart_dirty {DIRTY_SELECT} FROM fact_sales "
                "WHERE source = ? AND row_key IN (SELECT row_key FROM _match WHERE NOT same) "
                f"GROUP BY {DIRTY_GROUPS}",
                [file_id, source],
            )
            con.execute(
                "DELETE FROM fact_sales WHERE source = ? AND row_key IN (SELECT row_key FROM _match WHERE NOT same)",
                [source],
            )
        # Anti-joins are not free (10M lines): only when there is something to leave out.
        new_rows = "FROM _incoming i" + (
            " WHERE NOT EXISTS (SELECT 1 FROM _match m WHERE m.row_key = i.row_key AND m.same)"
            if same
            else ""
        )
        con.execute(
            f"INSERT INTO fact_sales ({', '.join(fact_cols)}) SELECT {', '.join(fact_cols)} {new_rows}"
        )
        con.execute(
            f"INSERT INTO mart_dirty {DIRTY_SELECT} {new_rows} GROUP BY {DIRTY_GROUPS}", [file_id]
        )
    _merge_side_tables(wh, source)

    rejects = len(raw.rejects)
    result.rows_in = staged_rows + rejects
    result.rows_quarantined = invalid + dups + rejects
    result.rows_duplicate = same
    result.rows_updated = changed
    result.rows_loaded = staged_rows - invalid - dups - same - changed
    reasons: dict[str, int] = {}
    if invalid:
        reasons = {
            str(code): int(n)
            for code, n in staging.execute(
                f"SELECT code, count(*) FROM (SELECT unnest({compiled.reason_sql()}) AS code FROM _staged WHERE mask <> 0) "
                "GROUP BY code ORDER BY code"
            ).fetchall()
        }
    if dups:
        reasons[DUPLICATE_KEY] = dups
    if rejects:
        reasons[MALFORMED] = rejects
    result.reasons = reasons
    in_transaction()
    con.execute("COMMIT")


def _find_duplicates(staging: duckdb.DuckDBPyConnection) -> int:
    """`_dups`: the valid rows whose key an earlier valid row of the file has; their count.

    Repeated keys are found first; only when there are some does a second pass number
    the rows of those keys in file order (most files have none).
    """
    staging.execute(
        "CREATE TEMP TABLE _dup_keys AS SELECT row_key FROM _staged WHERE mask = 0 "
        "GROUP BY row_key HAVING count(*) > 1"
    )
    if first_row(staging.execute("SELECT 1 FROM _dup_keys LIMIT 1")) is None:
        staging.execute("CREATE TEMP TABLE _dups (_row BIGINT)")
        return 0
    staging.execute(
        "CREATE TEMP TABLE _dups AS SELECT _row FROM ("
        "  SELECT _row, row_number() OVER (PARTITION BY row_key ORDER BY _row) AS rn FROM _staged"
        "  WHERE mask = 0 AND row_key IN (SELECT row_key FROM _dup_keys)"
        ") WHERE rn > 1"
    )
    return int(first_row(staging.execute("SELECT count(*) FROM _dups"))[0])  # type: ignore[index]


def _stage_side_tables(
    staging: duckdb.DuckDBPyConnection,
    ctx: LoadContext,
    raw: RawFile,
    compiled: CompiledContract,
    file_id: int,
    invalid: int,
    dups: int,
    first_day: date | None,
    last_day: date | None,
) -> None:
    """Dimension members, calendar days and quarantine rows of the file, built in staging.

    Members come from the lines that load: a row quarantined as a duplicate key of the
    file says nothing about a product's name or a store's region."""
    loading = "mask = 0" + (" AND _row NOT IN (SELECT _row FROM _dups)" if dups else "")
    for table, (key, attrs) in DIMENSIONS.items():
        latest = ", ".join(
            f"arg_max({a}, _row) FILTER (WHERE {a} IS NOT NULL) AS {a}" for a in attrs
        )
        extra = ""
        if table == "dim_store":
            tz = ctx.config.source_timezone(ctx.source)
            cases = " ".join(
                f"WHEN {_sql_key(s)} THEN {_sql_key(z)}"
                for s, z in ctx.source.store_timezones.items()
            )
            extra = (
                f", CASE {key} {cases} ELSE {_sql_key(tz)} END AS timezone"
                if cases
                else f", {_sql_key(tz)} AS timezone"
            )
        staging.execute(
            f"CREATE TEMP TABLE _{table}_t AS SELECT {key}, {latest}{extra}, min(sale_date) AS first_sold, "
            f"max(sale_date) AS last_sold FROM _staged WHERE {loading} AND {key} IS NOT NULL GROUP BY {key} "
            f"ORDER BY {key}"
        )
    staging.execute(
        "CREATE TEMP TABLE _dim_date_t AS SELECT d AS date, year(d) AS year, quarter(d) AS quarter, "
        "month(d) AS month, CAST(date_trunc('month', d) AS DATE) AS month_start, week(d) AS week, "
        "day(d) AS day_of_month, isodow(d) AS day_of_week, dayname(d) AS day_name, isodow(d) >= 6 AS is_weekend "
        "FROM (SELECT CAST(unnest(generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY)) "
        "AS DATE) AS d) WHERE d IS NOT NULL",
        [first_day, last_day],
    )
    _stage_quarantine(staging, ctx, raw, compiled, file_id, invalid, dups)


def _merge_side_tables(wh: Warehouse, source: str) -> None:
    con = wh.con
    for table, (key, attrs) in DIMENSIONS.items():
        cols = [(key, "VARCHAR"), *((a, "VARCHAR") for a in attrs)]
        if table == "dim_store":
            cols.append(("timezone", "VARCHAR"))
        cols += [("first_sold", "DATE"), ("last_sold", "DATE")]
        transfer(wh, f"SELECT * FROM _{table}_t", f"_{table}_w", cols)
        names = [c for c, _ in cols]
        sets = ", ".join(f"{a} = coalesce(excluded.{a}, {table}.{a})" for a in attrs) + (
            ", timezone = excluded.timezone" if table == "dim_store" else ""
        )
        con.execute(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _{table}_w "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}, "
            f"first_sold = least(excluded.first_sold, {table}.first_sold), "
            f"last_sold = greatest(excluded.last_sold, {table}.last_sold)"
        )
        if table == "dim_store":
            con.execute(
                "INSERT INTO store_zones SELECT ?, store_id, timezone FROM _dim_store_w "
                "ON CONFLICT (source, store_id) DO UPDATE SET timezone = excluded.timezone",
                [source],
            )
    transfer(wh, "SELECT * FROM _dim_date_t", "_dim_date_w", DIM_DATE_COLUMNS)
    con.execute("INSERT INTO dim_date SELECT * FROM _dim_date_w ON CONFLICT DO NOTHING")
    transfer(wh, "SELECT * FROM _qrows", "_qrows_w", QUARANTINE_COLUMNS)
    con.execute("INSERT INTO quarantine SELECT * FROM _qrows_w")


def _stage_quarantine(
    staging: duckdb.DuckDBPyConnection,
    ctx: LoadContext,
    raw: RawFile,
    compiled: CompiledContract,
    file_id: int,
    invalid: int,
    dups: int,
) -> None:
    """`_qrows`: the file's quarantined rows with their raw values, line and reasons."""
    now = datetime.now(UTC)
    staging.execute(
        "CREATE TEMP TABLE _qrows (" + ", ".join(f"{n} {t}" for n, t in QUARANTINE_COLUMNS) + ")"
    )
    parts = []
    if invalid:
        # Invalid rows carry their raw values from staging (no second read of the file).
        parts.append(
            f"SELECT _row, {compiled.reason_sql()} AS reasons, raw_values AS raw "
            "FROM _staged WHERE mask <> 0"
        )
    if dups:
        # Duplicates are valid rows: their raw values come from the raw view.
        raw_struct = ", ".join(f"{_sql_key(c)}: r.{quote_ident(c)}" for c in raw.columns)
        parts.append(
            f"SELECT _row, ['{DUPLICATE_KEY}'] AS reasons, to_json({{{raw_struct}}}) AS raw "
            f"FROM _dups JOIN {raw.view} r USING (_row)"
        )
    if parts:
        rows_sql = " UNION ALL ".join(parts)
        if raw.line_map is None and not raw.rejects:
            # Data row n is on line n + header: no round trip of the row numbers.
            numbered = f"SELECT *, _row + {raw.header_lines} AS line FROM ({rows_sql})"
        else:
            rows = [int(r[0]) for r in staging.execute(f"SELECT _row FROM ({rows_sql})").fetchall()]
            staging.execute(
                "CREATE TEMP TABLE _qline_numbers AS "
                "SELECT unnest(CAST(? AS BIGINT[])) AS _row, unnest(CAST(? AS BIGINT[])) AS line",
                [rows, raw.lines_of(rows)],
            )
            numbered = f"SELECT * FROM ({rows_sql}) JOIN _qline_numbers USING (_row)"
        staging.execute(
            "INSERT INTO _qrows SELECT ?, ?, q._row, q.line, q.reasons, q.raw, 'open', NULL, ? "
            f"FROM ({numbered}) q",
            [file_id, ctx.source.name, now],
        )
    if raw.rejects:
        staging.execute(
            "INSERT INTO _qrows SELECT ?, ?, NULL, unnest(CAST(? AS BIGINT[])), "
            f"['{MALFORMED}'], CAST(unnest(CAST(? AS VARCHAR[])) AS JSON), 'open', NULL, ?",
            [
                file_id,
                ctx.source.name,
                [r.line for r in raw.rejects],
                [json.dumps({"_line": r.text, "_error": r.message}) for r in raw.rejects],
                now,
            ],
        )


def _sql_key(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def record_file(
    wh: Warehouse,
    ctx: LoadContext,
    uri: str,
    name: str,
    size: int,
    content_hash: str,
    fingerprint: str,
    result: FileResult,
    columns: list[str],
) -> None:
    finished = datetime.now(UTC)
    wh.con.execute(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.file_id,
            ctx.run_id,
            ctx.source.name,
            uri,
            name,
            content_hash,
            size,
            fingerprint,
            result.status,
            result.rows_in,
            result.rows_loaded,
            result.rows_updated,
            result.rows_quarantined,
            result.rows_duplicate,
            json.dumps(result.reasons),
            json.dumps(columns),
            json.dumps(result.unused_columns),
            result.error,
            result.min_date,
            result.max_date,
            finished - timedelta(seconds=result.seconds),
            finished,
            result.seconds,
        ],
    )
