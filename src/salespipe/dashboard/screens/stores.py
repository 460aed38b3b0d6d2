# mypy: disable-error-code="import-untyped"
"""Stores: drill-down region -> city -> store, the store x category treemap, radar
profiles comparing stores, and the variance of each store's monthly revenue."""

from __future__ import annotations

import pandas as pd
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

ALL = "(all)"
LEVEL_NAMES = {"region": "Regions", "city": "Cities", "store_id": "Stores"}


def store_rows(ctx: PageContext) -> pd.DataFrame:
    source = ctx.source
    params = source.params_for("sales_by_store", ctx.filters, ctx.period)
    mart_note(ctx, params, "sales_by_store", monthly=True)
    return frames.store_totals(source.mart("sales_by_store", params.params))


def drill_down(ctx: PageContext, stores: pd.DataFrame) -> None:
    regions = sorted({str(r) for r in stores["region"].dropna()})
    left, right = st.columns(2)
    with left:
        picked = st.selectbox("Region", [ALL, *regions], key="stores_region")
    region = None if picked in (ALL, None) else str(picked)
    cities = (
        sorted({str(c) for c in stores[stores["region"] == region]["city"].dropna()})
        if region
        else []
    )
    with right:
        picked = st.selectbox("City", [ALL, *cities], key="stores_city", disabled=not region)
    city = None if picked in (ALL, None) or not region else str(picked)
    level, rows = frames.drill_level(stores, region, city)
    if rows.empty:
        no_sales(ctx, "stores")
        return
    label = "store_name" if level == "store_id" else level
    chart_col, sun_col = st.columns([3, 2])
    with chart_col:
        chart(charts.hbar(rows, label, "net_sales", "net sales"))
    with sun_col:
        chart(charts.sunburst(stores))
    path = " > ".join(p for p in ("all regions", region, city) if p)
    data_tables(
        ctx,
        [
            (f"{LEVEL_NAMES[level]} ({path})", rows, "sales_by_store"),
            ("Stores", stores, "sales_by_store"),
        ],
    )


def treemap(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("store_category_matrix", ctx.filters, ctx.period)
    rows = source.mart("store_category_matrix", params.params)
    mart_note(ctx, params, "store_category_matrix", monthly=True)
    cells = frames.totals(rows, ["store_id", "category"], frames.SALES_SUMS)
    if cells.empty:
        no_sales(ctx, "store and category sales")
        return
    chart(charts.treemap(cells, ctx.store_names()))
    data_tables(ctx, [("Store x category", cells, "store_category_matrix")])


def radar(ctx: PageContext, stores: pd.DataFrame) -> None:
    if stores.empty:
        no_sales(ctx, "stores")
        return
    ranked = stores.assign(_k=stores["net_sales"].astype(float)).sort_values("_k", ascending=False)
    names = ctx.store_names()
    ids = [str(s) for s in ranked["store_id"]]
    chosen = st.multiselect(
        "Stores to compare",
        ids,
        default=ids[:4],
        format_func=lambda s: names.get(s, s),
        key="stores_radar",
        max_selections=8,
    )
    if not chosen:
        st.info("Pick stores to compare.")
        return
    st.caption("Each axis: the store's value as a share of the best store's value.")
    profiles = frames.store_profiles(stores, chosen)
    chart(charts.radar(profiles))
    data_tables(ctx, [("Store profiles", profiles, "sales_by_store")])


def variance(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("store_variance", ctx.filters, ctx.period, dated=False)
    rows = source.mart("store_variance", params.params)
    st.caption("All months since each store's first sale; CV = standard deviation / mean.")
    mart_note(ctx, params, "store_variance")
    if rows.empty:
        no_sales(ctx, "stores")
        return
    ordered = rows.assign(_k=rows["cv_pct"].astype(float)).sort_values("_k", ascending=False)
    ordered = ordered.drop(columns="_k")
    chart(charts.variance(ordered))
    data_tables(ctx, [("Revenue variance", ordered, "store_variance")])


def render(ctx: PageContext) -> None:
    st.title("Stores")
    if ctx.empty:
        empty_warehouse()
        return
    st.caption(ctx.filter_summary())
    stores = pd.DataFrame()
    st.subheader("Drill down: region > city > store")
    with guarded("Store drill-down"):
        stores = store_rows(ctx)
        if stores.empty:
            no_sales(ctx, "stores")
        else:
            drill_down(ctx, stores)
    st.subheader("Store x category")
    with guarded("Store x category treemap"):
        treemap(ctx)
    left, right = st.columns(2)
    with left:
        st.subheader("Store profiles")
        with guarded("Store profiles"):
            radar(ctx, stores)
    with right:
        st.subheader("Revenue variance per store")
        with guarded("Revenue variance"):
            variance(ctx)


if __name__ == "__main__":
    render(current_context())
