"""Small SQL conveniences shared by the stages."""

from __future__ import annotations

from typing import Any

import duckdb


def first_row(cursor: duckdb.DuckDBPyConnection) -> tuple[Any, ...] | None:
    """The first row of a result, fetching all of it.

    DuckDB 2 keeps a result open after fetchone() and then refuses register() and
    other work on the connection, so single-row queries are fetched completely.
    """
    rows = cursor.fetchall()
    return tuple(rows[0]) if rows else None
