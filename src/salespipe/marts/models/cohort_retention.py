"""cohort_retention: monthly cohorts by first purchase, and how many come back each month."""

from __future__ import annotations

from salespipe.marts.model import DATE, FLOAT, INT, Column, Mart, Whole, key, money

MART = Mart(
    name="cohort_retention",
    description="Customers grouped by the month of their first purchase; active customers and net sales in each later month.",
    grain=("cohort_month", "activity_month"),
    columns=(
        key(
            "cohort_month",
            DATE,
            "Month of the customers' first purchase (a line with quantity > 0).",
        ),
        key("activity_month", DATE, "A trading month on or after cohort_month."),
        Column(
            "months_since_first",
            INT,
            "Calendar months from cohort_month to activity_month.",
            not_null=True,
            min_value=0,
        ),
        Column("cohort_customers", INT, "Customers in the cohort.", not_null=True, min_value=1),
        Column(
            "active_customers",
            INT,
            "Customers of the cohort with a purchase in activity_month.",
            not_null=True,
            min_value=0,
        ),
        Column(
            "retention_pct",
            FLOAT,
            "100 * active_customers / cohort_customers (100 in the cohort's own month).",
            not_null=True,
            min_value=0,
            max_value=100,
        ),
        money(
            "net_sales",
            "Net sales of the cohort's customers in activity_month, returns included.",
            not_null=True,
        ),
    ),
    refresh=Whole(),
    requires=("customer_id",),
    steps=(
        (
            "cohorts",
            """
SELECT customer_id, CAST(date_trunc('month', first_purchase_date) AS DATE) AS cohort_month
FROM {int_customer_totals}
WHERE first_purchase_date IS NOT NULL""",
        ),
        (
            "sizes",
            """
SELECT cohort_month, count(*) AS cohort_customers
FROM cohorts
GROUP BY cohort_month""",
        ),
        (
            "activity",
            """
SELECT c.cohort_month, m.month AS activity_month,
  count(*) FILTER (WHERE m.purchased) AS active_customers,
  sum(m.net_sales) AS net_sales
FROM {int_customer_months} m
JOIN cohorts c ON c.customer_id = m.customer_id AND m.month >= c.cohort_month
GROUP BY c.cohort_month, m.month""",
        ),
        (
            "spine",
            """
SELECT s.cohort_month, s.cohort_customers, t.month AS activity_month
FROM sizes s
JOIN {sales_monthly} t ON t.month >= s.cohort_month""",
        ),
        (
            "final",
            """
SELECT s.cohort_month, s.activity_month, s.cohort_customers,
  (year(s.activity_month) - year(s.cohort_month)) * 12
    + month(s.activity_month) - month(s.cohort_month) AS months_since_first,
  coalesce(a.active_customers, 0) AS active_customers,
  100 * CAST(coalesce(a.active_customers, 0) AS DOUBLE) / CAST(s.cohort_customers AS DOUBLE)
    AS retention_pct,
  coalesce(a.net_sales, 0) AS net_sales
FROM spine s
LEFT JOIN activity a ON a.cohort_month = s.cohort_month AND a.activity_month = s.activity_month""",
        ),
    ),
)
