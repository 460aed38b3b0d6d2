"""`salespipe serve --watch`: the watcher, the Kafka consumer and the schedules inside the
server. The server owns the warehouse, so their loads go through its writer, one at a
time with the API's runs, and each commit moves the snapshot that readers and caches follow.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from salespipe.api.errors import RunInProgress
from salespipe.api.state import ServerState
from salespipe.ingest.results import RunResult
from salespipe.triggers import Work
from salespipe.triggers.runner import Triggers, WatchOptions
from salespipe.triggers.schedule import Job

log = logging.getLogger("salespipe.triggers")


def log_run(result: RunResult) -> None:
    """One line per file in the server log, as `salespipe watch` prints them."""
    log_files([f.to_dict() for f in result.files])


def log_files(files: list[dict[str, Any]]) -> None:
    for f in files:
        line = (
            f"{f['status']} {f['uri']} in={f['rows_in']:,} loaded={f['rows_loaded']:,} "
            f"updated={f['rows_updated']:,} quarantined={f['rows_quarantined']:,} "
            f"duplicate={f['rows_duplicate']:,}"
        )
        if f["status"] in ("rejected", "failed"):
            log.warning("%s: %s", line, f["error"])
        else:
            log.info("%s", line)


def server_triggers(state: ServerState, options: WatchOptions) -> Triggers:
    """The configured triggers, wired to this server's writer; not started."""
    config = state.config
    jobs = state.jobs

    def run_files(work: Work, command: str) -> RunResult:
        return jobs.run_files(config, work, command)

    def scheduled_run() -> None:
        # The same job as POST /api/v1/runs: it shows as running_job and in the job list.
        try:
            job = jobs.submit(None)
        except RunInProgress:
            log.info("schedule: a run is in progress already; it loads what this one would")
            return
        job.done.wait()
        if job.result is not None:
            log_files(job.result["files"])

    def scheduled_refresh() -> None:
        from salespipe.quality import refresh_run

        with jobs.writer() as wh:
            refresh, checks = refresh_run(wh.con)
        log.info(
            "schedule: marts refreshed in %.2fs; checks %s",
            refresh.seconds,
            checks.to_dict()["status"],
        )

    def scheduled_monitor() -> None:  # freshness needs a clock, not only loads
        from salespipe.monitor.runner import duckdb_connection, monitor_pass

        started = time.perf_counter()
        # On the server's writer: `monitor_now` would open the warehouse, which the server holds.
        with jobs.writer() as wh:
            report = monitor_pass(duckdb_connection(wh.con), state.current_config())
        log.info(
            "schedule: monitor pass in %.2fs, %d open event(s)",
            time.perf_counter() - started,
            report.open_events,
        )

    scheduled: dict[str, Job] = {
        "run": scheduled_run,
        "refresh": scheduled_refresh,
        "monitor": scheduled_monitor,
    }
    return Triggers(
        config,
        run_files=run_files,
        jobs=scheduled,
        on_run=log_run,
        options=options,
    )
