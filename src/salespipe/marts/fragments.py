"""SQL fragments shared by marts, referenced as `{name}` in a step like a table.

They spell out DESIGN.md's KPI definitions once, so every mart aggregates alike.
Each fragment is plain, portable SQL over fact columns.
"""

from __future__ import annotations

# Aggregates over fact lines, for a GROUP BY over the fact (or a scoped view of it).
SALES_MEASURES = """sum(line_revenue) AS net_sales,
  coalesce(sum(line_revenue) FILTER (WHERE quantity > 0), 0) AS gross_sales,
  coalesce(-sum(line_revenue) FILTER (WHERE quantity < 0), 0) AS returns_value,
  CASE WHEN count(transaction_id) > 0
       THEN count(DISTINCT transaction_id) FILTER (WHERE quantity > 0) END AS orders,
  coalesce(sum(quantity) FILTER (WHERE quantity > 0), 0) AS units_sold,
  sum(quantity) AS net_units,
  count(*) AS lines,
  CASE WHEN count(line_cost) = count(*) THEN sum(line_cost) END AS cost"""

# Columns derived from net_sales and cost, for the step after the aggregation.
PROFIT_AND_MARGIN = """net_sales - cost AS profit,
  CASE WHEN net_sales <> 0
       THEN 100 * CAST(net_sales - cost AS DOUBLE) / CAST(net_sales AS DOUBLE) END AS margin_pct"""

# gross_sales / orders; null without orders.
AVERAGE_ORDER_VALUE = (
    "CASE WHEN orders > 0 THEN CAST(gross_sales AS DOUBLE) / orders END AS average_order_value"
)

# The first day of the calendar month of sale_date.
MONTH_OF_SALE = "CAST(date_trunc('month', sale_date) AS DATE)"

FRAGMENTS: dict[str, str] = {
    "sales_measures": SALES_MEASURES,
    "profit_and_margin": PROFIT_AND_MARGIN,
    "average_order_value": AVERAGE_ORDER_VALUE,
    "month_of_sale": MONTH_OF_SALE,
}
