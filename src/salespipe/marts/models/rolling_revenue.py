"""rolling_revenue: 7- and 28-day rolling net sales per store, on every trading day."""

from __future__ import annotations

from salespipe.marts.model import DATE, INT, QTY, TEXT, ByDate, Column, Mart, Scoped, key, money

MART = Mart(
    name="rolling_revenue",
    description="Net sales and units per store over the 7 and 28 calendar days ending on each trading day.",
    grain=("sale_date", "store_id"),
    columns=(
        key("sale_date", DATE, "A trading day: a business day with at least one line anywhere."),
        key(
            "store_id",
            TEXT,
            "Store with a line in the 28 days ending on sale_date.",
            references="dim_store",
        ),
        money("net_sales", "Net sales of the day itself (0 without lines).", not_null=True),
        money(
            "net_sales_7d", "Net sales of the 7 calendar days ending on sale_date.", not_null=True
        ),
        money(
            "net_sales_28d", "Net sales of the 28 calendar days ending on sale_date.", not_null=True
        ),
        Column("net_units_7d", QTY, "Net units of the 7 days.", not_null=True),
        Column("net_units_28d", QTY, "Net units of the 28 days.", not_null=True),
        Column(
            "days_with_sales_28d",
            INT,
            "Days of the 28 with a line at the store.",
            not_null=True,
            min_value=1,
            max_value=28,
        ),
    ),
    refresh=ByDate(ahead=27, scoped=(Scoped("sales_daily", lookback=27),)),
    notes=(
        "Windows are calendar days, not trading days: the 7 days ending on 10 March are "
        "4..10 March, whatever sold on them.",
    ),
    steps=(
        (
            "trading_days",
            """
SELECT DISTINCT sale_date
FROM {sales_daily}""",
        ),
        (
            "final",
            """
SELECT d.sale_date, s.store_id,
  sum(CASE WHEN s.sale_date = d.sale_date THEN s.net_sales ELSE 0 END) AS net_sales,
  sum(CASE WHEN s.sale_date > CAST(d.sale_date - INTERVAL 7 DAY AS DATE)
           THEN s.net_sales ELSE 0 END) AS net_sales_7d,
  sum(s.net_sales) AS net_sales_28d,
  sum(CASE WHEN s.sale_date > CAST(d.sale_date - INTERVAL 7 DAY AS DATE)
           THEN s.net_units ELSE 0 END) AS net_units_7d,
  sum(s.net_units) AS net_units_28d,
  count(*) AS days_with_sales_28d
FROM trading_days d
JOIN {sales_daily} s
  ON s.sale_date <= d.sale_date AND s.sale_date > CAST(d.sale_date - INTERVAL 28 DAY AS DATE)
GROUP BY d.sale_date, s.store_id""",
        ),
    ),
)
