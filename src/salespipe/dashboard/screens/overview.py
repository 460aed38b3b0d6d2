# mypy: disable-error-code="import-untyped"
"""Overview: KPI cards with their change against the comparison period, the sales trend,
top products and sales by category, and the whole overview as a PDF report."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

import pandas as pd
import streamlit as st

from salespipe.dashboard import charts, frames
from salespipe.dashboard.client import DashboardError
from salespipe.dashboard.context import PageContext, current_context
from salespipe.dashboard.exports import PDF_MIME, file_stem
from salespipe.dashboard.filters import COMPARISONS, Period
from salespipe.dashboard.formatting import (
    CARDS,
    MOM_DEFINITION,
    KpiCard,
    card_delta,
    card_value,
    money,
    pct,
    units,
)
from salespipe.dashboard.report import KpiLine, OverviewReport, render_pdf
from salespipe.dashboard.ui import (
    chart,
    data_tables,
    empty_warehouse,
    guarded,
    let_browser_paint,
    mart_note,
    no_sales,
)

GROSS_CARD = KpiCard(
    "gross_sales", "Gross sales", "money", "Line revenue of lines with quantity > 0."
)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def mom_periods(end: date) -> tuple[Period, Period]:
    """The calendar month containing `end`, and the month before it."""
    start, stop = month_bounds(end)
    prev_start, prev_stop = month_bounds(start - timedelta(days=1))
    return Period(start, stop), Period(prev_start, prev_stop)


def month_over_month(ctx: PageContext, end: date) -> tuple[str, Decimal | None]:
    """MoM % of the calendar month containing `end`, from the API's KPIs of both months."""
    month, before = mom_periods(end)
    current = ctx.source.kpis(ctx.filters, month, None)
    previous = ctx.source.kpis(ctx.filters, before, None)
    start = month.start or end
    label = start.strftime("%b %Y")
    if not previous["lines"] or previous["net_sales"] in (None, 0):
        return label, None
    change = Decimal(current["net_sales"]) - Decimal(previous["net_sales"])
    return label, frames.ratio(change, previous["net_sales"], Decimal(100))


def kpi_cards(ctx: PageContext, kpis: dict[str, Any]) -> list[KpiLine]:
    """Draw the cards; returns their lines for the KPI table and the PDF."""
    mode = ctx.filters.compare
    block = (kpis.get("comparison") or {}).get(mode)
    current = block["current"] if block else kpis
    if block:
        previous = block["previous"]
        st.caption(
            f"{current['from']} to {current['to']} compared with {previous['from']} to "
            f"{previous['to']} ({COMPARISONS[mode].lower()})"
            + ("." if previous.get("lines") else ", which has no sales: no change to show.")
            + (f" Amounts in {ctx.settings.currency}." if ctx.settings.currency else "")
        )
        if not previous.get("lines"):
            block = None  # a change against nothing is no information
    else:
        st.caption("No comparison: the period has no sales.")
    cards = [c for c in CARDS if c.key != "margin_pct" or current.get("margin_pct") is not None]
    if len(cards) < len(CARDS):
        cards.append(GROSS_CARD)  # no cost in the data: gross sales take margin's place
    lines: list[KpiLine] = []
    slots = st.columns(4) + st.columns(4)
    order = [*cards[:5], None, *cards[5:]]  # MoM % sits after active stores
    for slot, card in zip(slots, order, strict=False):
        with slot:
            if card is None:
                lines.append(mom_card(ctx, current))
                continue
            value = card_value(card, current.get(card.key))
            change = block["change"].get(card.key) if block else None
            delta = card_delta(card, change, block["change_pct"].get(card.key)) if block else None
            color: Literal["normal", "inverse", "off"] = "normal" if card.up_is_good else "inverse"
            st.metric(
                card.label,
                value,
                delta=delta,
                delta_color="off" if change == 0 else color,
                delta_arrow="off" if change == 0 else "auto",
                help=card.definition,
                border=True,
            )
            before = card_value(card, block["previous"].get(card.key)) if block else "—"
            lines.append(KpiLine(card.label, value, before, delta or "—"))
    return lines


def mom_card(ctx: PageContext, current: dict[str, Any]) -> KpiLine:
    end = ctx.period.end or (date.fromisoformat(current["to"]) if current.get("to") else None)
    if end is None:
        st.metric("MoM %", "—", help=MOM_DEFINITION, border=True)
        return KpiLine("MoM %", "—", "—", "—")
    label, value = month_over_month(ctx, end)
    text = pct(value, signed=True) if value is not None else "—"
    st.metric(f"MoM % ({label})", text, help=MOM_DEFINITION, border=True)
    return KpiLine(f"MoM % ({label})", text, "previous month", "—")


def sales_trend(ctx: PageContext) -> pd.DataFrame:
    """Daily net sales (monthly with a category: only monthly marts know categories)."""
    source = ctx.source
    if ctx.filters.category:
        params = source.params_for("store_category_matrix", ctx.filters, ctx.period)
        rows = source.mart("store_category_matrix", params.params)
        monthly = frames.totals(rows, ["month"], frames.SALES_SUMS)
        st.subheader("Net sales by month")
        mart_note(ctx, params, "store_category_matrix", monthly=True)
        if monthly.empty:
            no_sales(ctx)
            return pd.DataFrame(columns=["day", "value"])
        chart(charts.trend(monthly, "month", "net_sales", "net sales"))
        data_tables(ctx, [("Net sales by month", monthly, "store_category_matrix")])
        return pd.DataFrame({"day": monthly["month"], "value": monthly["net_sales"]})
    params = source.params_for("sales_daily", ctx.filters, ctx.period)
    daily = frames.daily_totals(source.mart("sales_daily", params.params))
    st.subheader("Net sales by day")
    mart_note(ctx, params, "sales_daily")
    if daily.empty:
        no_sales(ctx)
        return pd.DataFrame(columns=["day", "value"])
    chart(charts.trend(daily, "sale_date", "net_sales", "net sales"))
    data_tables(ctx, [("Net sales by day", daily, "sales_daily")])
    return pd.DataFrame({"day": daily["sale_date"], "value": daily["net_sales"]})


def top_products(ctx: PageContext, n: int = 10) -> pd.DataFrame:
    source = ctx.source
    params = source.params_for("top_products", ctx.filters, ctx.period)
    products = frames.product_totals(source.mart("top_products", params.params))
    top = frames.top_n(products, "net_sales", n)
    st.subheader(f"Top {n} products")
    mart_note(ctx, params, "top_products", monthly=True)
    if top.empty:
        no_sales(ctx, "products")
        return top
    labels = top.assign(
        label=[str(p or i) for p, i in zip(top["product_name"], top["product_id"], strict=True)]
    )
    chart(charts.hbar(labels, "label", "net_sales", "net sales"))
    table = top[["rank", "product_id", "product_name", "category", "net_sales", "units_sold"]]
    data_tables(ctx, [("Top products", table, "top_products")])
    return table


def categories(ctx: PageContext) -> pd.DataFrame:
    source = ctx.source
    params = source.params_for("store_category_matrix", ctx.filters, ctx.period)
    totals = frames.category_totals(source.mart("store_category_matrix", params.params))
    st.subheader("Sales by category")
    mart_note(ctx, params, "store_category_matrix", monthly=True)
    if totals.empty:
        no_sales(ctx, "categories")
        return totals
    chart(charts.hbar(totals, "category", "net_sales", "net sales"))
    table = totals[["category", "net_sales", "gross_sales", "returns_value", "units_sold"]]
    data_tables(ctx, [("Sales by category", table, "store_category_matrix")])
    return table


def pdf_report(
    ctx: PageContext,
    lines: list[KpiLine],
    trend: pd.DataFrame,
    top: pd.DataFrame,
    cats: pd.DataFrame,
) -> bytes:
    about = [*ctx.describe(), ("snapshot", ctx.source.snapshot)]
    tables: list[tuple[str, pd.DataFrame]] = []
    if not top.empty:
        tables.append(
            (
                "Top products",
                pd.DataFrame(
                    {
                        "#": top["rank"],
                        "product": [
                            str(n or p)
                            for n, p in zip(top["product_name"], top["product_id"], strict=True)
                        ],
                        "category": top["category"],
                        "net sales": [money(v) for v in top["net_sales"]],
                        "units": [units(v) for v in top["units_sold"]],
                    }
                ),
            )
        )
    if not cats.empty:
        tables.append(
            (
                "Sales by category",
                pd.DataFrame(
                    {
                        "category": cats["category"],
                        "net sales": [money(v) for v in cats["net_sales"]],
                        "returns": [money(v) for v in cats["returns_value"]],
                        "units": [units(v) for v in cats["units_sold"]],
                    }
                ),
            )
        )
    if not trend.empty:
        tables.append(
            (
                "Net sales by day" if not ctx.filters.category else "Net sales by month",
                pd.DataFrame(
                    {
                        "day": [str(d) for d in trend["day"]],
                        "net sales": [money(v) for v in trend["value"]],
                    }
                ),
            )
        )
    report = OverviewReport(
        title="salespipe overview",
        about=about,
        kpis=lines,
        trend=trend,
        trend_label="Net sales by month" if ctx.filters.category else "Net sales by day",
        tables=tables,
    )
    return render_pdf(report)


def prefetch(ctx: PageContext) -> None:
    """Ask for every answer the page needs at once; drawing then waits only for the slowest."""
    source = ctx.source
    if ctx.period.end is not None:
        for period in mom_periods(ctx.period.end):
            source.prefetch_kpis(ctx.filters, period, None)
    marts = ["top_products", "store_category_matrix"]
    marts.append("store_category_matrix" if ctx.filters.category else "sales_daily")
    for name in marts:
        if source.available(name):
            source.prefetch_mart(name, source.params_for(name, ctx.filters, ctx.period).params)


def render(ctx: PageContext) -> None:
    head, button = st.columns([5, 1], vertical_alignment="bottom")
    with head:
        st.title("Overview")
    if ctx.empty:
        empty_warehouse()
        return
    lines: list[KpiLine] = []
    with contextlib.suppress(DashboardError):  # each section reports its own failure
        prefetch(ctx)
    with guarded("KPIs"):
        kpis = ctx.source.kpis(ctx.filters, ctx.period, ctx.filters.compare)
        if not kpis.get("lines"):
            no_sales(ctx)
            return
        lines = kpi_cards(ctx, kpis)
        let_browser_paint()
        data_tables(
            ctx,
            [
                (
                    "KPIs",
                    pd.DataFrame(
                        [(k.label, k.value, k.previous, k.change) for k in lines],
                        columns=["kpi", "value", "comparison", "change"],
                    ),
                    "/api/v1/kpis",
                )
            ],
            label="KPI table",
        )
    trend = pd.DataFrame(columns=["day", "value"])
    with guarded("Sales trend"):
        trend = sales_trend(ctx)
    left, right = st.columns(2)
    top = cats = pd.DataFrame()
    with left, guarded("Top products"):
        top = top_products(ctx)
    with right, guarded("Sales by category"):
        cats = categories(ctx)
    with button:
        st.download_button(
            "PDF report",
            data=lambda: pdf_report(ctx, lines, trend, top, cats),
            file_name=file_stem(f"salespipe-overview-{ctx.period.label}") + ".pdf",
            mime=PDF_MIME,
            key="overview-pdf",
            icon=":material/picture_as_pdf:",
            on_click="ignore",
            help="The overview with these filters as a paginated PDF.",
        )


if __name__ == "__main__":
    render(current_context())
