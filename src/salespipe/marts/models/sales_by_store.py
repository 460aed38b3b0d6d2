"""sales_by_store: each store per month, placed in its region > city hierarchy."""

from __future__ import annotations

from salespipe.marts.measures import COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, FLOAT, INT, TEXT, ByMonth, Column, Mart, key

MART = Mart(
    name="sales_by_store",
    description="Sales per calendar month and store, with the store's region, city and share of its region.",
    grain=("month", "store_id"),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        Column("region", TEXT, "Region of the store (latest known); null when not provided."),
        Column("city", TEXT, "City of the store (latest known)."),
        key("store_id", TEXT, "Store.", references="dim_store"),
        Column("store_name", TEXT, "Name of the store (latest known)."),
        *SALES_COLUMNS,
        Column(
            "active_days", INT, "Business days with at least one line.", not_null=True, min_value=1
        ),
        Column(
            "share_of_region_pct",
            FLOAT,
            "100 * net_sales / net_sales of the store's region in the month; null when that is 0.",
        ),
        *COST_COLUMNS,
    ),
    refresh=ByMonth(),
    steps=(
        (
            "by_store",
            """
SELECT {month_of_sale} AS month, store_id,
  {sales_measures},
  count(DISTINCT sale_date) AS active_days
FROM {fact}
GROUP BY {month_of_sale}, store_id""",
        ),
        (
            "placed",
            """
SELECT b.*, s.region, s.city, s.store_name
FROM by_store b
LEFT JOIN {dim_store} s ON s.store_id = b.store_id""",
        ),
        (
            "final",
            """
SELECT *,
  {profit_and_margin},
  CASE WHEN sum(net_sales) OVER (PARTITION BY month, region) <> 0
       THEN 100 * CAST(net_sales AS DOUBLE)
            / CAST(sum(net_sales) OVER (PARTITION BY month, region) AS DOUBLE)
  END AS share_of_region_pct
FROM placed""",
        ),
    ),
)
