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
    is_no_change,
    money,
    pct,
    shown,
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
# Streamlit cuts a metric's value and label with an ellipsis when the card is narrow (four
# cards a row at 1024-1280 px): cents or digits would be hidden. Values shrink with their
# card (container units) and wrap rather than being cut; labels wrap.
CARD_CSS = """<style>
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricValue"] { font-size: clamp(1.05rem, 13.5cqi, 2.25rem); line-height: 1.2; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; overflow-wrap: anywhere;
}
</style>"""


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
            + " "
            + ctx.currency_note()
        )
        if not previous.get("lines"):
            block = None  # a change against nothing is no information
    else:
        st.caption("No comparison: the period has no sales. " + ctx.currency_note())
    st.html(CARD_CSS)
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
            change_pct = block["change_pct"].get(card.key) if block else None
            delta = card_delta(card, change, change_pct) if block else None
            color: Literal["normal", "inverse", "off"] = "normal" if card.up_is_good else "inverse"
            flat = is_no_change(card, change)
            label = ctx.amounts(card.label) if card.kind == "money" else card.label
            st.metric(
                label,
                value,
                delta=delta,
                delta_color="off" if flat else color,
                delta_arrow="off" if flat else "auto",
                help=card.definition,
                border=True,
            )
            previous_value = block["previous"].get(card.key) if block else None
            lines.append(
                KpiLine(
                    card.label,  # its currency is in `unit`
                    value,
                    card_value(card, previous_value) if block else "—",
                    delta or "—",
                    value_number=_number(current.get(card.key)),
                    previous_number=_number(previous_value),
                    change_number=_number(0 if flat else change),
                    change_pct=_number(0 if flat and change_pct is not None else change_pct),
                    unit=_unit(ctx, card),
                )
            )
    return lines


def _number(value: Any) -> Decimal | None:
    """An exact number for the KPI table; -0.00 becomes 0.00."""
    if value is None:
        return None
    number = Decimal(str(value))
    return number if number != 0 else abs(number)


def _unit(ctx: PageContext, card: KpiCard) -> str:
    if card.kind == "money":
        return ctx.settings.currency or "reporting currency"
    return {"pct": "% (change: pts)", "count": "count", "units": "units"}[card.kind]


def kpi_table(lines: list[KpiLine]) -> pd.DataFrame:
    """The cards as numbers (not their text), one column each: value, comparison, change."""
    return pd.DataFrame(
        {
            "kpi": [k.label for k in lines],
            "value": [k.value_number for k in lines],
            "comparison": [k.previous_number for k in lines],
            "change": [k.change_number for k in lines],
            "change_pct": [k.change_pct for k in lines],
            "unit": [k.unit for k in lines],
        }
    )


def mom_card(ctx: PageContext, current: dict[str, Any]) -> KpiLine:
    end = ctx.period.end or (date.fromisoformat(current["to"]) if current.get("to") else None)
    if end is None:
        st.metric("MoM %", "—", help=MOM_DEFINITION, border=True)
        return KpiLine("MoM %", "—", "—", "—", unit="%")
    label, value = month_over_month(ctx, end)
    text = pct(value, signed=True) if value is not None else "—"
    st.metric(f"MoM % ({label})", text, help=MOM_DEFINITION, border=True)
    number = shown(value) if value is not None else None
    return KpiLine(f"MoM % ({label})", text, "previous month", "—", value_number=number, unit="%")


MONTHLY_TREND = "Net sales by month"
MONTHLY_WHY = "Monthly, not daily: only the monthly mart `store_category_matrix` knows categories."


def sales_trend(ctx: PageContext, notes: dict[str, str]) -> pd.DataFrame:
    """Daily net sales (monthly with a category: only monthly marts know categories)."""
    source = ctx.source
    label = ctx.amounts("net sales")
    if ctx.filters.category:
        params = source.params_for("store_category_matrix", ctx.filters, ctx.period)
        rows = source.mart("store_category_matrix", params.params)
        monthly = frames.totals(rows, ["month"], frames.SALES_SUMS)
        st.subheader(MONTHLY_TREND)
        st.caption(MONTHLY_WHY)
        note = mart_note(ctx, params, "store_category_matrix", monthly=True)
        notes[MONTHLY_TREND] = " ".join(n for n in (MONTHLY_WHY, note) if n)
        if monthly.empty:
            no_sales(ctx)
            return pd.DataFrame(columns=["day", "value"])
        chart(charts.trend(monthly, "month", "net_sales", label, monthly=True))
        data_tables(
            ctx,
            [(MONTHLY_TREND, monthly, "store_category_matrix")],
            note=notes[MONTHLY_TREND],
        )
        return pd.DataFrame({"day": monthly["month"], "value": monthly["net_sales"]})
    params = source.params_for("sales_daily", ctx.filters, ctx.period)
    daily = frames.daily_totals(source.mart("sales_daily", params.params))
    st.subheader("Net sales by day")
    note = mart_note(ctx, params, "sales_daily")
    if note:
        notes["Net sales by day"] = note
    if daily.empty:
        no_sales(ctx)
        return pd.DataFrame(columns=["day", "value"])
    chart(charts.trend(daily, "sale_date", "net_sales", label))
    data_tables(ctx, [("Net sales by day", daily, "sales_daily")], note=note)
    return pd.DataFrame({"day": daily["sale_date"], "value": daily["net_sales"]})


def top_products(ctx: PageContext, notes: dict[str, str], n: int = 10) -> pd.DataFrame:
    source = ctx.source
    params = source.params_for("top_products", ctx.filters, ctx.period)
    products = frames.product_totals(source.mart("top_products", params.params))
    top = frames.top_n(products, "net_sales", n)
    st.subheader(f"Top {n} products")
    note = mart_note(ctx, params, "top_products", monthly=True)
    if note:
        notes["Top products"] = note
    if top.empty:
        no_sales(ctx, "products")
        return top
    labels = top.assign(
        label=[str(p or i) for p, i in zip(top["product_name"], top["product_id"], strict=True)]
    )
    chart(charts.hbar(labels, "label", "net_sales", ctx.amounts("net sales")))
    table = top[["rank", "product_id", "product_name", "category", "net_sales", "units_sold"]]
    data_tables(ctx, [("Top products", table, "top_products")], note=note)
    return table


def categories(ctx: PageContext, notes: dict[str, str]) -> pd.DataFrame:
    source = ctx.source
    params = source.params_for("store_category_matrix", ctx.filters, ctx.period)
    totals = frames.category_totals(source.mart("store_category_matrix", params.params))
    st.subheader("Sales by category")
    note = mart_note(ctx, params, "store_category_matrix", monthly=True)
    if note:
        notes["Sales by category"] = note
    if totals.empty:
        no_sales(ctx, "categories")
        return totals
    chart(charts.hbar(totals, "category", "net_sales", ctx.amounts("net sales")))
    table = totals[["category", "net_sales", "gross_sales", "returns_value", "units_sold"]]
    data_tables(ctx, [("Sales by category", table, "store_category_matrix")], note=note)
    return table


def pdf_report(
    ctx: PageContext,
    lines: list[KpiLine],
    trend: pd.DataFrame,
    top: pd.DataFrame,
    cats: pd.DataFrame,
    notes: dict[str, str],
) -> bytes:
    about = [*ctx.describe(), ("snapshot", ctx.source.snapshot)]
    if not ctx.settings.currency:
        about.append(("currency", ctx.currency_note()))
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
                        ctx.amounts("net sales"): [money(v) for v in top["net_sales"]],
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
                        ctx.amounts("net sales"): [money(v) for v in cats["net_sales"]],
                        ctx.amounts("returns"): [money(v) for v in cats["returns_value"]],
                        "units": [units(v) for v in cats["units_sold"]],
                    }
                ),
            )
        )
    monthly = bool(ctx.filters.category)
    trend_label = MONTHLY_TREND if monthly else "Net sales by day"
    grain = "month" if monthly else "day"
    if not trend.empty:
        tables.append(
            (
                trend_label,
                pd.DataFrame(
                    {
                        grain: [d.strftime("%b %Y") if monthly else str(d) for d in trend["day"]],
                        ctx.amounts("net sales"): [money(v) for v in trend["value"]],
                    }
                ),
            )
        )
    report = OverviewReport(
        title="salespipe overview",
        about=about,
        kpis=lines,
        trend=trend,
        trend_label=trend_label,
        tables=tables,
        notes=notes,
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
    # The button's column is wide enough for its label at 1024 px (a narrower one cut it).
    head, button = st.columns([3, 1], vertical_alignment="bottom")
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
        data_tables(ctx, [("KPIs", kpi_table(lines), "/api/v1/kpis")], label="KPI table")
    trend = pd.DataFrame(columns=["day", "value"])
    notes: dict[str, str] = {}
    with guarded("Sales trend"):
        trend = sales_trend(ctx, notes)
    left, right = st.columns(2)
    top = cats = pd.DataFrame()
    with left, guarded("Top products"):
        top = top_products(ctx, notes)
    with right, guarded("Sales by category"):
        cats = categories(ctx, notes)
    with button:
        st.download_button(
            "PDF report",
            data=lambda: pdf_report(ctx, lines, trend, top, cats, notes),
            file_name=file_stem(f"salespipe-overview-{ctx.period.label}") + ".pdf",
            mime=PDF_MIME,
            key="overview-pdf",
            icon=":material/picture_as_pdf:",
            on_click="ignore",
            help="The overview with these filters as a paginated PDF.",
        )


if __name__ == "__main__":
    render(current_context())
