"""Hands-off ingestion: watched folders, polled S3 prefixes, Kafka events and cron schedules.

Every trigger ends in `run_files`, so the ledger keeps each file's load exactly once
whatever fired it, however often. How a trigger's run reaches the warehouse is a hook
(`RunFiles`): `salespipe watch` opens the warehouse per run, `salespipe serve --watch`
hands the run to the server, the warehouse's only writer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from salespipe.config.model import Config, Source
from salespipe.ingest.results import RunResult
from salespipe.landing import LandedFile

# One load at a time per process: watcher, event consumer and schedules share it.
RUN_LOCK = threading.Lock()

Work = list[tuple[Source, LandedFile]]
RunFiles = Callable[[Work, str], RunResult]
"""Load these files as one run, recorded with this command name (watch, kafka)."""
RunHook = Callable[[RunResult], None]


def run_in_process(config: Config) -> RunFiles:
    """Runs that open the warehouse themselves, one at a time in this process."""

    def run(work: Work, command: str) -> RunResult:
        from salespipe.ingest.run import run_files

        with RUN_LOCK:
            return run_files(config, work, command=command)

    return run
