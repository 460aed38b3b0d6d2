"""Small SQL conveniences shared by the stages.

The transaction helpers are where engines differ: DuckDB has one writing process, so
nothing changes underneath a writer's statements; on a server engine several processes
write at once, and a step that must see one state of the data (a mart refresh, a check
run) asks for it here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb

# Session locks of the server engines (PostgreSQL advisory lock ids).
MART_REFRESH_LOCK = 7403


def first_row(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, fetching all of it.

    DuckDB 2 keeps a result open after fetchone() and then refuses register() and
    other work on the connection, so single-row queries are fetched completely.
    """
    rows = cursor.fetchall()
    return tuple(rows[0]) if rows else None


@contextlib.contextmanager
def serialized(con: Any, lock: int) -> Iterator[None]:
    """One transaction at a time per `lock`, reading one snapshot taken once the lock is
    held; commits when the block ends, rolls back when it raises."""
    begin = getattr(con, "begin_serialized", None)
    if begin is None:  # DuckDB: the only writer, and a transaction reads one snapshot
        con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return
    begin(lock)
    try:
        yield
    except BaseException:
        con.end_serialized(lock, commit=False)
        raise
    con.end_serialized(lock, commit=True)


@contextlib.contextmanager
def one_snapshot(con: Any) -> Iterator[None]:
    """Statements in the block read one snapshot, also while other processes commit.

    A no-op on DuckDB (its writer is the only one); a REPEATABLE READ transaction on a
    server engine, committed at the end (writes in the block commit with it)."""
    begin = getattr(con, "begin_snapshot", None)
    if begin is None:
        yield
        return
    begin()
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextlib.contextmanager
def step(con: Any) -> Iterator[None]:
    """A statement whose failure is handled by the caller without ending the transaction
    (a savepoint on a server engine; DuckDB runs such steps outside a transaction)."""
    savepoint = getattr(con, "savepoint", None)
    if savepoint is None:
        yield
        return
    with savepoint():
        yield
