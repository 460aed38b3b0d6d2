"""Start and stop a process's triggers together: the watcher, the Kafka consumer and the
schedules, each in its own thread. `salespipe watch` runs them on their own; `salespipe
serve --watch` runs them inside the server, where every load goes through its writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from salespipe.config.model import Config
from salespipe.errors import MissingExtraError
from salespipe.triggers import RunFiles, RunHook
from salespipe.triggers.schedule import Job, build_scheduler

log = logging.getLogger("salespipe.triggers")


@dataclass(frozen=True)
class WatchOptions:
    """The knobs of `salespipe watch`, and of `salespipe serve --watch`."""

    settle_seconds: float = 2.0
    poll_seconds: float = 10.0
    kafka: bool = True


@dataclass
class Triggers:
    """The triggers `config` declares; `start()` runs them, `stop()` ends them cleanly."""

    config: Config
    run_files: RunFiles
    jobs: dict[str, Job]  # what a schedule may run: run, refresh, monitor
    on_run: RunHook | None = None
    options: WatchOptions = field(default_factory=WatchOptions)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _scheduler: Any = None
    _loading: int = 0  # loads a trigger thread is running now
    _loading_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def consumes_kafka(self) -> bool:
        kafka = self.config.triggers.kafka if self.config.triggers else None
        return self.options.kafka and kafka is not None

    def describe(self) -> str:
        return (
            f"watching {len(self.config.sources)} source(s)"
            + (", consuming Kafka events" if self.consumes_kafka else "")
            + (f", {len(self.config.schedules)} schedule(s)" if self.config.schedules else "")
        )

    def prepare(self) -> None:
        """Fail before anything starts: a missing extra, a bad cron expression, a landing
        folder that does not exist."""
        from salespipe.errors import ConfigError

        for source in self.config.sources:
            if source.landing.startswith("s3://"):
                continue
            folder = self.config.resolve(source.landing)
            if not folder.is_dir():
                raise ConfigError(
                    f"landing folder {folder} of source '{source.name}' does not exist",
                    key=f"sources.{source.name}.landing",
                    hint=f"create it (mkdir -p {folder}) or fix `landing:`",
                )
        if self.consumes_kafka:
            try:
                import confluent_kafka  # noqa: F401
            except ImportError:
                raise MissingExtraError("confluent-kafka", "kafka") from None
        if self.config.schedules and self._scheduler is None:
            self._scheduler = build_scheduler(self.config, self.jobs)

    def start(self) -> None:
        from salespipe.triggers.kafka import EventConsumer
        from salespipe.triggers.watch import Watcher

        self.prepare()
        watcher = Watcher(
            self.config,
            self.options.settle_seconds,
            self.options.poll_seconds,
            on_run=self.on_run,
            run_files=self._counted,
        )
        self._threads = [self._thread("watch", watcher.run_forever)]
        if self.consumes_kafka:
            consumer = EventConsumer(self.config, run_files=self._counted, on_run=self.on_run)
            self._threads.append(self._thread("kafka", consumer.run_forever))
        for thread in self._threads:
            thread.start()
        if self._scheduler is not None:
            self._scheduler.start()

    def _counted(self, *args: Any, **kwargs: Any) -> Any:
        """`run_files`, counted while it runs (so `stop()` knows a load is in progress)."""
        with self._loading_lock:
            self._loading += 1
        try:
            return self.run_files(*args, **kwargs)
        finally:
            with self._loading_lock:
                self._loading -= 1

    def _thread(self, name: str, target: Callable[[threading.Event], object]) -> threading.Thread:
        def run() -> None:
            try:
                target(self._stop)
            except Exception:  # logged where the operator looks; the other triggers go on
                log.exception("the %s trigger stopped", name)

        # Daemon threads: a second Ctrl-C ends the process at once (the open load rolls back).
        return threading.Thread(target=run, name=f"salespipe-{name}", daemon=True)

    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def wait(self, timeout: float) -> None:
        """Block up to `timeout` seconds while the triggers run (for a foreground command)."""
        if self._threads:
            self._threads[0].join(timeout=timeout)

    def stop(self) -> None:
        """Stop taking new work and wait for the load in progress to commit: never half a load."""
        self._stop.set()
        if self._loading:
            log.warning("triggers: finishing the load in progress (kill -9 is safe too)")
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)  # a scheduled job in progress finishes
        for thread in self._threads:
            thread.join()  # an idle trigger notices `stop` within half a second
        log.info("triggers: stopped")


def standalone_jobs(config: Config, on_run: RunHook | None = None) -> dict[str, Job]:
    """The scheduled jobs of `salespipe watch`: each opens the warehouse, one at a time."""
    from salespipe.triggers import RUN_LOCK

    def run() -> None:
        from salespipe.ingest.run import run_pipeline

        with RUN_LOCK:
            result = run_pipeline(config)
        if on_run is not None:
            on_run(result)

    def refresh() -> None:
        from salespipe.quality import refresh_run
        from salespipe.warehouse import open_warehouse

        with RUN_LOCK, open_warehouse(config, wait=60.0) as wh:
            refresh_run(wh.con)

    def monitor() -> None:  # freshness needs a clock, not only loads
        from salespipe.monitor import monitor_now

        with RUN_LOCK:
            monitor_now(config, wait=60.0)

    return {"run": run, "refresh": refresh, "monitor": monitor}
