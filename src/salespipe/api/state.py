"""What one server holds: the open warehouse, a pool of read cursors, the snapshot
tracker, the response cache, the API keys and the run jobs.

Reads run in a transaction on a cursor of the server's connection, so each request
sees one committed snapshot (DuckDB MVCC) however long a load takes meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from salespipe.api.auth import KeyRing
from salespipe.api.cache import CachedBody, ResponseCache
from salespipe.api.jobs import RunJobs
from salespipe.api.snapshot import Snapshot, SnapshotTracker, read_snapshot, snapshot_sql
from salespipe.config.model import Config
from salespipe.warehouse.duckdb import DuckDBWarehouse

Cursor = duckdb.DuckDBPyConnection


class ServerState:
    def __init__(
        self,
        config: Config,
        warehouse: DuckDBWarehouse,
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
        self.tracker = SnapshotTracker(
            self._new_cursor(),
            snapshot_sql(warehouse.con),
            on_advance=lambda s: self.cache.retain(s.id),
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
        with self._cursor_lock:
            cursor = self.warehouse.con.cursor()
            self._all_cursors.append(cursor)
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor of the server's connection, from a pool (one thread at a time)."""
        try:
            cursor = self._cursors.get_nowait()
        except queue.Empty:
            cursor = self._new_cursor()
        try:
            yield cursor
        finally:
            self._cursors.put(cursor)

    @contextmanager
    def read(self) -> Iterator[tuple[Cursor, Snapshot]]:
        """A read transaction: every query inside sees the same committed snapshot."""
        with self.cursor() as cursor:
            cursor.execute("BEGIN TRANSACTION")
            try:
                snapshot = read_snapshot(cursor, self.tracker.sql)
                self.tracker.observe(snapshot)
                yield cursor, snapshot
            finally:
                cursor.execute("ROLLBACK")

    def cached(self, key: Hashable, build: Callable[[Cursor, Snapshot], CachedBody]) -> CachedBody:
        """The body for `key` at the current snapshot: from the cache, or built once."""
        with self.cache.flight(key):
            hit = self.cache.get((self.tracker.current.id, key), count=False)
            if hit is not None:
                return hit
            with self.read() as (cursor, snapshot):
                body = build(cursor, snapshot)
            self.cache.put((snapshot.id, key), body)
            return body

    def lookup(self, key: Hashable) -> CachedBody | None:
        """A cache hit at the current snapshot, without touching the warehouse."""
        return self.cache.get((self.tracker.current.id, key))

    def close(self) -> None:
        self.jobs.wait_idle()
        self.tracker.close()
        with self._cursor_lock:
            for cursor in self._all_cursors:
                cursor.close()
            self._all_cursors.clear()
        self.warehouse.close()
