"""Snapshot ids: a value that advances with every committed load and mart refresh.

On DuckDB a load commits its ledger row (a new, larger file_id) with its facts, and a
mart refresh stamps `mart_state.refreshed_at` in its own transaction; with one writer
the pair orders every committed state. On PostgreSQL many processes commit at once, so
file ids (handed out before the commit) do not follow the commit order: there the
`salespipe_commits` counter, bumped at commit by the warehouse's own triggers, comes
first. Either way the id orders committed states, so the API can cache by it, send it
as ETag, and never go back.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from salespipe.warehouse.sql import first_row

# Every snapshot query returns (commits, file_id, refreshed_us); DuckDB has no counter.
SNAPSHOT_SQL = (
    "SELECT 0, (SELECT coalesce(max(file_id), 0) FROM files), "
    "(SELECT coalesce(epoch_us(max(refreshed_at)), 0) FROM mart_state)"
)
SNAPSHOT_SQL_NO_MARTS = "SELECT 0, (SELECT coalesce(max(file_id), 0) FROM files), 0"
# DuckDB's dialect, transpiled; EXTRACT(EPOCH ...) is exact to the microsecond there.
COUNTED_SNAPSHOT_SQL = (
    "SELECT (SELECT sum(commits) FROM salespipe_commits), "
    "(SELECT coalesce(max(file_id), 0) FROM files), "
    "(SELECT coalesce(CAST(EXTRACT(EPOCH FROM max(refreshed_at)) * 1000000 AS BIGINT), 0) "
    "FROM mart_state)"
)


@dataclass(frozen=True, order=True)
class Snapshot:
    commits: int  # committed changes counted by the warehouse (0 where it counts none)
    file_id: int
    refreshed_us: int

    @property
    def id(self) -> str:
        """`<file_id>.<refresh time>`, or `<commits>.<file_id>.<refresh time>`: integers
        compared in order, as the dashboard does."""
        tail = f"{self.file_id}.{self.refreshed_us}"
        return f"{self.commits}.{tail}" if self.commits else tail


def snapshot_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The snapshot query this DuckDB warehouse supports (mart_state comes with the marts)."""
    row = first_row(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mart_state'")
    )
    return SNAPSHOT_SQL if row and row[0] else SNAPSHOT_SQL_NO_MARTS


def read_snapshot(con: Any, sql: str = SNAPSHOT_SQL) -> Snapshot:
    row = first_row(con.execute(sql))
    assert row is not None
    return Snapshot(int(row[0] or 0), int(row[1]), int(row[2]))


class SnapshotTracker:
    """The newest committed snapshot this server has seen; it only moves forward.

    With `sees_every_commit` (DuckDB: the server owns the warehouse and every write runs
    inside it) the writer refreshes the tracker after each commit, so a cache hit under
    `current` needs no query. Otherwise other processes commit unannounced, and `sync()`
    reads the snapshot before a cache hit is trusted: one small query, shared by every
    request that arrives while another one waits for it.
    """

    def __init__(
        self,
        con: Any,
        sql: str,
        on_advance: Callable[[Snapshot], None] | None = None,
        *,
        sees_every_commit: bool = True,
        reconnect: Callable[[], Any] | None = None,
    ) -> None:
        self._con = con  # a connection (cursor) of its own, used under the lock
        self.sql = sql
        self.sees_every_commit = sees_every_commit
        self._reconnect = reconnect
        self._lock = threading.Lock()
        self._on_advance = on_advance
        self._tickets = itertools.count(1)  # next() is atomic: orders arrivals and reads
        self._read_began = 0
        self.current = read_snapshot(con, sql)

    def observe(self, snapshot: Snapshot) -> None:
        with self._lock:
            advanced = self._advance(snapshot)
        if advanced and self._on_advance:
            self._on_advance(snapshot)

    def _advance(self, snapshot: Snapshot) -> bool:
        if snapshot <= self.current:
            return False
        self.current = snapshot
        return True

    def refresh(self) -> Snapshot:
        """Read the committed snapshot now (called by the writer after it commits)."""
        with self._lock:
            self._read_began = next(self._tickets)
            snapshot = self._read()
            advanced = self._advance(snapshot)
        if advanced and self._on_advance:
            self._on_advance(snapshot)
        return self.current

    def sync(self) -> Snapshot:
        """The newest snapshot committed before this call: `current` where every commit is
        announced, else read from the warehouse by this call or by one that began after
        it arrived (so a client never misses a commit it has seen finish)."""
        if self.sees_every_commit:
            return self.current
        asked = next(self._tickets)
        with self._lock:
            if self._read_began > asked:
                return self.current  # a read that began after we asked has finished
            self._read_began = next(self._tickets)
            snapshot = self._read()
            advanced = self._advance(snapshot)
        if advanced and self._on_advance:
            self._on_advance(snapshot)
        return self.current

    def _read(self) -> Snapshot:
        try:
            return read_snapshot(self._con, self.sql)
        except Exception:
            if self._reconnect is None:
                raise
            # A dropped connection (server restart, idle timeout): one retry on a new one.
            with contextlib.suppress(Exception):
                self._con.close()
            self._con = self._reconnect()
            return read_snapshot(self._con, self.sql)

    def close(self) -> None:
        with self._lock:
            self._con.close()
