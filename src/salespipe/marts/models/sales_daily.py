"""sales_daily: sales per business day and store, as the store's own till report shows them."""

from __future__ import annotations

from salespipe.marts.measures import AVERAGE_ORDER_VALUE, COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, TEXT, ByDate, Mart, key

MART = Mart(
    name="sales_daily",
    description="Sales per business day and store, with cost and margin where unit_cost is known.",
    grain=("sale_date", "store_id"),
    columns=(
        key("sale_date", DATE, "Business day: the sale's date in the store's time zone."),
        key("store_id", TEXT, "Store.", references="dim_store"),
        *SALES_COLUMNS,
        AVERAGE_ORDER_VALUE,
        *COST_COLUMNS,
    ),
    refresh=ByDate(),
    steps=(
        (
            "daily",
            """
SELECT sale_date, store_id,
  {sales_measures}
FROM {fact}
GROUP BY sale_date, store_id""",
        ),
        (
            "final",
            """
SELECT *,
  {average_order_value},
  {profit_and_margin}
FROM daily""",
        ),
    ),
)
