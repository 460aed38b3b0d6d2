"""Load one landed file: read, map, validate, and merge it in a single transaction.

Every row is accounted for: rows_in = loaded + updated + quarantined + duplicate.
The ledger row, the quarantine rows and the fact rows commit together, so a crash
leaves none or all of the file, and the next run completes the work.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa

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
from salespipe.ingest.readers import RawFile, collect_rejects, detect_format, open_raw
from salespipe.ingest.results import FileResult
from salespipe.landing.files import LandedFile
from salespipe.warehouse import Warehouse
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
TEMP_TABLES = ("_dups", "_match", "_qlines", "_staged_t")


@dataclass
class LoadContext:
    """What a run prepares once and every file of a source reuses."""

    config: Config
    source: Source
    run_id: str
    rates_view: str | None = None


def _drop_temps(con: duckdb.DuckDBPyConnection, raw: RawFile | None) -> None:
    con.execute("DROP VIEW IF EXISTS _staged")
    for table in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    if raw is not None:
        raw.close()


def previously_loaded(
    con: duckdb.DuckDBPyConnection, source: str, content_hash: str
) -> tuple[int, str] | None:
    row = first_row(
        con.execute(
            "SELECT file_id, name FROM files WHERE source = ? AND content_hash = ? AND status = 'loaded' LIMIT 1",
            [source, content_hash],
        )
    )
    return (int(row[0]), str(row[1])) if row else None


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
    )
    try:
        if compiled.numbered:
            con.execute(f"CREATE TEMP TABLE _staged_t AS {compiled.sql}")
            con.execute("CREATE TEMP VIEW _staged AS SELECT * FROM _staged_t")
        else:
            # Insertion order is preserved, so rowid + 1 is the data row of the file.
            con.execute(f"CREATE TEMP TABLE _staged_t AS {compiled.sql}")
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
    return ContractError(
        f"the contract of source '{source.name}' failed on this file: {first}",
        file=uri,
        hint="check the `columns:` expressions and `rules:`; expressions see raw columns as text",
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
    content_hash = content_hash or landed.content_hash()
    result = FileResult(uri=landed.uri, source=source.name, status="loaded")
    if source.name_pattern and not re.fullmatch(source.name_pattern, landed.name):
        result.status = "rejected"
        result.error = f"the file name does not match name_pattern '{source.name_pattern}'"
        result.hint = "rename the file or fix the source's `name_pattern:`"
        result.reasons = {"bad_file_name": 1}
        result.file_id = int(first_row(con.execute("SELECT nextval('file_id_seq')"))[0])  # type: ignore[index]
        _record_file(
            con, ctx, landed, content_hash, contract_fingerprint(source, ctx.config), result, []
        )
        return result
    earlier = previously_loaded(con, source.name, content_hash)
    if earlier is not None:
        result.status = "skipped"
        result.file_id = earlier[0]
        result.error = f"same bytes already loaded as file {earlier[0]} ({earlier[1]})"
        return result
    fingerprint = contract_fingerprint(source, ctx.config)
    file_id = int(first_row(con.execute("SELECT nextval('file_id_seq')"))[0])  # type: ignore[index]
    result.file_id = file_id
    raw: RawFile | None = None
    try:
        # Staging touches only temp tables, so it runs before the transaction: rowids of a
        # table created outside a transaction count rows from 0 in file order.
        raw, compiled = stage_file(con, ctx, landed)
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "DELETE FROM files WHERE source = ? AND content_hash = ? AND status <> 'loaded'",
            [source.name, content_hash],
        )
        _merge(con, ctx, raw, compiled, file_id, result)
        result.unused_columns = list(compiled.unused_columns)
        result.seconds = time.perf_counter() - started
        _record_file(con, ctx, landed, content_hash, fingerprint, result, raw.columns)
        con.execute("COMMIT")
    except SalespipeError as exc:
        _rollback(con)
        _drop_temps(con, raw)
        result.status = "rejected" if isinstance(exc, ContractError | ReadError) else "failed"
        result.rows_in = result.rows_loaded = result.rows_updated = result.rows_quarantined = (
            result.rows_duplicate
        ) = 0
        result.reasons = {}
        if isinstance(exc, ContractError) and exc.message.startswith("missing_column:"):
            result.reasons = {exc.message.split(":", 2)[0] + ":" + (exc.field or ""): 1}
        result.error = exc.message
        result.hint = exc.hint
        result.seconds = time.perf_counter() - started
        _record_file(
            con, ctx, landed, content_hash, fingerprint, result, raw.columns if raw else []
        )
        return result
    except BaseException:
        _rollback(con)
        _drop_temps(con, raw)
        raise
    _drop_temps(con, raw)
    return result


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    # the failure may have come before the transaction began
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def _merge(
    con: duckdb.DuckDBPyConnection,
    ctx: LoadContext,
    raw: RawFile,
    compiled: CompiledContract,
    file_id: int,
    result: FileResult,
) -> None:
    source = ctx.source.name
    counts = first_row(
        con.execute(
            "SELECT count(*), count(*) FILTER (WHERE mask <> 0), min(sale_date) FILTER (WHERE mask = 0), "
            "max(sale_date) FILTER (WHERE mask = 0) FROM _staged"
        )
    )
    assert counts is not None
    staged_rows, invalid = int(counts[0]), int(counts[1])
    result.min_date = str(counts[2]) if counts[2] else None
    result.max_date = str(counts[3]) if counts[3] else None

    # Within one file a repeated key keeps the first valid row.
    con.execute(
        "CREATE TEMP TABLE _dups AS SELECT _row FROM ("
        "  SELECT _row, row_number() OVER (PARTITION BY row_key ORDER BY _row) AS rn FROM _staged"
        "  WHERE mask = 0 AND row_key IN (SELECT row_key FROM _staged WHERE mask = 0 GROUP BY row_key HAVING count(*) > 1)"
        ") WHERE rn > 1"
    )
    dups = int(first_row(con.execute("SELECT count(*) FROM _dups"))[0])  # type: ignore[index]

    # A key already in the warehouse is an upsert: same content = duplicate, changed = update.
    existing = first_row(con.execute("SELECT 1 FROM fact_sales WHERE source = ? LIMIT 1", [source]))
    if existing:
        con.execute(
            "CREATE TEMP TABLE _match AS SELECT s._row, s.row_key, f.row_hash = s.row_hash AS same "
            "FROM _staged s JOIN fact_sales f ON f.source = ? AND f.row_key = s.row_key "
            "WHERE s.mask = 0 AND s._row NOT IN (SELECT _row FROM _dups)",
            [source],
        )
    else:
        con.execute("CREATE TEMP TABLE _match (_row BIGINT, row_key VARCHAR, same BOOLEAN)")
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
    fact_cols = [name for name, _ in FACT_COLUMNS]
    select = ", ".join(
        "?" if name == "source" else "CAST(? AS BIGINT)" if name == "file_id" else f"s.{name}"
        for name in fact_cols
    )
    con.execute(
        f"INSERT INTO fact_sales ({', '.join(fact_cols)}) SELECT {select} FROM _staged s "
        "WHERE s.mask = 0 AND NOT EXISTS (SELECT 1 FROM _dups d WHERE d._row = s._row) "
        "AND NOT EXISTS (SELECT 1 FROM _match m WHERE m._row = s._row AND m.same)",
        [source, file_id],
    )
    con.execute(
        f"INSERT INTO mart_dirty {DIRTY_SELECT} FROM _staged s "
        "WHERE s.mask = 0 AND NOT EXISTS (SELECT 1 FROM _dups d WHERE d._row = s._row) "
        "AND NOT EXISTS (SELECT 1 FROM _match m WHERE m._row = s._row AND m.same) "
        f"GROUP BY {DIRTY_GROUPS}",
        [file_id],
    )
    _upsert_dimensions(con, ctx)
    _quarantine(con, ctx, raw, compiled, file_id, result)

    rejects = len(raw.rejects)
    result.rows_in = staged_rows + rejects
    result.rows_quarantined = invalid + dups + rejects
    result.rows_duplicate = same
    result.rows_updated = changed
    result.rows_loaded = staged_rows - invalid - dups - same - changed
    reasons = dict(
        (str(code), int(n))
        for code, n in con.execute(
            f"SELECT code, count(*) FROM (SELECT unnest({compiled.reason_sql()}) AS code FROM _staged WHERE mask <> 0) "
            "GROUP BY code ORDER BY code"
        ).fetchall()
    )
    if dups:
        reasons[DUPLICATE_KEY] = dups
    if rejects:
        reasons[MALFORMED] = rejects
    result.reasons = reasons


def _upsert_dimensions(con: duckdb.DuckDBPyConnection, ctx: LoadContext) -> None:
    for table, (key, attrs) in DIMENSIONS.items():
        latest = ", ".join(
            f"arg_max({a}, _row) FILTER (WHERE {a} IS NOT NULL) AS {a}" for a in attrs
        )
        extra_cols, extra_sel = "", ""
        if table == "dim_store":
            tz = ctx.config.source_timezone(ctx.source)
            cases = " ".join(
                f"WHEN '{s}' THEN '{z}'" for s, z in ctx.source.store_timezones.items()
            )
            extra_cols = ", timezone"
            extra_sel = f", CASE {key} {cases} ELSE '{tz}' END" if cases else f", '{tz}'"
        sets = ", ".join(f"{a} = coalesce(excluded.{a}, {table}.{a})" for a in attrs)
        con.execute(
            f"INSERT INTO {table} ({key}, {', '.join(attrs)}{extra_cols}, first_sold, last_sold) "
            f"SELECT {key}, {', '.join(attrs)}{extra_sel}, first_sold, last_sold FROM ("
            f"  SELECT {key}, {latest}, min(sale_date) AS first_sold, max(sale_date) AS last_sold "
            f"  FROM _staged WHERE mask = 0 AND {key} IS NOT NULL GROUP BY {key}) "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}{', timezone = excluded.timezone' if extra_cols else ''}, "
            f"first_sold = least(excluded.first_sold, {table}.first_sold), "
            f"last_sold = greatest(excluded.last_sold, {table}.last_sold)"
        )
    con.execute(
        "INSERT INTO dim_date SELECT d, year(d), quarter(d), month(d), date_trunc('month', d), week(d), "
        "day(d), isodow(d), dayname(d), isodow(d) >= 6 FROM ("
        "  SELECT CAST(unnest(generate_series(min(sale_date), max(sale_date), INTERVAL 1 DAY)) AS DATE) AS d "
        "  FROM _staged WHERE mask = 0) WHERE d IS NOT NULL ON CONFLICT DO NOTHING"
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    ctx: LoadContext,
    raw: RawFile,
    compiled: CompiledContract,
    file_id: int,
    result: FileResult,
) -> None:
    raw_struct = "{" + ", ".join(f"{_sql_key(c)}: r.{quote_ident(c)}" for c in raw.columns) + "}"
    con.execute(
        "CREATE TEMP TABLE _qlines AS "
        f"SELECT _row, {compiled.reason_sql()} AS reasons FROM _staged WHERE mask <> 0 "
        f"UNION ALL SELECT _row, ['{DUPLICATE_KEY}'] FROM _dups"
    )
    rows = [int(r[0]) for r in con.execute("SELECT _row FROM _qlines").fetchall()]
    if rows:
        lines = pa.table(
            {
                "_row": pa.array(rows, pa.int64()),
                "line": pa.array([raw.line_of(r) for r in rows], pa.int64()),
            }
        )
        con.register("_qline_numbers", lines)
        con.execute(
            "INSERT INTO quarantine SELECT CAST(? AS BIGINT), ?, q._row, n.line, q.reasons, "
            f"to_json({raw_struct}), 'open', NULL, now() "
            f"FROM _qlines q JOIN {raw.view} r USING (_row) JOIN _qline_numbers n USING (_row)",
            [file_id, ctx.source.name],
        )
        con.unregister("_qline_numbers")
    for rejected in raw.rejects:
        con.execute(
            "INSERT INTO quarantine VALUES (?, ?, NULL, ?, [?], ?, 'open', NULL, now())",
            [
                file_id,
                ctx.source.name,
                rejected.line,
                MALFORMED,
                json.dumps({"_line": rejected.text, "_error": rejected.message}),
            ],
        )


def _sql_key(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _record_file(
    con: duckdb.DuckDBPyConnection,
    ctx: LoadContext,
    landed: LandedFile,
    content_hash: str,
    fingerprint: str,
    result: FileResult,
    columns: list[str],
) -> None:
    con.execute(
        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "now() - to_microseconds(CAST(? * 1000000 AS BIGINT)), now(), ?)",
        [
            result.file_id,
            ctx.run_id,
            ctx.source.name,
            landed.uri,
            landed.name,
            content_hash,
            landed.size,
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
            result.seconds,
            result.seconds,
        ],
    )
