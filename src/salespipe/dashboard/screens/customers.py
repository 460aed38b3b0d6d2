# mypy: disable-error-code="import-untyped"
"""Customers: RFM segments and the cohort retention heatmap (needs customer_id)."""

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
    show_table,
)


def rfm(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("customer_rfm", ctx.filters, ctx.period, dated=False)
    customers = source.mart("customer_rfm", params.params)
    if customers.empty:
        no_sales(ctx, "customers with a purchase")
        return
    as_of = customers["as_of_date"].iloc[0]
    st.caption(
        f"Every customer with a purchase, as of {as_of}; scores 1..5 (5 best) by recency, "
        "frequency and monetary value, segments by recency and frequency."
    )
    mart_note(ctx, params, "customer_rfm")
    segments = frames.rfm_segments(customers)
    left, right = st.columns(2)
    with left:
        chart(charts.hbar(segments, "segment", "customers", "customers"))
    with right:
        chart(charts.hbar(segments, "segment", "monetary", "net sales"))
    show_table(ctx, "RFM segments", segments, "customer_rfm")
    tagged = customers.assign(
        segment=[
            frames.rfm_segment(int(r), int(f))
            for r, f in zip(customers["r_score"], customers["f_score"], strict=True)
        ]
    )
    data_tables(ctx, [("Customers", tagged, "customer_rfm")], label="Customers")


def cohorts(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("cohort_retention", ctx.filters, ctx.period)
    rows = source.mart("cohort_retention", params.params)
    mart_note(ctx, params, "cohort_retention", monthly=True)
    matrix = frames.cohort_matrix(rows)
    if matrix.empty:
        no_sales(ctx, "customer activity")
        return
    st.caption(
        "Share of each cohort (customers by month of first purchase) buying again N months "
        "later; the period filters the activity months."
    )
    chart(
        charts.heatmap(
            matrix,
            x_label="months since first purchase",
            y_label="cohort",
            value_label="retention %",
            scale="Greens",
        )
    )
    data_tables(ctx, [("Cohort retention", rows, "cohort_retention")])


def render(ctx: PageContext) -> None:
    st.title("Customers")
    if ctx.empty:
        empty_warehouse()
        return
    st.subheader("RFM segments")
    with guarded("RFM segments"):
        rfm(ctx)
    st.subheader("Cohort retention")
    with guarded("Cohort retention"):
        cohorts(ctx)


if __name__ == "__main__":
    render(current_context())
