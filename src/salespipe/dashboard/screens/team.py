# mypy: disable-error-code="import-untyped"
"""Sales team: each month's ranking of salespeople per store, and the incentives earned
by every rank-1 salesperson (needs salesperson_id)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from salespipe.dashboard import charts, frames
from salespipe.dashboard.context import PageContext, current_context
from salespipe.dashboard.ui import (
    chart,
    empty_warehouse,
    guarded,
    mart_note,
    no_sales,
    show_table,
)


def ranking_chart(month_rows: pd.DataFrame, names: dict[str, str], top: int = 3) -> go.Figure:
    """The first `top` salespeople of each store, side by side."""
    best = month_rows[month_rows["sales_rank"] <= top]
    figure = go.Figure()
    for rank in range(1, top + 1):
        part = best[best["sales_rank"] == rank]
        figure.add_bar(
            x=[names.get(str(s), str(s)) for s in part["store_id"]],
            y=[float(v) for v in part["net_sales"]],
            name=f"rank {rank}",
            customdata=[
                str(n or i)
                for n, i in zip(part["salesperson_name"], part["salesperson_id"], strict=True)
            ],
            hovertemplate="%{customdata}: %{y:,.2f}<extra></extra>",
        )
    figure.update_layout(barmode="group", hovermode="closest")
    figure.update_yaxes(title_text="net sales")
    return charts.layout(figure)


def render(ctx: PageContext) -> None:
    st.title("Sales team")
    if ctx.empty:
        empty_warehouse()
        return
    st.caption(ctx.filter_summary())
    with guarded("Sales team"):
        source = ctx.source
        params = source.params_for("salesperson_monthly", ctx.filters, ctx.period)
        rows = source.mart("salesperson_monthly", params.params)
        mart_note(ctx, params, "salesperson_monthly", monthly=True)
        if rows.empty:
            no_sales(ctx, "sales by salespeople")
            return
        months = sorted(set(rows["month"]), reverse=True)
        month = st.selectbox(
            "Month", months, format_func=lambda m: m.strftime("%B %Y"), key="team_month"
        )
        st.subheader(f"Ranking per store, {month:%B %Y}")
        month_rows = frames.ranking(rows, month)
        chart(ranking_chart(month_rows, ctx.store_names()))
        show_table(ctx, f"Ranking {month:%Y-%m}", month_rows, "salesperson_monthly")
        st.subheader("Incentives")
        st.caption("Every rank-1 salesperson of a store and month earns 1% of their net sales.")
        earned = frames.incentives(rows)
        per_month = frames.totals(earned, ["month"], ("incentive",))
        chart(charts.bars(per_month, "month", "incentive", "incentives"))
        show_table(ctx, "Incentives", earned, "salesperson_monthly")


if __name__ == "__main__":
    render(current_context())
