"""new_vs_existing_items: each month's revenue from products new that month vs older ones."""

from __future__ import annotations

from salespipe.marts.model import DATE, FLOAT, INT, Column, Mart, Whole, key, money

MART = Mart(
    name="new_vs_existing_items",
    description="Per month: products first sold that month vs products sold before, and their net sales.",
    grain=("month",),
    columns=(
        key("month", DATE, "First day of the calendar month."),
        Column(
            "new_products",
            INT,
            "Products whose first line is in this month.",
            not_null=True,
            min_value=0,
        ),
        Column(
            "existing_products",
            INT,
            "Products with a line this month and a line in an earlier month.",
            not_null=True,
            min_value=0,
        ),
        money("new_net_sales", "Net sales of the new products.", not_null=True),
        money("existing_net_sales", "Net sales of the existing products.", not_null=True),
        money("net_sales", "new_net_sales + existing_net_sales.", not_null=True),
        Column(
            "new_share_pct", FLOAT, "100 * new_net_sales / net_sales; null when net_sales is 0."
        ),
    ),
    refresh=Whole(),
    notes=(
        "A product is new in the month of its first line in the warehouse (as "
        "dim_product.first_sold), recomputed from the lines so a late correction moves it.",
    ),
    steps=(
        (
            "product_months",
            """
SELECT product_id, month, net_sales
FROM {top_products}""",
        ),
        (
            "first_months",
            """
SELECT product_id, min(month) AS first_month
FROM product_months
GROUP BY product_id""",
        ),
        (
            "tagged",
            """
SELECT m.month, m.product_id, m.net_sales, m.month = f.first_month AS is_new
FROM product_months m
JOIN first_months f ON f.product_id = m.product_id""",
        ),
        (
            "final",
            """
SELECT month,
  count(*) FILTER (WHERE is_new) AS new_products,
  count(*) FILTER (WHERE NOT is_new) AS existing_products,
  coalesce(sum(net_sales) FILTER (WHERE is_new), 0) AS new_net_sales,
  coalesce(sum(net_sales) FILTER (WHERE NOT is_new), 0) AS existing_net_sales,
  sum(net_sales) AS net_sales,
  CASE WHEN sum(net_sales) <> 0
       THEN 100 * CAST(coalesce(sum(net_sales) FILTER (WHERE is_new), 0) AS DOUBLE)
            / CAST(sum(net_sales) AS DOUBLE)
  END AS new_share_pct
FROM tagged
GROUP BY month""",
        ),
    ),
)
