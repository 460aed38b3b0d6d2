"""Runs submitted to the server: one at a time, in a worker thread with its own cursor.

The server is the warehouse's only writer, so `POST /api/v1/runs`, the CLI's
delegated `salespipe run` and the triggers of `serve --watch` (watcher, Kafka events,
schedules) all come through here and take turns on one writer lock. After every commit
the snapshot tracker is refreshed, so readers move to the new state at once. (On
PostgreSQL other processes write too; the server's runs still take turns here.)
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from salespipe.api.engines import serving_engine
from salespipe.api.errors import InternalError, InvalidParameter, RunInProgress
from salespipe.config.model import Config
from salespipe.errors import SalespipeError, UsageError
from salespipe.ingest.results import RunResult
from salespipe.triggers import Work
from salespipe.warehouse import Warehouse

log = logging.getLogger("salespipe.api")

JobState = Literal["running", "ok", "failed", "error"]
RunCommand = Literal["run", "replay"]  # load landed files, or replay the quarantine
KEEP_JOBS = 100


@dataclass
class RunJob:
    job_id: str
    source: str | None
    command: RunCommand = "run"
    state: JobState = "running"
    submitted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    exit_code: int | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "source": self.source,
            "command": self.command,
            "state": self.state,
            "submitted_at": self.submitted_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "exit_code": self.exit_code,
            "result": self.result,
            "error": self.error,
        }


class RunJobs:
    """Starts runs in a worker thread, refusing a second one while the first runs."""

    def __init__(
        self,
        warehouse: Warehouse,
        load_config: Callable[[], Config],
        on_commit: Callable[[], None],
    ) -> None:
        self.warehouse = warehouse
        self.load_config = load_config
        self.on_commit = on_commit
        self._lock = threading.Lock()
        # Held for every write: a job waits for a trigger's load to commit, and vice versa.
        self._writer = threading.Lock()
        self._jobs: OrderedDict[str, RunJob] = OrderedDict()
        self._thread: threading.Thread | None = None
        self.running: RunJob | None = None
        self.last_finished: RunJob | None = None

    def submit(self, source: str | None, command: RunCommand = "run") -> RunJob:
        config = self.load_config()  # the current salespipe.yaml: new sources need no restart
        if source is not None:
            try:
                config.source(source)
            except UsageError as exc:
                raise InvalidParameter(exc.message, field="source", hint=exc.hint) from None
        with self._lock:
            if self.running is not None:
                raise RunInProgress(
                    f"run job {self.running.job_id} is in progress",
                    hint="wait for it: GET /api/v1/runs/jobs/" + self.running.job_id,
                )
            job = RunJob(job_id=uuid.uuid4().hex[:12], source=source, command=command)
            self.running = job
            self._jobs[job.job_id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
            self._thread = threading.Thread(
                target=self._work, args=(job, config), name=f"salespipe-run-{job.job_id}"
            )
            self._thread.start()
        return job

    def get(self, job_id: str) -> RunJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    @contextmanager
    def writer(self) -> Iterator[Warehouse]:
        """The warehouse for one writer at a time, on a cursor (DuckDB) or connection
        (PostgreSQL) of its own; readers move to what it committed as soon as it is
        handed back."""
        with self._writer:
            try:
                with serving_engine(self.warehouse).writer() as wh:
                    yield wh
            finally:
                self.on_commit()

    def _progress(self, *_: object) -> None:
        # Called between files, after the previous file's commit, and after the last one
        # (before the marts): a KPI read shows the new lines without waiting for them.
        self.on_commit()

    def run_files(self, config: Config, work: Work, command: str) -> RunResult:
        """Load files a trigger found (watcher, Kafka event) as one run, in the caller's
        thread: waits while another run writes."""
        from salespipe.ingest.run import run_files

        with self.writer() as wh:
            started = time.perf_counter()
            result = run_files(config, work, progress=self._progress, warehouse=wh, command=command)
        log.info(
            "%s run %s %s: %d file(s) in %.2fs",
            command,
            result.run_id,
            "ok" if result.ok else "failed",
            len(result.files),
            time.perf_counter() - started,
        )
        return result

    def _work(self, job: RunJob, config: Config) -> None:
        from salespipe.ingest.replay import replay_quarantine
        from salespipe.ingest.run import run_pipeline
        from salespipe.quality import stored_report

        started = time.perf_counter()
        try:
            with self.writer() as wh:
                if job.command == "replay":
                    result = replay_quarantine(config, job.source, warehouse=wh)
                else:
                    result = run_pipeline(config, job.source, progress=self._progress, warehouse=wh)
                # the data tests the run stored, as `salespipe run --json` prints them
                report = stored_report(wh.con, result.run_id)
            job.result = result.to_dict()
            job.result["checks"] = report.to_dict() if report else None
            failed = not result.ok or (
                report is not None and report.to_dict().get("status") == "fail"
            )
            job.state = "failed" if failed else "ok"
            job.exit_code = 1 if failed else 0
        except SalespipeError as exc:
            job.state, job.error, job.exit_code = "error", exc.to_dict(), exc.exit_code
        except Exception as exc:
            log.exception("run job %s failed", job.job_id, exc_info=exc)
            job.state, job.exit_code = "error", 1
            job.error = InternalError(
                f"the run failed unexpectedly: {type(exc).__name__}: {exc}",
                hint="the server log has the traceback; loads are atomic, run again",
            ).to_dict()
        finally:
            job.finished_at = datetime.now(UTC)
            log.info("run job %s %s in %.2fs", job.job_id, job.state, time.perf_counter() - started)
            with self._lock:
                self.running = None
                self.last_finished = job
            job.done.set()

    def wait_idle(self) -> None:
        """Let a running load finish (used at shutdown: loads are atomic either way)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            log.warning("waiting for the running load to finish (kill -9 is safe too)")
            thread.join()
