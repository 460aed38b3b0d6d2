# mypy: disable-error-code="import-untyped"
"""Trends: daily and monthly series with 7- and 28-day rolling averages, revenue or
volume, and seasonality by weekday and by hour."""

from __future__ import annotations

import streamlit as st

from salespipe.dashboard import charts, frames
from salespipe.dashboard.context import PageContext, current_context
from salespipe.dashboard.ui import (
    chart,
    data_tables,
    empty_warehouse,
    guarded,
    mart_note,
    no_sales,
)

MEASURES = {"revenue": "Revenue (net sales)", "volume": "Volume (net units)"}
HOURLY_MARTS = ("sales_hourly", "sales_by_hour")  # served by the API once a mart has hours


def daily(ctx: PageContext, measure: str) -> None:
    source = ctx.source
    params = source.params_for("rolling_revenue", ctx.filters, ctx.period)
    rolling = frames.rolling_totals(source.mart("rolling_revenue", params.params))
    mart_note(ctx, params, "rolling_revenue")
    if rolling.empty:
        no_sales(ctx)
        return
    day_params = source.params_for("sales_daily", ctx.filters, ctx.period)
    days = frames.daily_totals(source.mart("sales_daily", day_params.params))
    series = rolling.merge(days[["sale_date", "net_units"]], on="sale_date", how="left")
    if measure == "revenue":
        value, label, averages = "net_sales", "net sales", ("avg_7d", "avg_28d")
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
        ctx, [("Daily series", series[["sale_date", value, *averages, *extra]], "rolling_revenue")]
    )


def monthly(ctx: PageContext, measure: str) -> None:
    source = ctx.source
    column, label = (
        ("net_sales", "net sales") if measure == "revenue" else ("net_units", "net units")
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
    mart_note(ctx, params, mart, monthly=True)
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
    data_tables(ctx, [("Monthly series", months[keep], mart)])


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


def hours(ctx: PageContext, measure: str) -> None:
    st.subheader("By hour")
    mart = next((m for m in HOURLY_MARTS if m in ctx.source.catalog()), None)
    if mart is None:
        st.info(
            "Hourly seasonality needs a mart with the hour of sale, which this API does not "
            "serve yet (the marts aggregate by business day).",
            icon=":material/schedule:",
        )
        return
    params = ctx.source.params_for(mart, ctx.filters, ctx.period)
    rows = ctx.source.mart(mart, params.params)
    mart_note(ctx, params, mart)
    if rows.empty or "hour" not in rows.columns:
        no_sales(ctx)
        return
    column = "net_sales" if measure == "revenue" else "net_units"
    by_hour = frames.totals(rows, ["hour"], (column,))
    chart(charts.bars(by_hour, "hour", column, column.replace("_", " ")))
    data_tables(ctx, [("By hour", by_hour, mart)])


def render(ctx: PageContext) -> None:
    st.title("Trends")
    if ctx.empty:
        empty_warehouse()
        return
    st.caption(ctx.filter_summary())
    left, right = st.columns(2)
    with left:
        grain = st.segmented_control(
            "Series", ["Daily", "Monthly"], default="Daily", key="trend_grain"
        )
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
    with left, guarded("Weekday seasonality"):
        weekdays(ctx, measure)
    with right, guarded("Hourly seasonality"):
        hours(ctx, measure)


if __name__ == "__main__":
    render(current_context())
