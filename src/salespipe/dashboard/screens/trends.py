# mypy: disable-error-code="import-untyped"
"""Trends: daily and monthly series with 7- and 28-day rolling averages, revenue or
volume, and seasonality by weekday and by hour."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from salespipe.dashboard import charts, frames
from salespipe.dashboard.client import MAX_ROWS
from salespipe.dashboard.context import PageContext, current_context
from salespipe.dashboard.filters import MartParams
from salespipe.dashboard.ui import (
    chart,
    data_tables,
    empty_warehouse,
    guarded,
    mart_note,
    no_sales,
)

MEASURES = {"revenue": "Revenue (net sales)", "volume": "Volume (net units)"}
GRAINS = {"daily": "Daily", "monthly": "Monthly"}  # URL value -> control option
GRAIN_KEY = "trend_grain"
HOURLY = "sales_hourly"
HOURLY_COLUMNS = ("sale_date", "hour", "net_sales", "net_units")


def daily(ctx: PageContext, measure: str) -> None:
    source = ctx.source
    params = source.params_for("rolling_revenue", ctx.filters, ctx.period)
    rolling = frames.rolling_totals(source.mart("rolling_revenue", params.params))
    note = mart_note(ctx, params, "rolling_revenue")
    if rolling.empty:
        no_sales(ctx)
        return
    day_params = source.params_for("sales_daily", ctx.filters, ctx.period)
    days = frames.daily_totals(source.mart("sales_daily", day_params.params))
    series = rolling.merge(days[["sale_date", "net_units"]], on="sale_date", how="left")
    if measure == "revenue":
        value, label, averages = "net_sales", ctx.amounts("net sales"), ("avg_7d", "avg_28d")
        extra = ["net_sales_7d", "net_sales_28d"]
    else:
        value, label, averages = "net_units", "net units", ("units_avg_7d", "units_avg_28d")
        extra = ["net_units_7d", "net_units_28d"]
    figure = charts.trend(
        series,
        "sale_date",
        value,
        label,
        averages=((averages[0], "7-day average"), (averages[1], "28-day average")),
    )
    st.caption(
        "Averages are the 7 and 28 calendar days ending on each day, divided by 7 and 28 "
        "(days without sales count as zero)."
    )
    chart(figure)
    data_tables(
        ctx,
        [("Daily series", series[["sale_date", value, *averages, *extra]], "rolling_revenue")],
        note=note,
    )


def monthly(ctx: PageContext, measure: str) -> None:
    source = ctx.source
    column, label = (
        ("net_sales", ctx.amounts("net sales"))
        if measure == "revenue"
        else ("net_units", "net units")
    )
    change: str | None = None
    if ctx.filters.category:
        mart = "store_category_matrix"
    elif ctx.filters.store or ctx.filters.region:
        mart = "sales_by_store"
    else:
        mart = "sales_monthly"
    params = source.params_for(mart, ctx.filters, ctx.period)
    rows = source.mart(mart, params.params)
    if mart == "sales_monthly":
        months = rows
        change = "mom_pct" if measure == "revenue" else None
    else:
        months = frames.totals(rows, ["month"], frames.SALES_SUMS)
    note = mart_note(ctx, params, mart, monthly=True)
    if months.empty:
        no_sales(ctx)
        return
    chart(charts.monthly_with_change(months, column, label, change))
    keep = [
        "month",
        "net_sales",
        "gross_sales",
        "returns_value",
        "orders",
        "units_sold",
        "net_units",
    ]
    if change:
        keep += ["previous_net_sales", "mom_pct"]
    data_tables(ctx, [("Monthly series", months[keep], mart)], note=note)


def weekdays(ctx: PageContext, measure: str) -> None:
    source = ctx.source
    params = source.params_for("sales_daily", ctx.filters, ctx.period)
    profile = frames.weekday_profile(frames.daily_totals(source.mart("sales_daily", params.params)))
    st.subheader("By weekday")
    mart_note(ctx, params, "sales_daily")
    if profile.empty or not profile["days"].sum():
        no_sales(ctx)
        return
    column = "average_net_sales" if measure == "revenue" else "average_net_units"
    chart(charts.bars(profile, "weekday", column, f"average {column.split('_', 2)[2]} per day"))
    data_tables(ctx, [("By weekday", profile, "sales_daily")])


def hourly_rows(ctx: PageContext) -> tuple[pd.DataFrame, MartParams] | None:
    """The rows of sales_hourly for the filters, or None after saying why there are none."""
    source = ctx.source
    if source.mart_entry(HOURLY).get("status") == "skipped":
        st.info(
            "Seasonality by hour needs the time of each sale, and every loaded sale has a date "
            "alone (daily totals, say). Map `sold_at` to the date and time of sale in the "
            "source's contract to see it.",
            icon=":material/schedule:",
        )
        return None
    params = source.params_for(HOURLY, ctx.filters, ctx.period)
    total = source.mart_total(HOURLY, params.params)
    if total > MAX_ROWS:
        st.info(
            f"{total:,} store-hours for {ctx.filter_summary()}: more than the {MAX_ROWS:,} the "
            "dashboard reads for a chart. Shorten the period or choose a region or a store.",
            icon=":material/filter_alt:",
        )
        return None
    return source.mart(HOURLY, params.params, columns=HOURLY_COLUMNS), params


def hours(ctx: PageContext, measure: str, below: DeltaGenerator) -> None:
    """Average per day by hour here; the weekday x hour heatmap in `below` (full width)."""
    st.subheader("By hour")
    found = hourly_rows(ctx)
    if found is None:
        return
    rows, params = found
    mart_note(ctx, params, HOURLY)
    if rows.empty:
        no_sales(ctx)
        return
    undated, total = frames.undated_net_sales(rows)
    profile = frames.hour_profile(rows)
    if profile.empty:
        st.info(
            f"No time of day for {ctx.filter_summary()}: these sales come from sources that "
            "send dates alone (daily totals), so they cannot be split by hour.",
            icon=":material/schedule:",
        )
        return
    column = "average_net_sales" if measure == "revenue" else "average_net_units"
    label = f"average {column.split('_', 2)[2]} per day"
    chart(charts.bars(profile, "hour", column, label))
    days = int(profile["days"].iloc[0])
    note = (
        f"Hours of the store's own clock (the zone that decides its business day); "
        f"averages over the {days} day(s) with sales times."
    )
    if undated:
        share = frames.ratio(undated, total, frames.HUNDRED) if total else None
        part = f"{share}% of net sales" if share is not None else "Some sales"
        note += f" {part} in this view come from sources of dates alone and have no hour."
    st.caption(note)
    data_tables(ctx, [("By hour", profile, HOURLY)])
    with below:
        st.subheader("By weekday and hour")
        matrix = frames.weekday_hour_matrix(rows, column.removeprefix("average_"))
        chart(charts.heatmap(matrix, x_label="hour", y_label="weekday", value_label=label))
        data_tables(ctx, [("By weekday and hour", matrix.reset_index(), HOURLY)])


def render(ctx: PageContext) -> None:
    st.title("Trends")
    if ctx.empty:
        empty_warehouse()
        return
    st.caption(ctx.filter_summary())
    left, right = st.columns(2)
    with left:
        grain = st.segmented_control(
            "Series", list(GRAINS.values()), default=url_grain(), key=GRAIN_KEY
        )
    keep_grain_in_url(grain)
    with right:
        measure = st.segmented_control(
            "Measure",
            list(MEASURES),
            format_func=lambda m: MEASURES[m],
            default="revenue",
            key="trend_measure",
        )
    measure = measure or "revenue"
    with guarded("Series"):
        if grain == "Monthly":
            monthly(ctx, measure)
        else:
            daily(ctx, measure)
    left, right = st.columns(2)
    below = st.container()
    with left, guarded("Weekday seasonality"):
        weekdays(ctx, measure)
    with right, guarded("Hourly seasonality"):
        hours(ctx, measure, below)


def url_grain() -> str:
    """The series the URL asks for (`grain=monthly`); a value it cannot be is warned about."""
    asked = st.query_params.get("grain")
    if asked and asked not in GRAINS and GRAIN_KEY not in st.session_state:
        st.warning(f"Ignored URL parameter grain={asked}: it is daily or monthly.")
    return GRAINS.get(str(asked), "Daily")


def keep_grain_in_url(grain: str | None) -> None:
    """Monthly is kept in the URL (daily, the default, is left out), like the filters."""
    if grain == "Monthly":
        if st.query_params.get("grain") != "monthly":
            st.query_params["grain"] = "monthly"
    elif "grain" in st.query_params:
        del st.query_params["grain"]


if __name__ == "__main__":
    render(current_context())
