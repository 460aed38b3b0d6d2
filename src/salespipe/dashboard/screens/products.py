# mypy: disable-error-code="import-untyped"
"""Products: top products by revenue or units, the Pareto/ABC chart, price against
quantity, item consistency (product x month) and new against existing items."""

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

RANK_BY = {"net_sales": "Revenue", "units_sold": "Units"}


def top(ctx: PageContext) -> dict[str, str]:
    """The top products chart and table; returns the 30 best sellers' ids and names."""
    source = ctx.source
    left, right = st.columns([2, 1])
    with left:
        by = (
            st.segmented_control(
                "Rank by",
                list(RANK_BY),
                format_func=lambda k: RANK_BY[k],
                default="net_sales",
                key="products_rank_by",
            )
            or "net_sales"
        )
    with right:
        n = st.slider("Products", 5, 50, 15, step=5, key="products_top_n")
    params = source.params_for("top_products", ctx.filters, ctx.period)
    products = frames.product_totals(source.mart("top_products", params.params))
    mart_note(ctx, params, "top_products", monthly=True)
    ranked = frames.top_n(products, by, n)
    if ranked.empty:
        no_sales(ctx, "products")
        return {}
    labels = ranked.assign(
        label=[
            str(p or i) for p, i in zip(ranked["product_name"], ranked["product_id"], strict=True)
        ]
    )
    chart(charts.hbar(labels, "label", by, RANK_BY[by].lower()))
    columns = ["rank", "product_id", "product_name", "category", "net_sales", "units_sold"]
    columns += ["orders", "returns_value", "margin_pct"]
    data_tables(
        ctx, [("Top products", ranked[[c for c in columns if c in ranked]], "top_products")]
    )
    best = frames.top_n(products, "net_sales", 30)
    return {
        str(i): str(n or i) for i, n in zip(best["product_id"], best["product_name"], strict=True)
    }


def pareto(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("product_abc", ctx.filters, ctx.period, dated=False)
    abc = source.mart("product_abc", params.params)
    st.caption("All-time net sales (the ABC classes are over the whole history).")
    mart_note(ctx, params, "product_abc")
    if abc.empty:
        no_sales(ctx, "products")
        return
    chart(charts.pareto(abc))
    show_table(ctx, "ABC classes", frames.abc_summary(abc), "product_abc")
    data_tables(ctx, [("Pareto", abc.sort_values("pareto_rank"), "product_abc")])


def prices(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("price_quantity", ctx.filters, ctx.period)
    points = frames.price_points(source.mart("price_quantity", params.params))
    mart_note(ctx, params, "price_quantity", monthly=True)
    if points.empty:
        no_sales(ctx, "price points")
        return
    st.caption("Each dot: one product at one listed price, units sold over the period.")
    chart(charts.scatter_prices(points))
    data_tables(ctx, [("Price points", points, "price_quantity")])


def consistency(ctx: PageContext, products: dict[str, str]) -> None:
    source = ctx.source
    params = source.params_for("item_consistency", ctx.filters, ctx.period)
    rows = source.mart("item_consistency", params.params)
    mart_note(ctx, params, "item_consistency", monthly=True)
    matrix = frames.consistency_matrix(rows, list(products))
    if matrix.empty:
        no_sales(ctx, "products")
        return
    st.caption(
        f"Units sold per month of the {len(matrix)} best-selling products; blank: not sold "
        "that month."
    )
    names = list(products.values())
    unique = len(set(names)) == len(names)
    labelled = matrix.rename(index=lambda p: products.get(p, p) if unique else p)
    chart(charts.heatmap(labelled, x_label="month", y_label="product", value_label="units"))
    data_tables(ctx, [("Item consistency", rows, "item_consistency")])


def new_items(ctx: PageContext) -> None:
    source = ctx.source
    params = source.params_for("new_vs_existing_items", ctx.filters, ctx.period)
    rows = source.mart("new_vs_existing_items", params.params)
    mart_note(ctx, params, "new_vs_existing_items", monthly=True)
    if rows.empty:
        no_sales(ctx, "products")
        return
    chart(charts.stacked_new_existing(rows))
    data_tables(ctx, [("New vs existing items", rows, "new_vs_existing_items")])


def render(ctx: PageContext) -> None:
    st.title("Products")
    if ctx.empty:
        empty_warehouse()
        return
    st.caption(ctx.filter_summary())
    best: dict[str, str] = {}
    st.subheader("Top products")
    with guarded("Top products"):
        best = top(ctx)
    st.subheader("Pareto and ABC classes")
    with guarded("Pareto chart"):
        pareto(ctx)
    left, right = st.columns(2)
    with left:
        st.subheader("Price vs quantity")
        with guarded("Price vs quantity"):
            prices(ctx)
    with right:
        st.subheader("New vs existing items")
        with guarded("New vs existing items"):
            new_items(ctx)
    st.subheader("Item consistency")
    with guarded("Item consistency"):
        if best:
            consistency(ctx, best)
        else:
            no_sales(ctx, "products")


if __name__ == "__main__":
    render(current_context())
