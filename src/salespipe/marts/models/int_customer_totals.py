"""int_customer_totals: per-customer totals, refreshed per changed customer; feeds customer_rfm."""

from __future__ import annotations

from salespipe.marts.model import DATE, INT, TEXT, ByMember, Column, Mart, Scoped, key, money

MART = Mart(
    name="int_customer_totals",
    description="Per customer with a line: first and last purchase, orders and net sales.",
    grain=("customer_id",),
    columns=(
        key("customer_id", TEXT, "Customer.", references="dim_customer"),
        Column(
            "first_purchase_date", DATE, "First line with quantity > 0; null with returns only."
        ),
        Column("last_purchase_date", DATE, "Last line with quantity > 0; null with returns only."),
        Column(
            "orders",
            INT,
            "Distinct transaction_id with a line of quantity > 0.",
            not_null=True,
            min_value=0,
        ),
        money("net_sales", "Net sales, returns included.", not_null=True),
        Column("lines", INT, "Lines of the customer.", not_null=True, min_value=1),
    ),
    refresh=ByMember(
        column="customer_id", kind="customer", scoped=(Scoped("int_customer_transactions"),)
    ),
    requires=("customer_id",),
    public=False,
    steps=(
        (
            "final",
            """
SELECT customer_id,
  min(sale_date) FILTER (WHERE purchase) AS first_purchase_date,
  max(sale_date) FILTER (WHERE purchase) AS last_purchase_date,
  count(DISTINCT transaction_id) FILTER (WHERE purchase) AS orders,
  sum(net_sales) AS net_sales,
  sum(lines) AS lines
FROM {int_customer_transactions}
GROUP BY customer_id""",
        ),
    ),
)
