"""The step after every load: refresh the marts, then run the data tests on what changed.

Also the runs of `salespipe marts refresh` and `salespipe check`, recorded in `runs`
like loads so their test results are found by run id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb

from salespipe.ingest.results import FileResult
from salespipe.marts.errors import MartError
from salespipe.marts.refresh import RefreshReport, refresh_marts
from salespipe.quality.model import CheckReport, CheckResult
from salespipe.quality.runner import run_checks, store_report


@dataclass
class AfterLoad:
    refresh: RefreshReport | None  # None when the refresh failed (see checks)
    checks: CheckReport | None  # None when nothing changed


def refresh_and_check(
    con: duckdb.DuckDBPyConnection, run_id: str, file_ids: list[int]
) -> AfterLoad:
    """Refresh the marts incrementally; test the fact lines of `file_ids` and every mart.

    A mart that fails to refresh does not undo the loads (they are committed): it is
    reported as a failed check of the run, and its keys stay dirty for the next refresh.
    """
    try:
        refresh = refresh_marts(con, run_id=run_id)
    except MartError as exc:
        failed = CheckResult("marts: refresh", "refresh", "marts", "error", message=str(exc))
        report = CheckReport(run_id=run_id, results=[failed])
        store_report(con, report)
        return AfterLoad(None, report)
    checks = (
        run_checks(con, run_id=run_id, file_ids=file_ids) if refresh.changed or file_ids else None
    )
    return AfterLoad(refresh, checks)


def loaded_file_ids(results: list[FileResult]) -> list[int]:
    """The files of a run whose lines reached the fact table."""
    return [r.file_id for r in results if r.status == "loaded" and r.file_id is not None]


def _start_run(con: duckdb.DuckDBPyConnection, command: str) -> str:
    from salespipe.ingest.run import new_run_id

    run_id = new_run_id()
    con.execute(
        "INSERT INTO runs (run_id, command, started_at, status) VALUES (?, ?, now(), 'running')",
        [run_id, command],
    )
    return run_id


def _finish_run(con: duckdb.DuckDBPyConnection, run_id: str, ok: bool, seconds: float) -> None:
    con.execute(
        "UPDATE runs SET finished_at = now(), status = ?, files = 0, seconds = ? WHERE run_id = ?",
        ["ok" if ok else "failed", seconds, run_id],
    )


def refresh_run(
    con: duckdb.DuckDBPyConnection, *, full: bool = False
) -> tuple[RefreshReport, CheckReport]:
    """`salespipe marts refresh`: refresh (incrementally, or everything), then test everything."""
    started = time.perf_counter()
    run_id = _start_run(con, "refresh")
    refresh = refresh_marts(con, full=full, run_id=run_id)
    checks = run_checks(con, run_id=run_id)
    _finish_run(con, run_id, checks.ok, time.perf_counter() - started)
    return refresh, checks


def check_run(con: duckdb.DuckDBPyConnection) -> CheckReport:
    """`salespipe check`: every data test over the whole warehouse."""
    started = time.perf_counter()
    run_id = _start_run(con, "check")
    checks = run_checks(con, run_id=run_id)
    _finish_run(con, run_id, checks.ok, time.perf_counter() - started)
    return checks
