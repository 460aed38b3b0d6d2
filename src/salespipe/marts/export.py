"""Export a mart to a file (CSV, Parquet, XLSX) or the fact and marts to a Parquet lake.

Files for people (CSV, XLSX) get money rounded to cents; CSV can start with a UTF-8
byte order mark so Excel reads accents right; XLSX cells are typed (numbers, dates,
booleans) with number formats. The lake keeps exact decimals, for machines:
`<lake>/<table>/store_id=<id>/month=<YYYY-MM>/data_0.parquet` (Hive partitions).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from salespipe.errors import UsageError
from salespipe.marts.model import DATE, FLOAT, INT, Mart
from salespipe.marts.output import output_select
from salespipe.marts.registry import MARTS

FORMATS = ("csv", "parquet", "xlsx")
BOM = b"\xef\xbb\xbf"
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header
FETCH_ROWS = 10_000
BUILT_MARTS = "SELECT name FROM mart_state WHERE status = 'built'"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def cannot_write(out: Path, exc: Exception) -> UsageError:
    """The error for an output path the OS (or DuckDB's COPY) refuses, naming the path."""
    if isinstance(exc, OSError) and exc.errno:
        reason = os.strerror(exc.errno)  # pyarrow's strerror repeats the path
    else:  # DuckDB: 'IO Error: Cannot open file "...": <reason>'
        reason = str(exc).rsplit(": ", 1)[-1]
    return UsageError(
        f"cannot write {out}: {reason}",
        hint="give a file path in a folder that exists and that you can write to",
    )


def export_mart(
    con: duckdb.DuckDBPyConnection, mart: Mart, fmt: str, out: Path, *, bom: bool = False
) -> int:
    """Write the mart to `out`; returns the rows written."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint="use --format csv, parquet or xlsx")
    if bom and fmt != "csv":
        raise UsageError("--bom applies to CSV only")
    if out.is_dir():
        raise UsageError(
            f"--out {out} is a folder", hint=f"name a file in it: --out {out / mart.name}.{fmt}"
        )
    rows = int(con.execute(f"SELECT count(*) FROM {mart.name}").fetchall()[0][0])
    query = output_select(mart)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            _write_xlsx(con, mart, query, out, rows)
        elif fmt == "parquet":
            con.execute(f"COPY ({query}) TO {_literal(out)} (FORMAT parquet)")
        elif bom:
            with tempfile.TemporaryDirectory() as tmp:
                plain = Path(tmp) / "plain.csv"
                con.execute(f"COPY ({query}) TO {_literal(plain)} (FORMAT csv, HEADER)")
                with out.open("wb") as dst, plain.open("rb") as src:
                    dst.write(BOM)
                    shutil.copyfileobj(src, dst)
        else:
            con.execute(f"COPY ({query}) TO {_literal(out)} (FORMAT csv, HEADER)")
    except (OSError, duckdb.IOException) as exc:
        raise cannot_write(out, exc) from None
    return rows


def _number_format(mart: Mart, name: str) -> str | None:
    column = mart.column(name)
    if column.money:
        return "#,##0.00"
    if column.type == FLOAT:
        return "0.00"
    if column.type == INT:
        return "0"
    if column.type == DATE:
        return "yyyy-mm-dd"
    if column.type.startswith("DECIMAL"):
        return "0.####"
    return None


def _cell_value(value: Any) -> Any:
    # Excel has no time zones and no exact decimals: dates stay dates, numbers numbers.
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _write_xlsx(
    con: duckdb.DuckDBPyConnection, mart: Mart, query: str, out: Path, rows: int
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if rows > XLSX_MAX_ROWS:
        raise UsageError(
            f"{mart.name} has {rows:,} rows, more than an Excel sheet holds",
            hint="export it as --format csv or parquet",
        )
    # Opened first: an unwritable path fails before openpyxl starts its sheet writer.
    with out.open("wb") as target:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(mart.name[:31])
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        names = list(mart.column_names)
        header = []
        for name in names:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        formats = [_number_format(mart, n) for n in names]
        cursor = con.execute(query)
        while batch := cursor.fetchmany(FETCH_ROWS):
            for row in batch:
                cells = []
                for value, number_format in zip(row, formats, strict=True):
                    cell = WriteOnlyCell(sheet, value=_cell_value(value))
                    if number_format and value is not None:
                        cell.number_format = number_format
                    cells.append(cell)
                sheet.append(cells)
        book.save(target)


@dataclass
class LakeTable:
    name: str
    path: Path
    rows: int
    partitions: list[str]


def _lake_select(name: str, columns: tuple[str, ...]) -> tuple[str, list[str]]:
    """The query writing a table to the lake, and its Hive partition columns.

    Partitions are store_id (when the table has one) and month as YYYY-MM text, taken
    from the table's month or sale_date. A mart's own month column becomes that text.
    """
    parts = ["store_id"] if "store_id" in columns else []
    if "month" in columns:
        return (
            f"SELECT * EXCLUDE (month), strftime(month, '%Y-%m') AS month FROM {name}",
            [*parts, "month"],
        )
    if "sale_date" in columns:
        return f"SELECT *, strftime(sale_date, '%Y-%m') AS month FROM {name}", [*parts, "month"]
    return f"SELECT * FROM {name}", parts


def export_lake(
    con: duckdb.DuckDBPyConnection, root: Path, only: Mart | None = None
) -> list[LakeTable]:
    """Write fact_sales and every built mart (or only one mart) as Hive-partitioned Parquet.

    Each table's folder is replaced whole, so a re-export never mixes old partitions in.
    """
    if str(root).startswith("s3://"):
        raise UsageError(
            "the lake export writes to a local folder in this version",
            hint="export to a folder, then copy it to S3 (aws s3 sync FOLDER s3://...)",
        )
    built = {str(name) for (name,) in con.execute(BUILT_MARTS).fetchall()}
    if only is not None and only.name not in built:
        raise UsageError(f"mart {only.name} is not built", hint="see `salespipe marts list`")
    tables: list[tuple[str, tuple[str, ...]]]
    if only is not None:
        tables = [(only.name, only.column_names)]
    else:
        fact_columns = tuple(str(r[0]) for r in con.execute("DESCRIBE fact_sales").fetchall())
        tables = [("fact_sales", fact_columns)]
        tables += [(m.name, m.column_names) for m in MARTS if m.name in built]
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(root, exc) from None
    written: list[LakeTable] = []
    for name, columns in tables:
        target = root / name
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        select, parts = _lake_select(name, columns)
        if parts:
            con.execute(
                f"COPY ({select}) TO {_literal(target)} "
                f"(FORMAT parquet, PARTITION_BY ({', '.join(parts)}))"
            )
        else:
            con.execute(
                f"COPY ({select}) TO {_literal(target / 'data_0.parquet')} (FORMAT parquet)"
            )
        rows = int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
        written.append(LakeTable(name, target, rows, parts))
    return written
