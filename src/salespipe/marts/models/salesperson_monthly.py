"""salesperson_monthly: each salesperson per store and month, ranked, with the 1% incentive."""

from __future__ import annotations

from salespipe.marts.measures import SALES_COLUMNS
from salespipe.marts.model import DATE, INT, TEXT, ByMonth, Column, Mart, key, money

MART = Mart(
    name="salesperson_monthly",
    description="Net sales per month, store and salesperson; DENSE_RANK within store and month; incentive of the rank-1 salespeople.",
    grain=("month", "store_id", "salesperson_id"),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        key("store_id", TEXT, "Store.", references="dim_store"),
        key("salesperson_id", TEXT, "Salesperson.", references="dim_salesperson"),
        Column("salesperson_name", TEXT, "Name of the salesperson (latest known)."),
        *SALES_COLUMNS,
        Column(
            "sales_rank",
            INT,
            "DENSE_RANK by net_sales, highest first, within store and month.",
            not_null=True,
            min_value=1,
        ),
        money(
            "incentive",
            "round(0.01 * net_sales, 2) for every salesperson of rank 1, else 0.",
            not_null=True,
        ),
    ),
    refresh=ByMonth(),
    requires=("salesperson_id",),
    notes=(
        "Ties: salespeople with exactly equal net_sales share a rank, so every one of them "
        "earns the incentive when tied for rank 1. Rounding is half away from zero.",
        "Lines without a salesperson_id are not attributed to anyone.",
    ),
    steps=(
        (
            "by_salesperson",
            """
SELECT {month_of_sale} AS month, store_id, salesperson_id,
  {sales_measures}
FROM {fact}
WHERE salesperson_id IS NOT NULL
GROUP BY {month_of_sale}, store_id, salesperson_id""",
        ),
        (
            "ranked",
            """
SELECT *,
  DENSE_RANK() OVER (PARTITION BY month, store_id ORDER BY net_sales DESC) AS sales_rank
FROM by_salesperson""",
        ),
        (
            "final",
            """
SELECT r.*, p.salesperson_name,
  CASE WHEN r.sales_rank = 1 THEN round(0.01 * r.net_sales, 2) ELSE 0 END AS incentive
FROM ranked r
LEFT JOIN {dim_salesperson} p ON p.salesperson_id = r.salesperson_id""",
        ),
    ),
)
