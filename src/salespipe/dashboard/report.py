# mypy: disable-error-code="import-untyped"
"""The overview as a paginated PDF (fpdf2): filters, KPI cards with their comparison,
the sales trend, top products and sales by category. Charts are drawn with PDF vector
primitives, so no browser or image renderer is needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from salespipe.dashboard.formatting import nice_ticks, si_label
from salespipe.errors import MissingExtraError

ACCENT = (31, 119, 180)
GREY = (110, 110, 110)


@dataclass(frozen=True)
class KpiLine:
    """A card as text (the PDF) and as numbers (the KPI table and its CSV/Excel)."""

    label: str
    value: str
    previous: str
    change: str
    value_number: Decimal | None = None
    previous_number: Decimal | None = None
    change_number: Decimal | None = None
    change_pct: Decimal | None = None
    unit: str = ""  # the currency, "%", "pts" or "" (counts)


@dataclass(frozen=True)
class OverviewReport:
    title: str
    about: Sequence[tuple[str, str]]  # filters, period, comparison, snapshot
    kpis: Sequence[KpiLine]
    trend: pd.DataFrame  # columns: day (date), value (number)
    trend_label: str
    tables: Sequence[tuple[str, pd.DataFrame]]  # title, frame (already formatted text)
    notes: Mapping[str, str] = field(default_factory=dict)  # title -> caveat, e.g. a filter
    # the table ignores, printed under its heading


def _text(value: Any) -> str:
    """Core PDF fonts are Latin-1: replace what they cannot show."""
    text = "" if value is None else str(value)
    text = text.replace("—", "-").replace("–", "-").replace("→", "->")
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(report: OverviewReport) -> bytes:
    try:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos
    except ImportError:
        raise MissingExtraError("fpdf2", "dashboard") from None

    class Document(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.set_text_color(*GREY)
            self.cell(0, 6, _text(f"{report.title} - page {self.page_no()} of {{nb}}"), align="C")

    pdf = Document(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_title(_text(report.title))
    pdf.set_creator("salespipe dashboard")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _text(report.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(*GREY)
    for key, value in report.about:
        pdf.cell(0, 5, _text(f"{key}: {value}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    _heading(pdf, "Key figures", XPos, YPos)
    rows = [("KPI", "Value", "Comparison", "Change")] + [
        (k.label, k.value, k.previous, k.change) for k in report.kpis
    ]
    _table(pdf, rows, (50, 40, 40, 60), right=(1, 2, 3))
    pdf.ln(4)

    _heading(pdf, report.trend_label, XPos, YPos)
    _note(pdf, report.notes.get(report.trend_label), XPos, YPos)
    _line_chart(pdf, report.trend)

    for title, frame in report.tables:
        pdf.add_page()
        _heading(pdf, title, XPos, YPos)
        _note(pdf, report.notes.get(title), XPos, YPos)
        if frame.empty:
            pdf.set_font("Helvetica", size=9)
            pdf.cell(0, 6, "No rows for these filters.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            continue
        header = tuple(str(c) for c in frame.columns)
        body = [tuple(_text(v) for v in row) for row in frame.itertuples(index=False)]
        width = 190 / len(header)
        widths = tuple(
            width * (1.6 if i == 1 and len(header) > 3 else 1) for i in range(len(header))
        )
        scale = 190 / sum(widths)
        _table(
            pdf,
            [header, *body],
            tuple(w * scale for w in widths),
            right=tuple(range(2, len(header))),
        )
    out: bytes = bytes(pdf.output())
    return out


def _heading(pdf: Any, text: str, xpos: Any, ypos: Any) -> None:
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 8, _text(text), new_x=xpos.LMARGIN, new_y=ypos.NEXT)
    pdf.set_text_color(0, 0, 0)


def _note(pdf: Any, text: str | None, xpos: Any, ypos: Any) -> None:
    if not text:
        return
    pdf.set_font("Helvetica", "I", 8)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 4.5, _text(text.replace("`", "")), new_x=xpos.LMARGIN, new_y=ypos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1)


def _table(
    pdf: Any, rows: Sequence[Sequence[str]], widths: Sequence[float], right: Sequence[int]
) -> None:
    """Rows of text; the header repeats on every page the table runs onto."""
    height = 6

    def header() -> None:
        pdf.set_font("Helvetica", "B", 8)
        pdf.set_fill_color(235, 240, 248)
        for i, text in enumerate(rows[0]):
            pdf.cell(widths[i], height, _text(text)[:40], border=1, fill=True)
        pdf.ln(height)
        pdf.set_font("Helvetica", size=8)

    header()
    for row in rows[1:]:
        if pdf.get_y() + height > pdf.h - 18:
            pdf.add_page()
            header()
        for i, text in enumerate(row):
            clipped = _text(text)
            while clipped and pdf.get_string_width(clipped) > widths[i] - 2:
                clipped = clipped[:-1]
            pdf.cell(widths[i], height, clipped, border=1, align="R" if i in right else "L")
        pdf.ln(height)


def _line_chart(pdf: Any, trend: pd.DataFrame) -> None:
    """A line of `value` by `day` with its axis range, drawn in a 190 x 60 mm box."""
    left, top, width, height = pdf.l_margin + 14, pdf.get_y() + 2, 172.0, 60.0
    pdf.set_font("Helvetica", size=7)
    if trend.empty:
        pdf.cell(0, 6, "No sales for these filters.")
        pdf.ln(8)
        return
    values = [float(v) for v in trend["value"]]
    days = list(trend["day"])
    ticks = nice_ticks(min(0.0, min(values)), max(values))
    low, high = ticks[0], ticks[-1]
    span = (high - low) or 1.0
    pdf.set_draw_color(190, 190, 190)
    pdf.rect(left, top, width, height)
    pdf.set_text_color(*GREY)
    for tick in ticks:
        y = top + height * (1 - (tick - low) / span)
        if low < tick < high:
            pdf.line(left, y, left + width, y)
        label = _text(si_label(tick))
        pdf.text(left - 2 - pdf.get_string_width(label), y + 1, label)
    pdf.text(left, top + height + 4, _text(str(days[0])))
    last = _text(str(days[-1]))
    pdf.text(left + width - pdf.get_string_width(last), top + height + 4, last)
    pdf.set_text_color(0, 0, 0)
    n = len(values)
    points = [
        (
            left + (width * i / (n - 1) if n > 1 else width / 2),
            top + height * (1 - (v - low) / span),
        )
        for i, v in enumerate(values)
    ]
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    if len(points) > 1:
        pdf.polyline(points)
    else:
        pdf.circle(points[0][0], points[0][1], 1.5)
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_y(top + height + 8)
