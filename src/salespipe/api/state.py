"""What one server holds: the open warehouse, a pool of read cursors, the snapshot
tracker, the response cache, the API keys and the run jobs.

Reads run in a transaction on a reader (a cursor of the server's DuckDB connection, or
a pooled PostgreSQL connection: api.engines), so each request sees one committed
snapshot however long a load takes meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from salespipe.api.auth import KeyRing
from salespipe.api.cache import CachedBody, ResponseCache
from salespipe.api.engines import TableReplaced, serving_engine
from salespipe.api.jobs import RunJobs
from salespipe.api.snapshot import Snapshot, SnapshotTracker, read_snapshot
from salespipe.config.model import Config
from salespipe.warehouse import Warehouse

Cursor = duckdb.DuckDBPyConnection
T = TypeVar("T")


class ServerState:
    def __init__(
        self,
        config: Config,
        warehouse: Warehouse,
        keys: KeyRing,
        config_path: Path | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.warehouse = warehouse
        self.keys = keys
        self.cache = cache or ResponseCache()
        self.started = time.time()
        self._cursors: queue.SimpleQueue[Cursor] = queue.SimpleQueue()
        self._all_cursors: list[Cursor] = []
        self._cursor_lock = threading.Lock()
        self.engine = serving_engine(warehouse)
        limit = self.engine.max_readers
        self._reader_slots = threading.BoundedSemaphore(limit) if limit else None
        self.tracker = SnapshotTracker(
            self._new_cursor(),
            self.engine.snapshot_sql(),
            on_advance=lambda s: self.cache.retain(s.id),
            sees_every_commit=self.engine.sees_every_commit,
            reconnect=self._new_cursor,
        )
        self.jobs = RunJobs(warehouse, self.current_config, self._after_commit)

    def current_config(self) -> Config:
        """salespipe.yaml as it is now (runs pick up new sources without a restart)."""
        if self.config_path is None:
            return self.config
        from salespipe.config import load_config

        self.config = load_config(self.config_path)
        return self.config

    def _after_commit(self) -> None:
        self.tracker.refresh()

    def _new_cursor(self) -> Cursor:
        cursor: Cursor = self.engine.reader()
        with self._cursor_lock:
            self._all_cursors.append(cursor)
        return cursor

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A reader from the pool, one thread at a time (at most `max_readers` at once)."""
        if self._reader_slots is not None:
            self._reader_slots.acquire()
        try:
            try:
                cursor = self._cursors.get_nowait()
            except queue.Empty:
                cursor = self._new_cursor()
            try:
                yield cursor
            finally:
                if self.engine.usable(cursor):
                    self._cursors.put(cursor)
                else:  # its connection is gone: the next reader opens a new one
                    with self._cursor_lock:
                        self._all_cursors.remove(cursor)
                    cursor.close()
        finally:
            if self._reader_slots is not None:
                self._reader_slots.release()

    @contextmanager
    def read(self) -> Iterator[tuple[Cursor, Snapshot]]:
        """A read transaction: every query inside sees the same committed snapshot."""
        with self.cursor() as cursor:
            self.engine.begin_read(cursor)
            try:
                snapshot = read_snapshot(cursor, self.tracker.sql)
                self.tracker.observe(snapshot)
                yield cursor, snapshot
            finally:
                if self.engine.usable(cursor):
                    cursor.execute("ROLLBACK")

    def cached(self, key: Hashable, build: Callable[[Cursor, Snapshot], CachedBody]) -> CachedBody:
        """The body for `key` at the current snapshot: from the cache, or built once."""
        self.tracker.sync()  # where other processes commit too: as of now
        with self.cache.flight(key):
            # `lookup` counted this request already where it could look (every commit seen)
            counted = not self.tracker.sees_every_commit
            hit = self.cache.get((self.tracker.current.id, key), count=counted)
            if hit is not None:
                return hit
            body = self.read_with(build)
            self.cache.put((body.snapshot, key), body)
            return body

    def read_with(self, work: Callable[[Cursor, Snapshot], T]) -> T:
        """`work` in a read transaction; again in a newer snapshot if a table it read was
        re-created since its snapshot began (see TableReplaced)."""
        for attempt in range(3):
            try:
                with self.read() as (cursor, snapshot):
                    return work(cursor, snapshot)
            except TableReplaced:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def lookup(self, key: Hashable) -> CachedBody | None:
        """A cache hit at the current snapshot, without touching the warehouse; None where
        other processes commit too (`cached` reads the snapshot first, in a worker thread)."""
        if not self.tracker.sees_every_commit:
            return None
        return self.cache.get((self.tracker.current.id, key))

    def close(self) -> None:
        self.jobs.wait_idle()
        self.tracker.close()
        with self._cursor_lock:
            for cursor in self._all_cursors:
                cursor.close()
            self._all_cursors.clear()
        self.warehouse.close()
