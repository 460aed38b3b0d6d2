"""store_variance: how steady each store's monthly revenue is (mean, stddev, CV)."""

from __future__ import annotations

from salespipe.marts.model import DATE, FLOAT, INT, TEXT, Column, Mart, Whole, key, money

MART = Mart(
    name="store_variance",
    description="Mean, sample standard deviation and coefficient of variation of each store's monthly net sales.",
    grain=("store_id",),
    columns=(
        key("store_id", TEXT, "Store.", references="dim_store"),
        Column("store_name", TEXT, "Name of the store (latest known)."),
        Column("city", TEXT, "City of the store (latest known)."),
        Column("region", TEXT, "Region of the store (latest known)."),
        Column("first_month", DATE, "First month with a line at the store.", not_null=True),
        Column(
            "months",
            INT,
            "Months counted: every trading month from first_month to the last one.",
            not_null=True,
            min_value=1,
        ),
        Column(
            "months_with_sales", INT, "Months with a line at the store.", not_null=True, min_value=1
        ),
        money("net_sales", "Net sales over those months.", not_null=True),
        money("mean_monthly_net_sales", "Mean monthly net sales.", not_null=True),
        Column(
            "stddev_monthly_net_sales",
            FLOAT,
            "Sample standard deviation (n - 1); null with one month.",
        ),
        Column(
            "cv_pct",
            FLOAT,
            "100 * stddev / abs(mean); null when the mean is 0 or the stddev null.",
            min_value=0,
        ),
    ),
    refresh=Whole(),
    notes=(
        "A trading month is a month with at least one line anywhere in the business. A store's "
        "months run from its first month with a line to the last trading month; a trading "
        "month without a line at the store counts as 0.",
    ),
    steps=(
        (
            "store_months",
            """
SELECT store_id, month, net_sales
FROM {sales_by_store}""",
        ),
        (
            "first_months",
            """
SELECT store_id, min(month) AS first_month, count(*) AS months_with_sales
FROM store_months
GROUP BY store_id""",
        ),
        (
            "spine",
            """
SELECT f.store_id, f.first_month, f.months_with_sales, t.month
FROM first_months f
JOIN {sales_monthly} t ON t.month >= f.first_month""",
        ),
        (
            "filled",
            """
SELECT s.store_id, s.first_month, s.months_with_sales, s.month,
  coalesce(m.net_sales, 0) AS net_sales
FROM spine s
LEFT JOIN store_months m ON m.store_id = s.store_id AND m.month = s.month""",
        ),
        (
            "stats",
            """
SELECT store_id, first_month, months_with_sales,
  count(*) AS months,
  sum(net_sales) AS net_sales,
  avg(net_sales) AS mean_monthly_net_sales,
  stddev_samp(net_sales) AS stddev_monthly_net_sales
FROM filled
GROUP BY store_id, first_month, months_with_sales""",
        ),
        (
            "final",
            """
SELECT s.*, d.store_name, d.city, d.region,
  CASE WHEN s.mean_monthly_net_sales <> 0
       THEN 100 * s.stddev_monthly_net_sales / abs(s.mean_monthly_net_sales)
  END AS cv_pct
FROM stats s
LEFT JOIN {dim_store} d ON d.store_id = s.store_id""",
        ),
    ),
)
