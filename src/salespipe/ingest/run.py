"""A run: discover every source's new files and load each one, oldest name first."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from salespipe.config.model import Config, Source
from salespipe.errors import SalespipeError
from salespipe.ingest.load import LoadContext, load_file
from salespipe.ingest.lookups import prepare_rates
from salespipe.ingest.results import FileResult, RunResult
from salespipe.landing import LandedFile, archive_file, discover_files
from salespipe.monitor import monitor_after_run
from salespipe.quality import loaded_file_ids, refresh_and_check
from salespipe.warehouse import Warehouse, open_warehouse

Progress = Callable[[str, int, int, LandedFile | None], None]


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def run_pipeline(
    config: Config,
    source_name: str | None = None,
    progress: Progress | None = None,
    warehouse: Warehouse | None = None,
    wait: float = 0.0,
) -> RunResult:
    sources: list[Source] = [config.source(source_name)] if source_name else list(config.sources)
    if not sources:
        from salespipe.errors import ConfigError

        raise ConfigError(
            "no sources configured", key="sources", hint="add a source to salespipe.yaml"
        )
    work: list[tuple[Source, LandedFile]] = [
        (s, f) for s in sources for f in discover_files(config, s)
    ]
    return run_files(config, work, progress=progress, warehouse=warehouse, wait=wait)


def run_files(
    config: Config,
    work: list[tuple[Source, LandedFile]],
    progress: Progress | None = None,
    warehouse: Warehouse | None = None,
    command: str = "run",
    wait: float = 0.0,
) -> RunResult:
    """Load the given files, in order, as one run (watchers and event triggers call this)."""
    started = time.perf_counter()
    run_id = new_run_id()
    wh = warehouse or open_warehouse(config, wait=wait)
    results: list[FileResult] = []
    try:
        if wh.single_writer:
            wh.con.execute(
                "UPDATE runs SET status = 'error', finished_at = coalesce(finished_at, now()), "
                "error = 'the process ended before the run finished (killed?); its files are "
                "loaded whole or not at all' WHERE status = 'running'"
            )
        wh.con.execute(
            "INSERT INTO runs (run_id, command, started_at, status) VALUES (?, ?, now(), 'running')",
            [run_id, command],
        )
        rates = prepare_rates(wh.staging, config)
        total = len(work)
        for i, (source, landed) in enumerate(work):
            if progress:
                progress(source.name, i, total, landed)
            ctx = LoadContext.on(wh, config, source, run_id, rates)
            try:
                result = load_file(wh, ctx, landed)
            except FileNotFoundError:
                # Moved or deleted after it was listed: nothing of it loaded (a load is one
                # transaction); the other files of the run go on.
                results.append(
                    FileResult(
                        uri=landed.uri,
                        source=source.name,
                        status="failed",
                        error="the file disappeared before it was loaded (moved or deleted meanwhile)",
                        hint="nothing of it was loaded; land it again to load it",
                    )
                )
                continue
            results.append(result)
            try:
                if result.status in ("loaded", "skipped"):
                    archive_file(config, source, landed, failed=False)
                else:
                    archive_file(config, source, landed, failed=True, report=result.to_dict())
            except OSError as exc:
                result.hint = f"could not archive the file: {exc}"
        if progress:
            progress("", total, total, None)
        # marts -> checks: refresh what the loads touched, test it (results stored per run)
        refresh_and_check(wh.con, run_id, loaded_file_ids(results))
        run = RunResult(run_id=run_id, files=results, seconds=time.perf_counter() - started)
        totals = run.to_dict()["totals"]
        wh.con.execute(
            "UPDATE runs SET finished_at = now(), status = ?, files = ?, rows_in = ?, rows_loaded = ?, "
            "rows_updated = ?, rows_quarantined = ?, rows_duplicate = ?, seconds = ? WHERE run_id = ?",
            [
                "ok" if run.ok else "failed",
                len(results),
                totals["rows_in"],
                totals["rows_loaded"],
                totals["rows_updated"],
                totals["rows_quarantined"],
                totals["rows_duplicate"],
                run.seconds,
                run_id,
            ],
        )
        # monitor -> alerts: anomalies, drift, freshness, runtime; never fails the run
        monitor_after_run(wh.con, config, run_id)
        return run
    except SalespipeError as exc:
        wh.con.execute(
            "UPDATE runs SET finished_at = now(), status = 'error', error = ? WHERE run_id = ?",
            [str(exc), run_id],
        )
        monitor_after_run(wh.con, config, run_id)
        raise
    finally:
        if warehouse is None:
            wh.close()
