"""price_quantity: units sold at each price point of each product, per month."""

from __future__ import annotations

from salespipe.marts.model import DATE, INT, QTY, TEXT, ByMonth, Column, Mart, key, money

MART = Mart(
    name="price_quantity",
    description="Per month, product and listed unit price: lines, units sold and returned, revenue.",
    grain=("month", "product_id", "unit_price"),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        key("product_id", TEXT, "Product.", references="dim_product"),
        key(
            "unit_price",
            "DECIMAL(38,4)",
            "Listed unit price in the reporting currency (unit_price * fx_rate, 4 decimals).",
        ),
        Column("lines", INT, "Lines at this price.", not_null=True, min_value=1),
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
        money(
            "gross_sales",
            "Line revenue of lines with quantity > 0 (after discount).",
            not_null=True,
            min_value=0,
        ),
        money(
            "discount_value",
            "Discounts of lines with quantity > 0, in the reporting currency.",
            not_null=True,
            min_value=0,
        ),
        money(
            "average_net_price",
            "gross_sales / units_sold: the price actually paid; null without units sold.",
        ),
    ),
    refresh=ByMonth(),
    steps=(
        (
            "priced",
            """
SELECT {month_of_sale} AS month, product_id,
  round(CAST(unit_price AS DECIMAL(38,4)) * fx_rate, 4) AS unit_price,
  quantity, line_revenue,
  CAST(discount AS DECIMAL(38,4)) * fx_rate AS discount_value
FROM {fact}""",
        ),
        (
            "points",
            """
SELECT month, product_id, unit_price,
  count(*) AS lines,
  coalesce(sum(quantity) FILTER (WHERE quantity > 0), 0) AS units_sold,
  coalesce(-sum(quantity) FILTER (WHERE quantity < 0), 0) AS units_returned,
  coalesce(sum(line_revenue) FILTER (WHERE quantity > 0), 0) AS gross_sales,
  coalesce(sum(discount_value) FILTER (WHERE quantity > 0), 0) AS discount_value
FROM priced
GROUP BY month, product_id, unit_price""",
        ),
        (
            "final",
            """
SELECT *,
  CASE WHEN units_sold > 0
       THEN CAST(gross_sales AS DOUBLE) / CAST(units_sold AS DOUBLE) END AS average_net_price
FROM points""",
        ),
    ),
)
