"""top_products: every product per month, ranked by revenue and by units."""

from __future__ import annotations

from salespipe.marts.measures import COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, INT, TEXT, ByMonth, Column, Mart, key

MART = Mart(
    name="top_products",
    description="Every product with a line in the month, ranked by net sales and by units sold.",
    grain=("month", "product_id"),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        key("product_id", TEXT, "Product.", references="dim_product"),
        Column("product_name", TEXT, "Name of the product (latest known)."),
        Column("category", TEXT, "Category of the product (latest known)."),
        Column(
            "revenue_rank",
            INT,
            "RANK by net_sales, highest first, within the month (ties share a rank).",
            not_null=True,
            min_value=1,
        ),
        Column(
            "units_rank",
            INT,
            "RANK by units_sold, highest first, within the month (ties share a rank).",
            not_null=True,
            min_value=1,
        ),
        *SALES_COLUMNS,
        *COST_COLUMNS,
    ),
    refresh=ByMonth(),
    notes=("The top N of a month: `WHERE month = ... AND revenue_rank <= N`.",),
    steps=(
        (
            "by_product",
            """
SELECT {month_of_sale} AS month, product_id,
  {sales_measures}
FROM {fact}
GROUP BY {month_of_sale}, product_id""",
        ),
        (
            "ranked",
            """
SELECT b.*, p.product_name, p.category,
  RANK() OVER (PARTITION BY b.month ORDER BY b.net_sales DESC) AS revenue_rank,
  RANK() OVER (PARTITION BY b.month ORDER BY b.units_sold DESC) AS units_rank
FROM by_product b
LEFT JOIN {dim_product} p ON p.product_id = b.product_id""",
        ),
        (
            "final",
            """
SELECT *,
  {profit_and_margin}
FROM ranked""",
        ),
    ),
)
