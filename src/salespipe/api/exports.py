"""Serialize API results: JSON with exact decimals, and mart pages as CSV, Parquet, XLSX.

JSON numbers follow `--json` output: amounts are rounded to cents before they get here,
whole decimals print as integers. CSV and JSON are produced batch by batch so large
pages stream; Parquet and XLSX are single files sent in chunks.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

import pyarrow as pa

Format = Literal["json", "csv", "parquet", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH_ROWS = 1000
CHUNK_BYTES = 1 << 20


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        exponent = o.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(o)
        return float(o)
    if isinstance(o, datetime | date | time):
        return o.isoformat()
    raise TypeError(f"cannot encode {type(o).__name__}")


def encode_json(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":")).encode()


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]


def json_chunks(header: dict[str, Any], table: pa.Table) -> Iterator[bytes]:
    """`{...header, "rows": [...]}` with rows as objects, written batch by batch."""
    head = encode_json(header)
    yield head[:-1] + (b',"rows":[' if header else b'{"rows":[')
    first = True
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        rows = batch.to_pylist()
        if not rows:
            continue
        body = b",".join(encode_json(r) for r in rows)
        yield body if first else b"," + body
        first = False
    yield b"]}"


def csv_chunks(table: pa.Table) -> Iterator[bytes]:
    import pyarrow.csv as pacsv

    sink = io.BytesIO()
    with pacsv.CSVWriter(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            writer.write_batch(batch)
            yield sink.getvalue()
            sink.seek(0)
            sink.truncate()
    rest = sink.getvalue()
    if rest or table.num_rows == 0:
        yield rest


def parquet_chunks(table: pa.Table) -> Iterator[bytes]:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=64 * BATCH_ROWS)
    yield from _chunks(sink.getvalue())


def xlsx_chunks(table: pa.Table, sheet: str) -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.append(table.column_names)
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        for row in batch.to_pylist():
            worksheet.append([_cell(v) for v in row.values()])
    sink = io.BytesIO()
    workbook.save(sink)
    yield from _chunks(sink.getvalue())


def _cell(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; values are UTC
    return value


def table_chunks(
    fmt: Format, table: pa.Table, header: dict[str, Any], name: str
) -> Iterator[bytes]:
    if fmt == "csv":
        return csv_chunks(table)
    if fmt == "parquet":
        return parquet_chunks(table)
    if fmt == "xlsx":
        return xlsx_chunks(table, name)
    return json_chunks(header, table)
