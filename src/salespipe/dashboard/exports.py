# mypy: disable-error-code="import-untyped"
"""Downloads: every table as CSV and Excel, and the whole view as one workbook with a sheet
per table plus the filters and the KPI definitions. Exact values are written as they
are shown (Decimal money, dates as dates)."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"
PDF_MIME = "application/pdf"


@dataclass(frozen=True)
class ViewTable:
    """A table shown on a page: its sheet name, the frame and where it came from."""

    name: str
    frame: pd.DataFrame
    source: str
    note: str | None = None  # a caveat the table carries, e.g. a filter its mart ignores


@dataclass
class View:
    """The tables a page run has shown so far, for the whole-view workbook."""

    page: str
    tables: list[ViewTable] = field(default_factory=list)

    def add(
        self, name: str, frame: pd.DataFrame, source: str, note: str | None = None
    ) -> ViewTable:
        table = ViewTable(unique_sheet(name, [t.name for t in self.tables]), frame, source, note)
        self.tables.append(table)
        return table


def unique_sheet(name: str, taken: Sequence[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "-", name).strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    lowered = {t.lower() for t in taken}
    while candidate.lower() in lowered:
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
        n += 1
    return candidate


def cell(value: Any) -> Any:
    """A value openpyxl writes as itself: no NaN/NA, no time zones, no numpy scalars."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; the API's are UTC
    if isinstance(value, dict | list | tuple):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, Decimal | str):
        return value.item()  # numpy scalar
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    text: str = frame.to_csv(index=False)
    return text.encode("utf-8")


def number_format(value: Decimal) -> str:
    """Thousands separators and the value's own decimals: 1234.50 shows as 1,234.50."""
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0" + ("." + "0" * places if places else "")


def _append_frame(sheet: Any, frame: pd.DataFrame) -> None:
    from openpyxl.cell import WriteOnlyCell

    def excel_cell(value: Any) -> Any:
        value = cell(value)
        if isinstance(value, Decimal) and value.is_finite():
            out = WriteOnlyCell(sheet, value=value)
            out.number_format = number_format(value)
            return out
        return value

    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        sheet.append([excel_cell(v) for v in row])


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "data", note: str | None = None) -> bytes:
    """One table as a workbook; a note (what the table does not reflect) gets a sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    name = unique_sheet(sheet, [])
    _append_frame(workbook.create_sheet(name), frame)
    if note:
        about = workbook.create_sheet(unique_sheet("Note", [name]))
        about.append(["note"])
        about.append([note.replace("`", "")])
    sink = io.BytesIO()
    workbook.save(sink)
    data: bytes = sink.getvalue()
    return data


def workbook_bytes(
    tables: Iterable[ViewTable],
    about: Sequence[tuple[str, Any]],
    definitions: Sequence[tuple[str, str]],
) -> bytes:
    """One workbook: a sheet 'View' (filters, snapshot, sources), a sheet per table, and
    'KPI definitions'."""
    from openpyxl import Workbook

    tables = list(tables)
    workbook = Workbook(write_only=True)
    info = workbook.create_sheet("View")
    info.append(["setting", "value"])
    for key, value in about:
        info.append([key, cell(value)])
    info.append([])
    info.append(["sheet", "source", "note"])
    for table in tables:
        info.append([table.name, table.source, (table.note or "").replace("`", "") or None])
    taken = ["View", "KPI definitions"]
    for table in tables:
        name = unique_sheet(table.name, taken)
        taken.append(name)
        _append_frame(workbook.create_sheet(name), table.frame)
    defs = workbook.create_sheet("KPI definitions")
    defs.append(["kpi", "definition"])
    for key, text in definitions:
        defs.append([key, text])
    sink = io.BytesIO()
    workbook.save(sink)
    return sink.getvalue()


def file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "export"
