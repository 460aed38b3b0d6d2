"""Snapshot ids: a value that advances with every committed load and mart refresh.

A load commits its ledger row (a new, larger file_id) with its facts; a mart refresh
stamps `mart_state.refreshed_at` in its own transaction. The pair orders every
committed state, so the API can cache by it, send it as ETag, and never go back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from salespipe.warehouse.sql import first_row

SNAPSHOT_SQL = (
    "SELECT (SELECT coalesce(max(file_id), 0) FROM files), "
    "(SELECT coalesce(epoch_us(max(refreshed_at)), 0) FROM mart_state)"
)
SNAPSHOT_SQL_NO_MARTS = "SELECT (SELECT coalesce(max(file_id), 0) FROM files), 0"


@dataclass(frozen=True, order=True)
class Snapshot:
    file_id: int
    refreshed_us: int

    @property
    def id(self) -> str:
        return f"{self.file_id}.{self.refreshed_us}"


def snapshot_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The snapshot query this warehouse supports (mart_state comes with the marts)."""
    row = first_row(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mart_state'")
    )
    return SNAPSHOT_SQL if row and row[0] else SNAPSHOT_SQL_NO_MARTS


def read_snapshot(con: duckdb.DuckDBPyConnection, sql: str = SNAPSHOT_SQL) -> Snapshot:
    row = first_row(con.execute(sql))
    assert row is not None
    return Snapshot(int(row[0]), int(row[1]))


class SnapshotTracker:
    """The newest committed snapshot this server has seen; it only moves forward.

    Every write runs inside the server (it owns the warehouse), and the writer refreshes
    the tracker after each commit, so a cache hit under `current` needs no query.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        sql: str,
        on_advance: Callable[[Snapshot], None] | None = None,
    ) -> None:
        self._con = con  # a cursor of its own, used under the lock
        self.sql = sql
        self._lock = threading.Lock()
        self._on_advance = on_advance
        self.current = read_snapshot(con, sql)

    def observe(self, snapshot: Snapshot) -> None:
        with self._lock:
            if snapshot <= self.current:
                return
            self.current = snapshot
        if self._on_advance:
            self._on_advance(snapshot)

    def refresh(self) -> Snapshot:
        """Read the committed snapshot now (called by the writer after it commits)."""
        with self._lock:
            snapshot = read_snapshot(self._con, self.sql)
        self.observe(snapshot)
        return self.current

    def close(self) -> None:
        with self._lock:
            self._con.close()
