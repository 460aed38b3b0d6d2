"""Marts for readers: what each mart is and its state, and its rows rounded for output."""

from __future__ import annotations

from typing import Any

import duckdb

from salespipe.errors import UsageError
from salespipe.marts.model import Mart
from salespipe.marts.output import output_select
from salespipe.marts.registry import MARTS, get_mart


def mart_catalog(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every public mart with its declaration summary and its state in this warehouse."""
    state = {
        str(row[0]): row[1:]
        for row in con.execute(
            "SELECT name, status, note, mode, rows, seconds, refreshed_at FROM mart_state"
        ).fetchall()
    }
    out: list[dict[str, Any]] = []
    for mart in MARTS:
        status, note, mode, rows, seconds, at = state.get(
            mart.name,
            (
                "not built",
                "run `salespipe run` or `salespipe marts refresh`",
                None,
                None,
                None,
                None,
            ),
        )
        out.append(
            {
                "name": mart.name,
                "description": mart.description,
                "grain": list(mart.grain),
                "requires": list(mart.requires),
                "refresh": mart.refresh.describe(),
                "status": status,
                "note": note,
                "rows": rows,
                "last_mode": mode,
                "last_seconds": round(float(seconds), 4) if seconds is not None else None,
                "refreshed_at": at,
            }
        )
    return out


def built_mart(con: duckdb.DuckDBPyConnection, name: str) -> Mart:
    """The mart, or a UsageError saying why it has no table (skipped, not built)."""
    mart = get_mart(name)
    row = con.execute("SELECT status, note FROM mart_state WHERE name = ?", [name]).fetchall()
    if not row:
        raise UsageError(f"mart {name} is not built yet", hint="run `salespipe marts refresh`")
    if row[0][0] != "built":
        raise UsageError(f"mart {name} is {row[0][0]}: {row[0][1]}")
    return mart


def mart_rows(
    con: duckdb.DuckDBPyConnection, name: str, *, limit: int | None = None
) -> tuple[list[str], list[tuple[Any, ...]], int]:
    """Column names, rows in grain order (money in cents) and the mart's total row count."""
    mart = built_mart(con, name)
    total = con.execute(f"SELECT count(*) FROM {mart.name}").fetchall()[0][0]
    sql = output_select(mart) + (f" LIMIT {int(limit)}" if limit else "")
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description or []]
    return names, cursor.fetchall(), int(total)
