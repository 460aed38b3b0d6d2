"""item_consistency: product x month presence, from each product's first month on."""

from __future__ import annotations

from salespipe.marts.model import BOOL, DATE, FLOAT, INT, QTY, TEXT, Column, Mart, Whole, key, money

MART = Mart(
    name="item_consistency",
    description="For each product and every trading month since its first: sold or not, and how steadily so far.",
    grain=("product_id", "month"),
    columns=(
        key("product_id", TEXT, "Product.", references="dim_product"),
        key("month", DATE, "First day of a trading month on or after first_month."),
        Column("first_month", DATE, "The product's first month with a line.", not_null=True),
        Column("present", BOOL, "Sold (a line with quantity > 0) in the month.", not_null=True),
        Column(
            "units_sold", QTY, "Units sold in the month; 0 when absent.", not_null=True, min_value=0
        ),
        money("net_sales", "Net sales in the month; 0 without lines.", not_null=True),
        Column(
            "months_listed",
            INT,
            "Trading months from first_month to this month, inclusive.",
            not_null=True,
            min_value=1,
        ),
        Column(
            "months_present",
            INT,
            "Months present from first_month to this month, inclusive.",
            not_null=True,
            min_value=0,
        ),
        Column(
            "presence_pct",
            FLOAT,
            "100 * months_present / months_listed.",
            not_null=True,
            min_value=0,
            max_value=100,
        ),
    ),
    refresh=Whole(),
    notes=(
        "A trading month is a month with at least one line anywhere in the business; months "
        "in which nothing at all sold are not listed.",
    ),
    steps=(
        (
            "product_months",
            """
SELECT product_id, month, units_sold, net_sales
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
            "spine",
            """
SELECT f.product_id, f.first_month, t.month
FROM first_months f
JOIN {sales_monthly} t ON t.month >= f.first_month""",
        ),
        (
            "filled",
            """
SELECT s.product_id, s.month, s.first_month,
  coalesce(m.units_sold, 0) AS units_sold,
  coalesce(m.net_sales, 0) AS net_sales,
  coalesce(m.units_sold, 0) > 0 AS present
FROM spine s
LEFT JOIN product_months m ON m.product_id = s.product_id AND m.month = s.month""",
        ),
        (
            "running",
            """
SELECT *,
  ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY month) AS months_listed,
  sum(CASE WHEN present THEN 1 ELSE 0 END) OVER (
    PARTITION BY product_id ORDER BY month ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS months_present
FROM filled""",
        ),
        (
            "final",
            """
SELECT *,
  100 * CAST(months_present AS DOUBLE) / CAST(months_listed AS DOUBLE) AS presence_pct
FROM running""",
        ),
    ),
)
