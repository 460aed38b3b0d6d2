"""Move staged rows from the DuckDB staging connection into the warehouse.

On DuckDB the staging connection *is* the warehouse connection, so a transfer is a
temp view (free). On PostgreSQL DuckDB writes the rows as CSV into a pipe from a
second thread while this one streams the pipe into COPY: DuckDB's formatting and the
server's parsing overlap, and no temporary file is written.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence

from salespipe.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse
from salespipe.warehouse.postgres import to_postgres

COPY_CHUNK = 1 << 20


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
    cols = ", ".join(f"{name} {_pg_type(t)}" for name, t in columns)
    wh.con.execute_native(f"DROP TABLE IF EXISTS {table}")
    wh.con.execute_native(f"CREATE TEMP TABLE {table} ({cols})")
    copy_rows(wh, select_sql, table, columns)


def copy_rows(
    wh: PostgresWarehouse, select_sql: str, table: str, columns: Sequence[tuple[str, str]]
) -> int:
    """COPY the rows of `select_sql` (run on the staging connection) into the existing
    PostgreSQL `table`, inside the warehouse connection's open transaction; returns the rows."""
    exported = ", ".join(_export(name, t) for name, t in columns)
    names = ", ".join(name for name, _ in columns)
    read_end, write_end = os.pipe()
    failed: list[BaseException] = []

    def export() -> None:
        # DuckDB opens /dev/fd/N as a second handle on the pipe; the reader sees the end
        # of the rows once both handles are closed, also when the export fails.
        try:
            wh.staging.execute(
                f"COPY (SELECT {exported} FROM ({select_sql})) TO '/dev/fd/{write_end}' "
                "(FORMAT csv, HEADER false)"
            )
        except BaseException as exc:
            failed.append(exc)
        finally:
            os.close(write_end)

    exporter = threading.Thread(target=export, name="salespipe-copy", daemon=True)
    exporter.start()
    rows = os.fdopen(read_end, "rb")
    try:
        with wh.con.raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
                while chunk := rows.read(COPY_CHUNK):
                    copy.write(chunk)
                exporter.join()
                if failed:
                    # leaving the block with an error ends the COPY as failed, never committed
                    raise failed[0]
            count = int(cur.rowcount)
    finally:
        # After an error the exporter may still be writing: drain the pipe to its end (the
        # exporter never blocks on a full pipe, or on opening one nobody reads), then wait.
        while rows.read(COPY_CHUNK):
            pass
        rows.close()
        exporter.join()
    return count


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
