"""customer_rfm: recency, frequency and monetary value of every customer, scored 1..5."""

from __future__ import annotations

from salespipe.marts.model import DATE, INT, TEXT, Column, Mart, Whole, key, money


def _score(name: str, rule: str) -> Column:
    return Column(name, INT, rule, not_null=True, min_value=1, max_value=5)


MART = Mart(
    name="customer_rfm",
    description="Per customer with at least one purchase: recency, frequency, monetary and their 1..5 scores.",
    grain=("customer_id",),
    columns=(
        key("customer_id", TEXT, "Customer.", references="dim_customer"),
        Column("customer_name", TEXT, "Name of the customer (latest known)."),
        Column("as_of_date", DATE, "The day after the last sale in the warehouse.", not_null=True),
        Column(
            "last_purchase_date",
            DATE,
            "Business day of the last line with quantity > 0.",
            not_null=True,
        ),
        Column(
            "recency_days",
            INT,
            "Calendar days from last_purchase_date to as_of_date (a purchase the day before counts 1).",
            not_null=True,
            min_value=1,
        ),
        Column(
            "frequency",
            INT,
            "Orders: distinct transaction_id with a line of quantity > 0.",
            not_null=True,
            min_value=0,
        ),
        money("monetary", "Net sales of the customer, returns included.", not_null=True),
        _score("r_score", "NTILE(5) over recency_days DESC, customer_id ASC (5 = most recent)."),
        _score("f_score", "NTILE(5) over frequency ASC, customer_id ASC (5 = most orders)."),
        _score("m_score", "NTILE(5) over monetary ASC, customer_id ASC (5 = highest value)."),
        Column(
            "rfm_cell",
            TEXT,
            "r_score, f_score and m_score as three digits, e.g. '545'.",
            not_null=True,
        ),
    ),
    refresh=Whole(),
    requires=("customer_id", "transaction_id"),
    notes=(
        "NTILE(5) splits the ordered customers into 5 groups whose sizes differ by at most one, "
        "the larger groups first; equal values are split by customer_id ascending, so two "
        "customers with the same recency may get different scores.",
        "Customers whose only lines are returns have no purchase and are not scored.",
    ),
    steps=(
        (
            "as_of",
            """
SELECT CAST(max(sale_date) + INTERVAL 1 DAY AS DATE) AS as_of_date
FROM {sales_daily}""",
        ),
        (
            "customers",
            """
SELECT customer_id, last_purchase_date, orders AS frequency, net_sales AS monetary
FROM {int_customer_totals}
WHERE last_purchase_date IS NOT NULL""",
        ),
        (
            "measured",
            """
SELECT c.*, a.as_of_date,
  date_diff('day', c.last_purchase_date, a.as_of_date) AS recency_days
FROM customers c
CROSS JOIN as_of a""",
        ),
        (
            "scored",
            """
SELECT *,
  NTILE(5) OVER (ORDER BY recency_days DESC, customer_id ASC) AS r_score,
  NTILE(5) OVER (ORDER BY frequency ASC, customer_id ASC) AS f_score,
  NTILE(5) OVER (ORDER BY monetary ASC, customer_id ASC) AS m_score
FROM measured""",
        ),
        (
            "final",
            """
SELECT s.*, d.customer_name,
  CAST(s.r_score AS VARCHAR) || CAST(s.f_score AS VARCHAR) || CAST(s.m_score AS VARCHAR) AS rfm_cell
FROM scored s
LEFT JOIN {dim_customer} d ON d.customer_id = s.customer_id""",
        ),
    ),
)
