"""Move staged rows from the DuckDB staging connection into the warehouse.

On DuckDB the staging connection *is* the warehouse connection, so a transfer is a
temp view (free). On PostgreSQL the rows are written by DuckDB as CSV and streamed
with COPY into a temp table of the open transaction.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence

from salespipe.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse
from salespipe.warehouse.postgres import to_postgres


def _pg_type(sql_type: str) -> str:
    return (
        to_postgres(f"CREATE TABLE t (c {sql_type})")[0]
        .removeprefix("CREATE TABLE t (c ")
        .removesuffix(")")
    )


def transfer(
    wh: Warehouse, select_sql: str, table: str, columns: Sequence[tuple[str, str]]
) -> None:
    """Make `select_sql` (run on the staging connection) available as `table` in the warehouse.

    `columns` are (name, DuckDB type) in the order the SELECT yields them.
    """
    if isinstance(wh, DuckDBWarehouse):
        wh.con.execute(f"DROP VIEW IF EXISTS {table}")
        wh.con.execute(f"CREATE TEMP VIEW {table} AS {select_sql}")
        return
    assert isinstance(wh, PostgresWarehouse)
    exported = ", ".join(_export(name, t) for name, t in columns)
    fd, path = tempfile.mkstemp(prefix="salespipe-copy-", suffix=".csv")
    os.close(fd)
    try:
        wh.staging.execute(
            f"COPY (SELECT {exported} FROM ({select_sql})) TO '{path}' (FORMAT csv, HEADER false)"
        )
        cols = ", ".join(f"{name} {_pg_type(t)}" for name, t in columns)
        wh.con.execute_native(f"DROP TABLE IF EXISTS {table}")
        wh.con.execute_native(f"CREATE TEMP TABLE {table} ({cols})")
        names = ", ".join(name for name, _ in columns)
        with (
            wh.con.raw.cursor() as cur,
            cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy,
            open(path, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    finally:
        os.unlink(path)


def _export(name: str, sql_type: str) -> str:
    """How a column is written for PostgreSQL's CSV COPY."""
    if sql_type.endswith("[]"):
        # a PostgreSQL array literal: {"a","b"}
        return (
            f"CASE WHEN {name} IS NULL THEN NULL ELSE '{{' || array_to_string("
            f"list_transform({name}, lambda x: '\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') || '\"'), ',')"
            f" || '}}' END AS {name}"
        )
    return name


def drop(wh: Warehouse, tables: Sequence[str]) -> None:
    """Drop transferred objects (views on DuckDB, temp tables on PostgreSQL) and `_match`."""
    import duckdb

    for table in tables:
        if isinstance(wh, DuckDBWarehouse):
            for kind in ("VIEW", "TABLE"):
                with contextlib.suppress(duckdb.Error):
                    wh.con.execute(f"DROP {kind} IF EXISTS {table}")
        else:
            wh.con.execute_native(f"DROP TABLE IF EXISTS {table}")
