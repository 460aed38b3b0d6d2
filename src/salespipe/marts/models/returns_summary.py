"""returns_summary: returns value and rate per month and product (with its category)."""

from __future__ import annotations

from salespipe.marts.model import DATE, FLOAT, INT, QTY, TEXT, ByMonth, Column, Mart, key, money

MART = Mart(
    name="returns_summary",
    description="Per month and product: gross sales, returns value, units returned and the return rate.",
    grain=("month", "product_id"),
    columns=(
        key("month", DATE, "First day of the calendar month in which the lines happened."),
        Column("category", TEXT, "Category of the product (latest known)."),
        key("product_id", TEXT, "Product.", references="dim_product"),
        money(
            "gross_sales", "Line revenue of lines with quantity > 0.", not_null=True, min_value=0
        ),
        money(
            "returns_value",
            "Minus the line revenue of lines with quantity < 0.",
            not_null=True,
            min_value=0,
        ),
        money("net_sales", "gross_sales - returns_value.", not_null=True),
        Column(
            "units_sold",
            QTY,
            "Sum of quantity over lines with quantity > 0.",
            not_null=True,
            min_value=0,
        ),
        Column(
            "units_returned",
            QTY,
            "Minus the sum of quantity over returns.",
            not_null=True,
            min_value=0,
        ),
        Column("return_lines", INT, "Lines with quantity < 0.", not_null=True, min_value=0),
        Column(
            "return_rate_pct",
            FLOAT,
            "100 * returns_value / gross_sales; null without gross sales in the month.",
            min_value=0,
        ),
    ),
    refresh=ByMonth(),
    notes=(
        "A return counts in the month of its own sold_at, not in the month of the sale it "
        "reverses; a month with returns but no sales of the product has a null rate.",
    ),
    steps=(
        (
            "categorised",
            """
SELECT f.*, p.category
FROM {fact} f
LEFT JOIN {dim_product} p ON p.product_id = f.product_id""",
        ),
        (
            "by_product",
            """
SELECT {month_of_sale} AS month, category, product_id,
  coalesce(sum(line_revenue) FILTER (WHERE quantity > 0), 0) AS gross_sales,
  coalesce(-sum(line_revenue) FILTER (WHERE quantity < 0), 0) AS returns_value,
  sum(line_revenue) AS net_sales,
  coalesce(sum(quantity) FILTER (WHERE quantity > 0), 0) AS units_sold,
  coalesce(-sum(quantity) FILTER (WHERE quantity < 0), 0) AS units_returned,
  count(*) FILTER (WHERE quantity < 0) AS return_lines
FROM categorised
GROUP BY {month_of_sale}, category, product_id""",
        ),
        (
            "final",
            """
SELECT *,
  CASE WHEN gross_sales > 0
       THEN 100 * CAST(returns_value AS DOUBLE) / CAST(gross_sales AS DOUBLE) END AS return_rate_pct
FROM by_product""",
        ),
    ),
)
