"""int_customer_transactions: customer lines folded per day and transaction; feeds the customer marts.

A third of the fact's rows and a few narrow columns, so per-customer totals can be
recomputed for the customers a load touched without rescanning every line.
"""

from __future__ import annotations

from salespipe.marts.model import BOOL, DATE, INT, TEXT, ByDate, Column, Mart, key, money

MART = Mart(
    name="int_customer_transactions",
    description="Per business day, customer and transaction: purchase or not, net sales, lines.",
    grain=("sale_date", "customer_id", "transaction_id"),
    columns=(
        key("sale_date", DATE, "Business day."),
        key("customer_id", TEXT, "Customer.", references="dim_customer"),
        key("transaction_id", TEXT, "Transaction; null for lines without one.", nullable=True),
        Column("purchase", BOOL, "A line with quantity > 0.", not_null=True),
        money("net_sales", "Net sales of these lines, returns included.", not_null=True),
        Column("lines", INT, "Lines.", not_null=True, min_value=1),
    ),
    refresh=ByDate(),
    requires=("customer_id",),
    public=False,
    steps=(
        (
            "final",
            """
SELECT sale_date, customer_id, transaction_id,
  bool_or(quantity > 0) AS purchase,
  sum(line_revenue) AS net_sales,
  count(*) AS lines
FROM {fact}
WHERE customer_id IS NOT NULL
GROUP BY sale_date, customer_id, transaction_id""",
        ),
    ),
)
