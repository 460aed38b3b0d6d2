"""sales_by_category: each category and subcategory per month."""

from __future__ import annotations

from salespipe.marts.measures import COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, INT, TEXT, ByMonth, Column, Mart, key

MART = Mart(
    name="sales_by_category",
    description="Sales per calendar month, category and subcategory.",
    grain=("month", "category", "subcategory"),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        key(
            "category",
            TEXT,
            "Product category (latest known); null for products without one.",
            nullable=True,
        ),
        key(
            "subcategory",
            TEXT,
            "Product subcategory (latest known); null when not provided.",
            nullable=True,
        ),
        *SALES_COLUMNS,
        Column("products", INT, "Distinct products with a line.", not_null=True, min_value=1),
        *COST_COLUMNS,
    ),
    refresh=ByMonth(),
    requires=("category",),
    notes=(
        "A product's category is its latest known one: when a load changes it, every month "
        "the product sold in is recomputed.",
    ),
    steps=(
        (
            "categorised",
            """
SELECT f.*, p.category, p.subcategory
FROM {fact} f
LEFT JOIN {dim_product} p ON p.product_id = f.product_id""",
        ),
        (
            "by_category",
            """
SELECT {month_of_sale} AS month, category, subcategory,
  {sales_measures},
  count(DISTINCT product_id) AS products
FROM categorised
GROUP BY {month_of_sale}, category, subcategory""",
        ),
        (
            "final",
            """
SELECT *,
  {profit_and_margin}
FROM by_category""",
        ),
    ),
)
