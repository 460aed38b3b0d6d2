"""How the server reads and writes each warehouse engine, declared once per engine.

DuckDB: the server owns the file (one writing process), so every commit is its own and
the snapshot tracker moves when it commits; readers are cursors of its one connection.
PostgreSQL: `salespipe run` processes commit while the server reads, so the tracker
re-reads the commit counter before a cache hit is trusted; readers are connections of a
small pool, each request one REPEATABLE READ READ ONLY transaction (one snapshot for
all its queries); a run submitted to the server opens a warehouse of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from salespipe.api.snapshot import COUNTED_SNAPSHOT_SQL, snapshot_sql
from salespipe.warehouse import Warehouse
from salespipe.warehouse.duckdb import DuckDBWarehouse
from salespipe.warehouse.postgres import PostgresWarehouse, open_postgres


class TableReplaced(Exception):
    """A table was dropped and re-created after the read's snapshot (a full mart rebuild
    on PostgreSQL, where DDL is not MVCC for readers): read again in a new snapshot."""


class ServingEngine(Protocol):
    # Every commit goes through this server (then a cache hit needs no query).
    sees_every_commit: ClassVar[bool]
    # Readers open at once (None: as many as threads ask for).
    max_readers: ClassVar[int | None]

    def reader(self) -> Any:
        """A new connection (or cursor) for one reading thread at a time."""

    def usable(self, reader: Any) -> bool:
        """False once the reader's connection is lost: it leaves the pool."""

    def begin_read(self, reader: Any) -> None:
        """Start the transaction whose snapshot every query of a request sees."""

    def snapshot_sql(self) -> str: ...

    def check_table(self, reader: Any, table: str) -> None:
        """After reading `table`: raise TableReplaced if what was read is not the table
        of the reader's snapshot (re-created by a commit since)."""

    def writer(self) -> AbstractContextManager[Warehouse]:
        """The warehouse a run of this server loads through, in the calling thread."""
        ...


@dataclass
class DuckDBServing:
    warehouse: DuckDBWarehouse

    sees_every_commit: ClassVar[bool] = True
    max_readers: ClassVar[int | None] = None

    def reader(self) -> Any:
        cursor = self.warehouse.con.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def usable(self, reader: Any) -> bool:
        return True

    def begin_read(self, reader: Any) -> None:
        reader.execute("BEGIN TRANSACTION")  # MVCC: committed state as of now

    def snapshot_sql(self) -> str:
        return snapshot_sql(self.warehouse.con)

    def check_table(self, reader: Any, table: str) -> None:
        pass  # DuckDB's catalog is versioned like its data: a reader keeps the old table

    @contextmanager
    def writer(self) -> Iterator[Warehouse]:
        cursor = self.reader()
        try:
            yield DuckDBWarehouse(path=self.warehouse.path, con=cursor, read_only=False)
        finally:
            cursor.close()


@dataclass
class PostgresServing:
    warehouse: PostgresWarehouse

    sees_every_commit: ClassVar[bool] = False
    # Connections are server processes: a few serve many requests (threads wait).
    max_readers: ClassVar[int | None] = 8

    def reader(self) -> Any:
        return self.warehouse.con.cursor()  # a new connection, UTC like every other

    def usable(self, reader: Any) -> bool:
        return not reader.raw.closed  # psycopg marks a lost connection closed

    def begin_read(self, reader: Any) -> None:
        # Read only: never blocks a load; repeatable read: one snapshot for the request.
        reader.execute_native("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def snapshot_sql(self) -> str:
        return COUNTED_SNAPSHOT_SQL

    def check_table(self, reader: Any, table: str) -> None:
        # Names resolve in the newest catalog, rows in the snapshot: a table re-created
        # after the snapshot reads as empty. Its catalog row is then not in the snapshot.
        # The read holds the table's lock, so the name still means what was read.
        found = reader.execute_native(
            "SELECT count(*) FROM pg_class WHERE oid = to_regclass(%(t)s)", {"t": table}
        ).fetchall()
        if not found[0][0]:
            raise TableReplaced(table)

    @contextmanager
    def writer(self) -> Iterator[Warehouse]:
        with open_postgres(self.warehouse.url) as wh:
            yield wh


ENGINES: dict[str, type[DuckDBServing] | type[PostgresServing]] = {
    DuckDBWarehouse.name: DuckDBServing,
    PostgresWarehouse.name: PostgresServing,
}


def serving_engine(warehouse: Any) -> ServingEngine:
    """The serving declaration of an open warehouse, by its engine name."""
    engine: ServingEngine = ENGINES[warehouse.name](warehouse)
    return engine
