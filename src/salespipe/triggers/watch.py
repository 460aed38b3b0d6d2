"""Watch landing folders (filesystem events) and S3 prefixes (polling) and load what settles.

A file is loaded only when its size and modification time have not changed for
`settle_seconds`, so a half-written file is never read. On start the watcher loads
whatever landed while it was down (catch-up scan).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from salespipe.config.model import Config, Source
from salespipe.errors import SalespipeError
from salespipe.landing import DEFAULT_PATTERNS, LandedFile, store_for
from salespipe.landing.local import LocalStore
from salespipe.triggers import RunFiles, RunHook, Work, run_in_process

log = logging.getLogger("salespipe.watch")


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


@dataclass
class Watcher:
    config: Config
    settle_seconds: float = 2.0
    poll_seconds: float = 10.0
    on_run: RunHook | None = None
    # How a run reaches the warehouse; default: open it per run (a server passes its writer).
    run_files: RunFiles | None = None
    _observed: dict[str, _Seen] = field(default_factory=dict)
    _done: set[tuple[str, int, int]] = field(default_factory=set)
    _wake: threading.Event = field(default_factory=threading.Event)

    def _run(self, work: Work, command: str) -> None:
        if not work:
            return
        run = self.run_files or run_in_process(self.config)
        result = run(work, command)
        for (_, landed), res in zip(work, result.files, strict=True):
            if res.status in ("loaded", "skipped"):
                self._done.add(self._identity(landed))
        if self.on_run:
            self.on_run(result)

    @staticmethod
    def _identity(landed: LandedFile) -> tuple[str, int, int]:
        mtime = 0
        if landed.path is not None and not landed.temporary and landed.path.exists():
            mtime = landed.path.stat().st_mtime_ns
        return (landed.uri, landed.size, mtime)

    def settled(self, source: Source, now: float) -> list[LandedFile]:
        """The files of a source that stopped changing at least `settle_seconds` ago."""
        store = store_for(self.config, source)
        ready: list[LandedFile] = []
        for landed in store.list_files(source.pattern or DEFAULT_PATTERNS[source.format]):
            if self._identity(landed) in self._done:
                continue
            if isinstance(store, LocalStore):
                assert landed.path is not None
                try:
                    stat = landed.path.stat()
                except FileNotFoundError:
                    continue
                age = time.time() - stat.st_mtime_ns / 1e9
                seen = self._observed.get(landed.uri)
                if seen is None and age >= self.settle_seconds:
                    pass  # untouched for the settle time already (e.g. landed while we were down)
                elif seen is None or (seen.size, seen.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                    self._observed[landed.uri] = _Seen(stat.st_size, stat.st_mtime_ns, now)
                    continue
                elif now - seen.since < self.settle_seconds:
                    continue
                self._observed.pop(landed.uri, None)
            ready.append(landed)
        return ready

    def tick(self, now: float | None = None, sources: list[Source] | None = None) -> None:
        now = time.monotonic() if now is None else now
        work = [(s, f) for s in (sources or self.config.sources) for f in self.settled(s, now)]
        self._run(work, "watch")

    def catch_up(self) -> None:
        """Load what landed while nothing was watching; files untouched for the settle
        time load at once, fresher ones once they settle."""
        self.tick()

    def _observe_folders(self) -> object | None:
        local = [s for s in self.config.sources if not s.landing.startswith("s3://")]
        if not local:
            return None
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            log.warning("watchdog is not installed; polling folders every %.1fs", self.poll_seconds)
            return None
        wake = self._wake

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                wake.set()

        observer = Observer()
        for source in local:
            folder = Path(self.config.resolve(source.landing))
            observer.schedule(Wake(), str(folder), recursive=False)
        observer.start()
        return observer

    def run_forever(self, stop: threading.Event) -> None:
        try:
            self.catch_up()
        except SalespipeError as exc:  # e.g. a landing that does not answer yet: polls retry
            log.error("watch: the catch-up scan failed: %s", exc)
        except Exception:
            log.exception("watch: the catch-up scan failed")
        local = [s for s in self.config.sources if not s.landing.startswith("s3://")]
        remote = [s for s in self.config.sources if s.landing.startswith("s3://")]
        observer = self._observe_folders()
        last_poll = time.monotonic()
        try:
            while not stop.is_set():
                # An event wakes us at once; a file seen changing is re-checked until it settles;
                # everything is also rescanned every poll interval (S3, and missed events).
                woke = self._wake.wait(
                    timeout=min(self.poll_seconds, max(self.settle_seconds / 4, 0.1))
                )
                self._wake.clear()
                now = time.monotonic()
                due = now - last_poll >= self.poll_seconds
                sources = list(local) if (woke or self._observed or due) else []
                if due:
                    sources += remote
                    last_poll = now
                if not sources:
                    continue
                # A watcher outlives a bad poll (the run ledger records load errors): one
                # line for what the user can fix, a traceback only for a bug.
                try:
                    self.tick(now, sources)
                except SalespipeError as exc:
                    log.error("watch: %s", exc)
                except Exception:
                    log.exception("watch tick failed")
        finally:
            if observer is not None:
                observer.stop()  # type: ignore[attr-defined]
                observer.join(timeout=5)  # type: ignore[attr-defined]
