"""Reference files (lookups) and FX rates, read once per run and joined by the contract."""

from __future__ import annotations

from pathlib import Path

import duckdb

from salespipe.config.model import Config, Lookup, Source
from salespipe.contract.compile import LookupView, quote_ident
from salespipe.errors import ContractError
from salespipe.ingest.readers import detect_format, open_raw
from salespipe.warehouse.sql import first_row


def prepare_lookups(
    con: duckdb.DuckDBPyConnection, config: Config, source: Source, raw_columns: list[str]
) -> list[LookupView]:
    """Materialise the source's lookups as temp tables, checking keys and column clashes."""
    views: list[LookupView] = []
    present = {c.lower() for c in raw_columns}
    for i, lookup in enumerate(source.lookups):
        path = config.resolve(lookup.file)
        where = f"sources.{source.name}.lookups[{i}]"
        if not path.is_file():
            raise ContractError(
                f"lookup file {path} not found",
                key=where,
                hint="fix `file:` (paths are relative to salespipe.yaml)",
            )
        view = f"_lookup_{source.name.replace('-', '_')}_{i}"
        raw = open_raw(
            con, path, detect_format(str(path), lookup.format), lookup.options, view=f"{view}_src"
        )
        left, right = _on(lookup)
        ref_cols = {c.lower(): c for c in raw.columns}
        for r in right:
            if r.lower() not in ref_cols:
                raise ContractError(
                    f"lookup file {path.name} has no column '{r}'",
                    key=where,
                    hint="columns: " + ", ".join(raw.columns),
                )
        for col in left:
            if col.lower() not in present:
                raise ContractError(
                    f"lookup joins on '{col}', which the rows do not have",
                    key=where,
                    hint="columns so far: " + ", ".join(sorted(present)),
                )
        right_lower = {r.lower() for r in right}
        src_cols = [c for c in raw.columns if c.lower() not in right_lower]
        dst_cols = [lookup.prefix + c for c in src_cols]
        for dst in dst_cols:
            if dst.lower() in present:
                raise ContractError(
                    f"lookup file {path.name} adds column '{dst}', which already exists",
                    key=where,
                    hint="set `prefix:` on the lookup to keep both",
                )
        keys = ", ".join(quote_ident(ref_cols[r.lower()]) for r in right)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT * EXCLUDE (_row) FROM {raw.view}"
        )
        dup = first_row(
            con.execute(
                f"SELECT {keys}, count(*) AS n FROM {view} GROUP BY ALL HAVING count(*) > 1 LIMIT 1"
            )
        )
        if dup is not None:
            raise ContractError(
                f"lookup file {path.name} repeats the key {dup[:-1]!r} ({dup[-1]} times); each key must appear once",
                key=where,
                hint="deduplicate the reference file",
            )
        views.append(
            LookupView(
                view=view,
                file=str(path),
                left=tuple(left),
                right=tuple(ref_cols[r.lower()] for r in right),
                columns=tuple(dst_cols),
                source_columns=tuple(src_cols),
            )
        )
        present.update(d.lower() for d in dst_cols)
    return views


def _on(lookup: Lookup) -> tuple[list[str], list[str]]:
    if isinstance(lookup.on, str):
        return [lookup.on], [lookup.on]
    if isinstance(lookup.on, list):
        return list(lookup.on), list(lookup.on)
    return list(lookup.on.keys()), list(lookup.on.values())


def prepare_rates(con: duckdb.DuckDBPyConnection, config: Config) -> str | None:
    """Load the FX rates file as `_fx_rates(date, currency, rate)`; None when not configured."""
    if config.rates is None:
        return None
    path = Path(config.resolve(config.rates))
    if not path.is_file():
        raise ContractError(f"rates file {path} not found", key="rates")
    from salespipe.config.model import ReadOptions

    raw = open_raw(con, path, detect_format(str(path), None), ReadOptions(), view="_fx_src")
    cols = {c.lower(): c for c in raw.columns}
    for needed in ("date", "currency", "rate"):
        if needed not in cols:
            raise ContractError(
                f"rates file {path.name} needs a '{needed}' column",
                key="rates",
                hint="columns: date, currency, rate (units of reporting currency per unit)",
            )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _fx_rates AS SELECT TRY_CAST({quote_ident(cols['date'])} AS DATE) AS date, "
        f"upper(trim({quote_ident(cols['currency'])})) AS currency, "
        f"TRY_CAST({quote_ident(cols['rate'])} AS DECIMAL(18,8)) AS rate FROM {raw.view}"
    )
    bad = first_row(
        con.execute(
            "SELECT count(*) FILTER (WHERE date IS NULL OR rate IS NULL OR rate <= 0), "
            "count(*) - count(DISTINCT (date, currency)) FROM _fx_rates"
        )
    )
    assert bad is not None
    if bad[0] or bad[1]:
        raise ContractError(
            f"rates file {path.name}: {bad[0]} rows with a bad date or rate, {bad[1]} repeated (date, currency)",
            key="rates",
            hint="one positive rate per date and currency",
        )
    return "_fx_rates"
