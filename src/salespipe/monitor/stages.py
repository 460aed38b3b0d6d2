"""Stage timings of every run (table run_stages): load, marts, checks from what those
stages record, monitor and alerts as they happen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from salespipe.monitor.ledger_checks import has_table

# The stages in the order a run goes through them (the order `run_stages` lists them in).
STAGES = ("load", "marts", "checks", "monitor", "alerts")


def record_stage(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    stage: str,
    seconds: float,
    rows: int | None,
    now: datetime,
    status: str = "ok",
    detail: str | None = None,
) -> None:
    con.execute(
        "INSERT INTO run_stages VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run_id, stage, seconds, rows, status, detail, now],
    )


def record_load_stages(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """The stages before the monitor, from the ledger, the marts' log and the test results."""
    files = con.execute(
        "SELECT count(*), sum(seconds), sum(rows_in), "
        "count(*) FILTER (WHERE status IN ('failed', 'rejected')) FROM files WHERE run_id = ?",
        [run_id],
    ).fetchall()[0]
    if files[0]:
        bad = int(files[3] or 0)
        record_stage(
            con,
            run_id,
            "load",
            float(files[1] or 0.0),
            int(files[2] or 0),
            now,
            "failed" if bad else "ok",
            f"{files[0]} file(s), {bad} not loaded",
        )
    if has_table(con, "mart_refresh_log"):
        marts = con.execute(
            "SELECT count(*), sum(seconds), sum(rows) FROM mart_refresh_log WHERE run_id = ?",
            [run_id],
        ).fetchall()[0]
        if marts[0]:
            record_stage(
                con,
                run_id,
                "marts",
                float(marts[1] or 0.0),
                int(marts[2] or 0),
                now,
                detail=f"{marts[0]} mart(s) refreshed",
            )
    if has_table(con, "check_results"):
        checks = con.execute(
            "SELECT count(*), sum(seconds), count(*) FILTER (WHERE status IN ('fail', 'error')) "
            "FROM check_results WHERE run_id = ?",
            [run_id],
        ).fetchall()[0]
        if checks[0]:
            failed = int(checks[2] or 0)
            record_stage(
                con,
                run_id,
                "checks",
                float(checks[1] or 0.0),
                int(checks[0]),
                now,
                "failed" if failed else "ok",
                f"{checks[0]} test(s), {failed} failed",
            )


def run_stages(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict[str, Any]]:
    if not has_table(con, "run_stages"):
        return []
    # Stages recorded at one moment are listed in the flow's order.
    flow = " ".join(f"WHEN '{stage}' THEN {i}" for i, stage in enumerate(STAGES))
    cursor = con.execute(
        "SELECT stage, seconds, rows, status, detail FROM run_stages WHERE run_id = ? "
        f"ORDER BY recorded_at, CASE stage {flow} ELSE {len(STAGES)} END",
        [run_id],
    )
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> list[dict[str, Any]]:
    """The newest runs with their stages (`salespipe monitor runs`)."""
    cursor = con.execute(
        "SELECT run_id, command, status, started_at, seconds, files, rows_in FROM runs "
        "ORDER BY started_at DESC LIMIT ?",
        [limit],
    )
    names = [d[0] for d in cursor.description or []]
    runs = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    for run in runs:
        run["stages"] = run_stages(con, str(run["run_id"]))
    return runs
