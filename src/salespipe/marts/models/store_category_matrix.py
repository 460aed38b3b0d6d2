"""store_category_matrix: store x category per month, with each category's share of the store."""

from __future__ import annotations

from salespipe.marts.measures import COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, FLOAT, TEXT, ByMonth, Column, Mart, key

MART = Mart(
    name="store_category_matrix",
    description="Sales per calendar month, store and category: the store x category matrix.",
    grain=("month", "store_id", "category"),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        key("store_id", TEXT, "Store.", references="dim_store"),
        key(
            "category",
            TEXT,
            "Product category (latest known); null for products without one.",
            nullable=True,
        ),
        *SALES_COLUMNS,
        Column(
            "share_of_store_pct",
            FLOAT,
            "100 * net_sales / the store's net_sales in the month; null when that is 0.",
        ),
        *COST_COLUMNS,
    ),
    refresh=ByMonth(),
    requires=("category",),
    steps=(
        (
            "categorised",
            """
SELECT f.*, p.category
FROM {fact} f
LEFT JOIN {dim_product} p ON p.product_id = f.product_id""",
        ),
        (
            "cells",
            """
SELECT {month_of_sale} AS month, store_id, category,
  {sales_measures}
FROM categorised
GROUP BY {month_of_sale}, store_id, category""",
        ),
        (
            "final",
            """
SELECT *,
  {profit_and_margin},
  CASE WHEN sum(net_sales) OVER (PARTITION BY month, store_id) <> 0
       THEN 100 * CAST(net_sales AS DOUBLE)
            / CAST(sum(net_sales) OVER (PARTITION BY month, store_id) AS DOUBLE)
  END AS share_of_store_pct
FROM cells""",
        ),
    ),
)
