"""Replay quarantined rows through the current contract, loading those that now pass.

A replay is recorded as one ledger entry per source. It runs in one transaction that
also marks the loaded rows `replayed`, so replaying twice loads nothing twice.
"""

from __future__ import annotations

import json
import time

from salespipe.config.model import Config
from salespipe.contract.canonical import DUPLICATE_KEY
from salespipe.contract.compile import quote_ident
from salespipe.errors import SalespipeError
from salespipe.ingest.load import (
    MALFORMED,
    LoadContext,
    _drop_temps,
    _merge,
    _record_file,
    stage_raw,
)
from salespipe.ingest.lookups import prepare_rates
from salespipe.ingest.readers import RawFile
from salespipe.ingest.results import FileResult, RunResult
from salespipe.ingest.run import new_run_id
from salespipe.landing.files import LandedFile
from salespipe.warehouse import open_warehouse
from salespipe.warehouse.sql import first_row

# Rows quarantined only as duplicates, or as unparseable lines, are not fixed by a contract.
REPLAYABLE = (
    f"state = 'open' AND row_number IS NOT NULL AND NOT list_contains(reasons, '{MALFORMED}') "
    f"AND reasons <> ['{DUPLICATE_KEY}']"
)


def replay_quarantine(config: Config, source_name: str | None = None) -> RunResult:
    sources = [config.source(source_name)] if source_name else list(config.sources)
    run_id = new_run_id()
    started = time.perf_counter()
    results: list[FileResult] = []
    with open_warehouse(config) as wh:
        con = wh.con
        con.execute(
            "INSERT INTO runs (run_id, command, started_at, status) VALUES (?, 'replay', now(), 'running')",
            [run_id],
        )
        rates = prepare_rates(con, config)
        for source in sources:
            count = first_row(
                con.execute(
                    f"SELECT count(*) FROM quarantine WHERE source = ? AND {REPLAYABLE}",
                    [source.name],
                )
            )
            if not count or not count[0]:
                continue
            ctx = LoadContext(config=config, source=source, run_id=run_id, rates_view=rates)
            uri = f"replay:{source.name}:{run_id}"
            landed = LandedFile(
                uri=uri, path=config.base_dir, name=f"quarantine replay {run_id}", size=0
            )
            result = FileResult(uri=uri, source=source.name, status="loaded")
            t0 = time.perf_counter()
            file_id = int(first_row(con.execute("SELECT nextval('file_id_seq')"))[0])  # type: ignore[index]
            result.file_id = file_id
            con.execute("BEGIN TRANSACTION")
            raw: RawFile | None = None
            try:
                raw = _replay_view(con, source.name)
                compiled = stage_raw(con, ctx, raw, uri)
                _merge(con, ctx, raw, compiled, file_id, result)
                _settle(con, file_id)
                result.unused_columns = list(compiled.unused_columns)
                result.seconds = time.perf_counter() - t0
                _record_file(con, ctx, landed, uri, compiled.fingerprint, result, raw.columns)
                con.execute("COMMIT")
            except SalespipeError as exc:
                con.execute("ROLLBACK")
                result.status, result.error, result.hint = "rejected", exc.message, exc.hint
                result.rows_in = result.rows_loaded = result.rows_updated = 0
                result.rows_quarantined = result.rows_duplicate = 0
                result.reasons = {}
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                _drop_temps(con, raw)
                con.execute("DROP TABLE IF EXISTS _replay_map")
            results.append(result)
        run = RunResult(run_id=run_id, files=results, seconds=time.perf_counter() - started)
        con.execute(
            "UPDATE runs SET finished_at = now(), status = ?, files = ?, seconds = ? WHERE run_id = ?",
            ["ok" if run.ok else "failed", len(results), run.seconds, run_id],
        )
    return run


def _replay_view(con: object, source: str) -> RawFile:
    import duckdb

    assert isinstance(con, duckdb.DuckDBPyConnection)
    con.execute(
        "CREATE TEMP TABLE _replay_map AS SELECT row_number() OVER (ORDER BY file_id, row_number) AS _row, "
        f"file_id, row_number AS orig_row, line, raw FROM quarantine WHERE source = ? AND {REPLAYABLE}",
        [source],
    )
    keys: list[str] = []
    for (raw,) in con.execute("SELECT DISTINCT raw FROM _replay_map").fetchall():
        for k in json.loads(raw):
            if k not in keys:
                keys.append(k)
    cols = ", ".join(f"json_extract_string(raw, {_path(k)}) AS {quote_ident(k)}" for k in keys)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _raw AS SELECT _row, {cols} FROM _replay_map")
    lines = {
        int(r): int(line)
        for r, line in con.execute("SELECT _row, line FROM _replay_map").fetchall()
    }
    raw_file = RawFile(view="_raw", columns=keys)
    raw_file.line_of = lambda row: lines.get(row, 0)  # type: ignore[method-assign]
    return raw_file


def _path(key: str) -> str:
    return "'$." + json.dumps(key).replace("'", "''") + "'"


def _settle(con: object, file_id: int) -> None:
    """Mark rows that passed as replayed; rows that still fail keep their original entry."""
    import duckdb

    assert isinstance(con, duckdb.DuckDBPyConnection)
    con.execute(
        "UPDATE quarantine SET state = 'replayed', replay_file_id = ? FROM _replay_map m "
        "WHERE quarantine.file_id = m.file_id AND quarantine.row_number = m.orig_row "
        "AND m._row NOT IN (SELECT row_number FROM quarantine WHERE file_id = ?)",
        [file_id, file_id],
    )
    con.execute(
        "UPDATE quarantine SET reasons = n.reasons FROM _replay_map m JOIN quarantine n "
        "ON n.file_id = ? AND n.row_number = m._row "
        "WHERE quarantine.file_id = m.file_id AND quarantine.row_number = m.orig_row",
        [file_id],
    )
    con.execute("DELETE FROM quarantine WHERE file_id = ?", [file_id])
