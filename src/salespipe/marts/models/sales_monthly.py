"""sales_monthly: the whole business per calendar month, with month-over-month change."""

from __future__ import annotations

from salespipe.marts.measures import AVERAGE_ORDER_VALUE, COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, FACT, FLOAT, INT, ByMonth, Column, Mart, Scoped, key, money

MART = Mart(
    name="sales_monthly",
    description="Sales of the whole business per calendar month, with mom_pct.",
    grain=("month",),
    columns=(
        key("month", DATE, "First day of the calendar month (business days)."),
        *SALES_COLUMNS,
        AVERAGE_ORDER_VALUE,
        Column("active_stores", INT, "Distinct stores with a line in the month.", not_null=True),
        *COST_COLUMNS,
        money(
            "previous_net_sales",
            "net_sales of the previous calendar month; null without sales then.",
        ),
        Column(
            "mom_pct",
            FLOAT,
            "100 * (net_sales - previous_net_sales) / previous_net_sales; null when the "
            "previous calendar month has no sales (or nets to 0).",
        ),
    ),
    refresh=ByMonth(ahead=1, scoped=(FACT, Scoped("sales_daily", lookback=1))),
    notes=(
        "The previous month is the previous *calendar* month, not the previous row: after a "
        "month without sales, mom_pct is null.",
        "previous_net_sales is summed from sales_daily (exact decimals), so refreshing a month "
        "reads only that month's lines.",
    ),
    steps=(
        (
            "monthly",
            """
SELECT {month_of_sale} AS month,
  {sales_measures},
  count(DISTINCT store_id) AS active_stores
FROM {fact}
GROUP BY {month_of_sale}""",
        ),
        (
            "previous",
            """
SELECT CAST({month_of_sale} + INTERVAL 1 MONTH AS DATE) AS month,
  sum(net_sales) AS previous_net_sales
FROM {sales_daily}
GROUP BY {month_of_sale}""",
        ),
        (
            "with_previous",
            """
SELECT m.*, p.previous_net_sales
FROM monthly m
LEFT JOIN previous p ON p.month = m.month""",
        ),
        (
            "final",
            """
SELECT *,
  {average_order_value},
  {profit_and_margin},
  CASE WHEN previous_net_sales <> 0
       THEN 100 * CAST(net_sales - previous_net_sales AS DOUBLE) / CAST(previous_net_sales AS DOUBLE)
  END AS mom_pct
FROM with_previous""",
        ),
    ),
)
