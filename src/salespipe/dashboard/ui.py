# mypy: disable-error-code="import-untyped"
"""Building blocks every page uses: guarded sections (a message, never a traceback),
tables with their CSV and Excel downloads, and the helpful messages for missing data."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from salespipe.dashboard.client import ApiUnavailable, DashboardError
from salespipe.dashboard.context import PageContext
from salespipe.dashboard.data import MartUnavailable
from salespipe.dashboard.exports import (
    CSV_MIME,
    XLSX_MIME,
    csv_bytes,
    file_stem,
    unique_sheet,
    xlsx_bytes,
)
from salespipe.dashboard.filters import MartParams

log = logging.getLogger("salespipe.dashboard")
PAINTED = "first_paint_done"

# What each optional field enables, to explain a skipped mart in the user's words.
FIELD_HINTS = {
    "customer_id": "customer_id (map it in the source's contract to see customers)",
    "salesperson_id": "salesperson_id (map it in the source's contract to see the sales team)",
    "category": "category (map it in the source's contract to see categories)",
    "transaction_id": "transaction_id (orders need it)",
}


def unavailable_text(exc: MartUnavailable) -> str:
    if exc.status == "skipped":
        needs = exc.note or "a field this source does not provide"
        for field_name, hint in FIELD_HINTS.items():
            if field_name in needs:
                needs = needs.replace(field_name, hint, 1)
                break
        return f"Not available for this data: `{exc.name}` is skipped: {needs}."
    if exc.status == "not built":
        return (
            f"`{exc.name}` is not built yet: it appears after the first load "
            "(`salespipe run`); this page updates by itself when it commits."
        )
    return f"`{exc.name}` is {exc.status}" + (f": {exc.note}" if exc.note else ".")


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Run a section; a failure shows a message in its place and the page goes on."""
    try:
        yield
    except MartUnavailable as exc:
        st.info(unavailable_text(exc), icon=":material/info:")
    except ApiUnavailable as exc:
        st.warning(f"{what}: {exc}", icon=":material/cloud_off:")
    except DashboardError as exc:
        st.warning(f"{what} cannot be shown: {exc}", icon=":material/warning:")
    except Exception as exc:  # a bug must not take the page down with a traceback
        log.exception("dashboard section %r failed", what)
        st.error(f"{what} could not be drawn ({type(exc).__name__}: {exc}).")


def no_sales(ctx: PageContext, what: str = "sales") -> None:
    st.info(
        f"No {what} for {ctx.filter_summary()}. Widen the period or clear a filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )


def empty_warehouse() -> None:
    st.info(
        "The warehouse has no sales yet. Drop export files into a source's landing folder "
        "and run `salespipe run` (or `POST /api/v1/runs`): this page shows the numbers by "
        "itself as soon as the load commits.",
        icon=":material/inbox:",
    )


def mart_note(
    ctx: PageContext, params: MartParams, mart: str, *, monthly: bool = False
) -> str | None:
    """Say which chosen filters a mart ignores, and when whole months stand for the period;
    returns the caption, for the exports of the tables it describes."""
    notes = []
    note = params.note(mart)
    if note:
        notes.append(note)
    start, end = params.params.get("from"), params.params.get("to")
    if ctx.last_day and end and date.fromisoformat(end) >= ctx.last_day:
        end = None  # no sale after the period: its last month is whole enough
    if monthly and not whole_months(start, end):
        notes.append("Monthly marts count the whole months the period touches.")
    if not notes:
        return None
    text = " ".join(notes)
    st.caption(text)
    return text


def whole_months(start: str | None, end: str | None) -> bool:
    """The period starts on a month's first day and ends on a month's last day."""
    if start and date.fromisoformat(start).day != 1:
        return False
    return not end or (date.fromisoformat(end) + timedelta(days=1)).day == 1


def _column_config(frame: pd.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for column in frame.columns:
        series = frame[column]
        sample = next((v for v in series if v is not None and not pd.isna(v)), None)
        if isinstance(sample, Decimal) and sample.as_tuple().exponent == -2:
            config[str(column)] = st.column_config.NumberColumn(format="accounting")
    return config


def show_table(
    ctx: PageContext,
    title: str,
    frame: pd.DataFrame,
    source: str,
    *,
    height: int | None = None,
    note: str | None = None,
) -> None:
    """A table, registered for the view's workbook, with CSV and Excel downloads."""
    ctx.view.add(title, frame, source, note)
    draw_table(ctx, title, frame, height=height, note=note)


def draw_table(
    ctx: PageContext,
    title: str,
    frame: pd.DataFrame,
    *,
    height: int | None = None,
    note: str | None = None,
) -> None:
    table_name = unique_sheet(title, [])
    st.dataframe(
        frame,
        hide_index=True,
        height=height or "auto",
        column_config=_column_config(frame),
    )
    stem = file_stem(f"{ctx.view.page}-{table_name}")
    left, right, _ = st.columns([1, 1, 4])
    with left:
        st.download_button(
            "CSV",
            data=lambda: csv_bytes(frame),
            file_name=f"{stem}.csv",
            mime=CSV_MIME,
            key=f"csv-{stem}",
            icon=":material/download:",
            on_click="ignore",
            help=f"{title} as CSV",
        )
    with right:
        st.download_button(
            "Excel",
            data=lambda: xlsx_bytes(frame, table_name, note),
            file_name=f"{stem}.xlsx",
            mime=XLSX_MIME,
            key=f"xlsx-{stem}",
            icon=":material/download:",
            on_click="ignore",
            help=f"{title} as an Excel workbook",
        )


def data_tables(
    ctx: PageContext,
    tables: Sequence[tuple[str, pd.DataFrame, str]],
    label: str = "Data",
    *,
    note: str | None = None,
) -> None:
    """Tables behind an expander. Each joins the view's workbook at once, but is drawn
    (with its downloads) only once opened: a first visit loads no table component.
    `note` (a filter the tables ignore, say) goes with them into the exports."""
    for title, frame, source in tables:
        ctx.view.add(title, frame, source, note)
    key = "tables-" + file_stem(f"{ctx.view.page}-{tables[0][0]}")
    with st.expander(label, key=key, on_change="rerun") as box:
        if box.open:
            for title, frame, _ in tables:
                draw_table(ctx, title, frame, note=note)


def let_browser_paint(seconds: float = 0.25) -> None:
    """On a session's first run, give the browser a moment to draw what it has.

    Plotly's component is 4.7 MB of JavaScript, loaded when the first chart arrives; its
    evaluation holds the browser's main thread, so cards sent in the same breath would
    wait for it. Later runs find it loaded and do not pause.
    """
    if not st.session_state.get(PAINTED):
        st.session_state[PAINTED] = True
        time.sleep(seconds)


def chart(figure: Any) -> None:
    from salespipe.dashboard.charts import figure_config

    st.plotly_chart(figure, config=figure_config())
