"""int_customer_months: per customer and month, purchased or not; feeds cohort_retention."""

from __future__ import annotations

from salespipe.marts.model import BOOL, DATE, TEXT, ByMonth, Column, Mart, Scoped, key, money

MART = Mart(
    name="int_customer_months",
    description="Per customer and month with a line: whether the customer purchased, and net sales.",
    grain=("customer_id", "month"),
    columns=(
        key("customer_id", TEXT, "Customer.", references="dim_customer"),
        key("month", DATE, "First day of the calendar month."),
        Column("purchased", BOOL, "A line with quantity > 0 in the month.", not_null=True),
        money(
            "net_sales", "Net sales of the customer in the month, returns included.", not_null=True
        ),
    ),
    refresh=ByMonth(scoped=(Scoped("int_customer_transactions"),)),
    requires=("customer_id",),
    public=False,
    steps=(
        (
            "final",
            """
SELECT customer_id, {month_of_sale} AS month,
  bool_or(purchase) AS purchased,
  sum(net_sales) AS net_sales
FROM {int_customer_transactions}
GROUP BY customer_id, {month_of_sale}""",
        ),
    ),
)
