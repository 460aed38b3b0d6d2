"""Ledger views: runs, files with their reconciliation, and quarantined rows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb

from salespipe.config.model import Config
from salespipe.errors import UsageError
from salespipe.warehouse import is_postgres, warehouse_path
from salespipe.warehouse.sql import first_row


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def file_rows(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> list[dict[str, Any]]:
    rows = _dicts(
        con.execute(
            "SELECT file_id, run_id, source, uri, name, content_hash, size_bytes, status, rows_in, rows_loaded, "
            "rows_updated, rows_quarantined, rows_duplicate, reasons, unused_columns, error, min_date, max_date, "
            "started_at, finished_at, seconds FROM files ORDER BY file_id DESC"
            + (f" LIMIT {int(limit)}" if limit else "")
        )
    )
    for r in rows:
        r["reasons"] = json.loads(r["reasons"]) if r["reasons"] else {}
        r["unused_columns"] = json.loads(r["unused_columns"]) if r["unused_columns"] else []
        r["reconciles"] = r["rows_in"] == (
            r["rows_loaded"] + r["rows_updated"] + r["rows_quarantined"] + r["rows_duplicate"]
        )
    return rows


def run_rows(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict[str, Any]]:
    return _dicts(
        con.execute(
            "SELECT run_id, command, status, started_at, finished_at, files, rows_in, rows_loaded, rows_updated, "
            "rows_quarantined, rows_duplicate, seconds, error FROM runs ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
    )


def shown_warehouse(config: Config) -> str:
    """The warehouse as people see it: the DuckDB file, or the server URL without a password."""
    if is_postgres(config):
        return re.sub(r"^(\w+://[^:/@]+):[^@]*@", r"\1:***@", config.warehouse)
    return str(warehouse_path(config))


def warehouse_status(con: duckdb.DuckDBPyConnection, config: Config) -> dict[str, Any]:
    fact = first_row(con.execute("SELECT count(*), min(sale_date), max(sale_date) FROM fact_sales"))
    open_q = first_row(con.execute("SELECT count(*) FROM quarantine WHERE state = 'open'"))
    assert fact is not None and open_q is not None
    return {
        "warehouse": shown_warehouse(config),
        "fact_rows": fact[0],
        "first_date": fact[1],
        "last_date": fact[2],
        "quarantine_open": open_q[0],
        "runs": run_rows(con),
        "files": file_rows(con),
    }


def _quarantine_query(
    source: str | None, reason: str | None, file: str | None, include_replayed: bool
) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if not include_replayed:
        clauses.append("q.state = 'open'")
    if source:
        clauses.append("q.source = ?")
        params.append(source)
    if reason:
        # typed: PostgreSQL cannot infer a bare parameter's type in the transpiled test
        clauses.append("list_contains(q.reasons, CAST(? AS VARCHAR))")
        params.append(reason)
    if file:
        clauses.append("f.name LIKE ?")
        params.append(f"%{file}%")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return where, params


def quarantine_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str | None = None,
    reason: str | None = None,
    file: str | None = None,
    include_replayed: bool = False,
    limit: int | None = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    where, params = _quarantine_query(source, reason, file, include_replayed)
    sql = (
        "SELECT q.file_id, f.uri AS file, q.source, q.row_number AS row, q.line, q.reasons, q.raw, q.state, "
        "q.quarantined_at FROM quarantine q LEFT JOIN files f USING (file_id)"
        + where
        + " ORDER BY q.file_id, q.line"
    )
    if limit:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    rows = _dicts(con.execute(sql, params))
    for r in rows:
        r["raw"] = json.loads(r["raw"]) if r["raw"] else {}
    return rows


def export_quarantine(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    source: str | None = None,
    reason: str | None = None,
) -> int:
    _quarantine_format(out)
    return write_quarantine(quarantine_rows(con, source=source, reason=reason, limit=None), out)


def _quarantine_format(out: Path) -> str:
    fmt = {".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}.get(
        out.suffix.lower()
    )
    if fmt is None:
        raise UsageError(
            f"cannot export to {out.name}", hint="use a .csv, .jsonl or .parquet file name"
        )
    return fmt


def write_quarantine(rows: list[dict[str, Any]], out: Path) -> int:
    """Write quarantined rows (as `quarantine_rows` gives them): one column per raw field."""
    fmt = _quarantine_format(out)
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    raw_keys: list[str] = []
    for r in rows:
        for k in r["raw"]:
            if k not in raw_keys:
                raw_keys.append(k)
    table = pa.table(
        {
            "file": [r["file"] for r in rows],
            "line": [r["line"] for r in rows],
            "reasons": [";".join(r["reasons"]) for r in rows],
            **{
                k: [None if r["raw"].get(k) is None else str(r["raw"].get(k)) for r in rows]
                for k in raw_keys
            },
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        pacsv.write_csv(table, out)
    elif fmt == "parquet":
        pq.write_table(table, out)
    else:
        with out.open("w", encoding="utf-8") as fh:
            for rec in table.to_pylist():
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return len(rows)
