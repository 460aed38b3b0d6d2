"""Column declarations shared by the marts that aggregate sales lines (see fragments.py)."""

from __future__ import annotations

from salespipe.marts.model import FLOAT, INT, QTY, Column, money

SALES_COLUMNS: tuple[Column, ...] = (
    money(
        "net_sales",
        "Sum of line revenue over all lines, returns included (gross_sales - returns_value).",
        not_null=True,
    ),
    money(
        "gross_sales",
        "Sum of line revenue over lines with quantity > 0.",
        not_null=True,
        min_value=0,
    ),
    money(
        "returns_value",
        "Minus the sum of line revenue over lines with quantity < 0; a return counts on its own sale date.",
        not_null=True,
        min_value=0,
    ),
    Column(
        "orders",
        INT,
        "Distinct transaction_id with at least one line of quantity > 0; null without transaction ids.",
        min_value=0,
    ),
    Column(
        "units_sold",
        QTY,
        "Sum of quantity over lines with quantity > 0.",
        not_null=True,
        min_value=0,
    ),
    Column("net_units", QTY, "Sum of quantity, returns included.", not_null=True),
    Column("lines", INT, "Number of sales lines.", not_null=True, min_value=1),
)

COST_COLUMNS: tuple[Column, ...] = (
    money("cost", "Sum of quantity * unit_cost; null when a line of the row has no unit_cost."),
    money("profit", "net_sales - cost; null without cost."),
    Column(
        "margin_pct",
        FLOAT,
        "100 * profit / net_sales; null without cost or when net_sales is 0.",
    ),
)

AVERAGE_ORDER_VALUE = money("average_order_value", "gross_sales / orders; null without orders.")
