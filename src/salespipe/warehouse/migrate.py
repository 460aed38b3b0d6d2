"""Copy a DuckDB warehouse into PostgreSQL (`salespipe migrate --to URL`).

The ledger, quarantine, dimensions and fact move with COPY, table by table, in one
PostgreSQL transaction; marts are then rebuilt on the target from the same
definitions, so nothing engine-specific is copied.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from salespipe.errors import UsageError
from salespipe.warehouse.postgres import PostgresWarehouse, ensure_partitions, open_postgres
from salespipe.warehouse.schema import DIMENSIONS

CORE_TABLES = (
    "runs",
    "files",
    "quarantine",
    "dim_date",
    *DIMENSIONS,
    "store_zones",
    "fact_sales",
    "mart_dirty",
)
OPTIONAL_TABLES = frozenset({"store_zones"})


@dataclass
class MigrationReport:
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def migrate_duckdb_to_postgres(source: Path, url: str) -> MigrationReport:
    if not source.exists():
        raise UsageError(
            f"no DuckDB warehouse at {source}", hint="check `warehouse:` in salespipe.yaml"
        )
    started = time.perf_counter()
    src = duckdb.connect(str(source), read_only=True)
    src.execute("SET TimeZone = 'UTC'")
    target = open_postgres(url)
    report = MigrationReport()
    try:
        non_empty = [
            t
            for t in ("files", "fact_sales")
            if target.con.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchall()
        ]
        if non_empty:
            raise UsageError(
                f"the target already holds data ({', '.join(non_empty)})",
                hint="migrate into an empty database",
            )
        target.con.execute("BEGIN")
        months = [
            r[0]
            for r in src.execute(
                "SELECT DISTINCT CAST(date_trunc('month', sale_date) AS DATE) FROM fact_sales"
            ).fetchall()
        ]
        ensure_partitions(target.con, [m for m in months if isinstance(m, date)])
        present = {r[0] for r in src.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for table in CORE_TABLES:
            if table in OPTIONAL_TABLES and table not in present:
                continue  # a warehouse from before the table existed
            report.tables[table] = _copy_table(src, target, table)
        target.con.execute_native(
            "SELECT setval('file_id_seq', GREATEST((SELECT coalesce(max(file_id), 0) FROM files), 1))"
        )
        target.con.execute("COMMIT")
    except BaseException:
        target.con.execute("ROLLBACK")
        raise
    finally:
        src.close()
        target.close()
    report.seconds = time.perf_counter() - started
    return report


def _copy_table(src: duckdb.DuckDBPyConnection, target: PostgresWarehouse, table: str) -> int:
    columns = [r[0] for r in src.execute(f"DESCRIBE {table}").fetchall()]
    types = {r[0]: str(r[1]) for r in src.execute(f"DESCRIBE {table}").fetchall()}
    exported = []
    for c in columns:
        if types[c].endswith("[]"):
            exported.append(
                f"CASE WHEN {c} IS NULL THEN NULL ELSE '{{' || array_to_string(list_transform({c}, "
                f"lambda x: '\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') || '\"'), ',') || '}}' END"
            )
        else:
            exported.append(c)
    fd, path = tempfile.mkstemp(prefix="salespipe-migrate-", suffix=".csv")
    os.close(fd)
    try:
        src.execute(
            f"COPY (SELECT {', '.join(exported)} FROM {table}) TO '{path}' (FORMAT csv, HEADER false)"
        )
        with (
            target.con.raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
            open(path, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
    finally:
        os.unlink(path)
    row = src.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    return int(row[0])
