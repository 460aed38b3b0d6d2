"""Replay quarantined rows through the current contract, loading those that now pass.

A replay is recorded as one ledger entry per source. It runs in one transaction that
also marks the loaded rows `replayed`, so replaying twice loads nothing twice.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time

from salespipe.config.model import Config
from salespipe.contract.canonical import DUPLICATE_KEY
from salespipe.contract.compile import quote_ident
from salespipe.errors import SalespipeError
from salespipe.ingest.load import (
    MALFORMED,
    LoadContext,
    cleanup,
    merge_staged,
    next_file_id,
    record_file,
    stage_raw,
)
from salespipe.ingest.lookups import prepare_rates
from salespipe.ingest.readers import RawFile
from salespipe.ingest.results import FileResult, RunResult
from salespipe.ingest.run import new_run_id
from salespipe.ingest.transfer import transfer
from salespipe.quality import loaded_file_ids, refresh_and_check
from salespipe.warehouse import Warehouse, open_warehouse
from salespipe.warehouse.sql import first_row

# Rows quarantined only as duplicates, or as unparseable lines, are not fixed by a contract.
REPLAYABLE = (
    f"state = 'open' AND row_number IS NOT NULL AND NOT list_contains(reasons, '{MALFORMED}') "
    f"AND reasons <> ['{DUPLICATE_KEY}']"
)


def replay_quarantine(
    config: Config, source_name: str | None = None, warehouse: Warehouse | None = None
) -> RunResult:
    """Replay the open quarantined rows of a source (or all) through the current contract;
    on `warehouse` when given (a server's writer), else opening the configured one."""
    sources = [config.source(source_name)] if source_name else list(config.sources)
    run_id = new_run_id()
    started = time.perf_counter()
    results: list[FileResult] = []
    opened = contextlib.nullcontext(warehouse) if warehouse else open_warehouse(config)
    with opened as wh:
        con = wh.con
        con.execute(
            "INSERT INTO runs (run_id, command, started_at, status) VALUES (?, 'replay', now(), 'running')",
            [run_id],
        )
        rates = prepare_rates(wh.staging, config)
        for source in sources:
            count = first_row(
                con.execute(
                    f"SELECT count(*) FROM quarantine WHERE source = ? AND {REPLAYABLE}",
                    [source.name],
                )
            )
            if not count or not count[0]:
                continue
            ctx = LoadContext.on(wh, config, source, run_id, rates)
            uri = f"replay:{source.name}:{run_id}"
            result = FileResult(uri=uri, source=source.name, status="loaded")
            t0 = time.perf_counter()
            result.file_id = file_id = next_file_id(con)
            raw: RawFile | None = None
            try:
                raw = _replay_view(wh, source.name)
                compiled = stage_raw(wh.staging, ctx, raw, uri)
                columns = raw.columns

                finish = functools.partial(
                    _settle_and_record,
                    wh,
                    ctx,
                    file_id,
                    result,
                    t0,
                    uri,
                    run_id,
                    compiled.fingerprint,
                    columns,
                )
                merge_staged(wh, ctx, raw, compiled, file_id, result, finish)
            except _NothingPasses:
                # Nothing to record: the rows keep their entries, the ledger no second one.
                con.execute("ROLLBACK")
                still = ", ".join(f"{k}: {v}" for k, v in sorted(result.reasons.items()))
                result.status, result.file_id = "skipped", None
                result.error = (
                    f"no quarantined row passes the contract yet ({result.rows_in} still fail: "
                    f"{still})"
                )
                result.hint = "fix the contract (or the rules), then replay again"
            except SalespipeError as exc:
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                result.status, result.error, result.hint = "rejected", exc.message, exc.hint
                result.rows_in = result.rows_loaded = result.rows_updated = 0
                result.rows_quarantined = result.rows_duplicate = 0
                result.reasons = {}
            except BaseException:
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                raise
            finally:
                cleanup(wh, raw)
                wh.staging.execute("DROP TABLE IF EXISTS _replay_map")
            if result.status == "loaded" and result.rows_updated:
                # A replayed row whose key is already loaded replaced that row: right for a
                # late correction, wrong when the key is positional (row_number() over a
                # ticket gives a replayed row line 1 again). Said, so it can be checked.
                result.hint = (
                    f"{result.rows_updated} replayed row(s) replaced loaded rows with the same "
                    "key; if the key is computed (row_number(), positions), it may have named "
                    "another sale: see docs/contracts.md (row identity)"
                )
            results.append(result)
        refresh_and_check(con, run_id, loaded_file_ids(results))
        run = RunResult(run_id=run_id, files=results, seconds=time.perf_counter() - started)
        con.execute(
            "UPDATE runs SET finished_at = now(), status = ?, files = ?, seconds = ? WHERE run_id = ?",
            ["ok" if run.ok else "failed", len(results), run.seconds, run_id],
        )
    return run


def _settle_and_record(
    wh: Warehouse,
    ctx: LoadContext,
    file_id: int,
    result: FileResult,
    t0: float,
    uri: str,
    run_id: str,
    fingerprint: str,
    columns: list[str],
) -> None:
    """Inside the replay's transaction: settle the quarantine, then write the ledger row."""
    if not (result.rows_loaded or result.rows_updated or result.rows_duplicate):
        raise _NothingPasses
    _settle(wh, file_id)
    result.seconds = time.perf_counter() - t0
    record_file(wh, ctx, uri, f"quarantine replay {run_id}", 0, uri, fingerprint, result, columns)


class _NothingPasses(Exception):
    """Every replayed row still fails: the replay's transaction is rolled back."""


def _replay_view(wh: Warehouse, source: str) -> RawFile:
    """The replayable rows of a source as a raw view in staging, numbered from 1."""
    import pyarrow as pa

    rows = wh.con.execute(
        f"SELECT file_id, row_number, line, raw FROM quarantine WHERE source = ? AND {REPLAYABLE} "
        "ORDER BY file_id, row_number",
        [source],
    ).fetchall()
    table = pa.table(
        {
            "file_id": pa.array([r[0] for r in rows], pa.int64()),
            "orig_row": pa.array([r[1] for r in rows], pa.int64()),
            "line": pa.array([r[2] for r in rows], pa.int64()),
            "raw": pa.array(
                [r[3] if isinstance(r[3], str) else json.dumps(r[3]) for r in rows], pa.string()
            ),
        }
    )
    staging = wh.staging
    staging.register("_replay_rows", table)
    staging.execute(
        "CREATE OR REPLACE TEMP TABLE _replay_map AS SELECT row_number() OVER () AS _row, * FROM _replay_rows"
    )
    staging.unregister("_replay_rows")
    keys: list[str] = []
    for r in rows:
        for k in json.loads(r[3]) if isinstance(r[3], str) else r[3]:
            if k not in keys:
                keys.append(k)
    cols = ", ".join(f"json_extract_string(raw, {_path(k)}) AS {quote_ident(k)}" for k in keys)
    staging.execute(f"CREATE OR REPLACE TEMP VIEW _raw AS SELECT _row, {cols} FROM _replay_map")
    transfer(
        wh,
        "SELECT _row, file_id, orig_row FROM _replay_map",
        "_replay_map_w",
        [("_row", "BIGINT"), ("file_id", "BIGINT"), ("orig_row", "BIGINT")],
    )
    return RawFile(view="_raw", columns=keys, line_map=[int(r[2] or 0) for r in rows])


def _path(key: str) -> str:
    return "'$." + json.dumps(key).replace("'", "''") + "'"


def _settle(wh: Warehouse, file_id: int) -> None:
    """Mark rows that passed as replayed; rows that still fail keep their original entry."""
    con = wh.con
    con.execute(
        "UPDATE quarantine SET state = 'replayed', replay_file_id = ? FROM _replay_map_w m "
        "WHERE quarantine.file_id = m.file_id AND quarantine.row_number = m.orig_row "
        "AND m._row NOT IN (SELECT row_number FROM quarantine WHERE file_id = ?)",
        [file_id, file_id],
    )
    con.execute(
        "UPDATE quarantine SET reasons = n.reasons FROM _replay_map_w m JOIN quarantine n "
        "ON n.file_id = ? AND n.row_number = m._row "
        "WHERE quarantine.file_id = m.file_id AND quarantine.row_number = m.orig_row",
        [file_id],
    )
    con.execute("DELETE FROM quarantine WHERE file_id = ?", [file_id])
