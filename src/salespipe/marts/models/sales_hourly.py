"""sales_hourly: sales per business day, store and hour of day, in the store's local time.

Feeds seasonality by hour. The hour is read in the zone that decided the business day
(the zone the line's source reads the store in, as recorded in store_zones), so the hours
of a day add up to sales_daily, also when two sources disagree on a store's zone.
"""

from __future__ import annotations

from salespipe.marts.measures import AVERAGE_ORDER_VALUE, COST_COLUMNS, SALES_COLUMNS
from salespipe.marts.model import DATE, INT, TEXT, ByDate, Column, Mart, Reconciles, key

MART = Mart(
    name="sales_hourly",
    description=(
        "Sales per business day, store and hour of the day (the store's local time), "
        "for seasonality by hour."
    ),
    grain=("sale_date", "store_id", "hour"),
    columns=(
        key("sale_date", DATE, "Business day: the sale's date in the store's time zone."),
        key("store_id", TEXT, "Store.", references="dim_store"),
        Column(
            "hour",
            INT,
            "Hour of the day of sold_at in the store's time zone, 0..23; null for the lines "
            "of a source's day that carries no time of day (dates alone).",
            min_value=0,
            max_value=23,
        ),
        Column(
            "day_of_week",
            INT,
            "ISO weekday of sale_date: 1 = Monday .. 7 = Sunday.",
            not_null=True,
            min_value=1,
            max_value=7,
        ),
        *SALES_COLUMNS,
        AVERAGE_ORDER_VALUE,
        *COST_COLUMNS,
    ),
    refresh=ByDate(),
    requires=("time_of_day",),
    reconciles=Reconciles(
        "sales_daily",
        on=("sale_date", "store_id"),
        measures=("net_sales", "gross_sales", "returns_value", "units_sold", "net_units", "lines"),
    ),
    notes=(
        "A business day of a source whose every line sits at the day's local midnight carries "
        "no time of day (a source of dates alone, such as daily totals): its lines keep "
        "`hour` null instead of an invented hour 0, so the hours of a day still add up to "
        "`sales_daily`. The mart is skipped, with a note, when no loaded line has a time of day. "
        "Each line's hour is read in the zone its own source reads the store in (two sources "
        "may disagree: a till exporting UTC, a web shop with `store_timezones`). A line whose "
        "local date in that zone is not its business day (the source's zone for the store "
        "changed after it was loaded) keeps `hour` null; run `salespipe marts refresh --full` "
        "after changing a store's time zone.",
        "`orders` counts the transactions with a sale line in the hour: a transaction whose "
        "lines straddle two hours counts in both, so hours need not add up to the day's orders.",
    ),
    steps=(
        (
            "local_lines",
            """
SELECT f.source, f.sale_date, f.store_id, f.transaction_id, f.quantity, f.line_revenue,
  f.line_cost,
  timezone(coalesce(z.timezone, s.timezone, 'UTC'), f.sold_at) AS local_time
FROM {fact} f
LEFT JOIN {store_zones} z ON z.source = f.source AND z.store_id = f.store_id
LEFT JOIN {dim_store} s ON s.store_id = f.store_id""",
        ),
        (
            "timed_days",
            """
SELECT source, sale_date
FROM local_lines
GROUP BY source, sale_date
HAVING max(CASE WHEN local_time <> CAST(sale_date AS TIMESTAMP) THEN 1 ELSE 0 END) = 1""",
        ),
        (
            "placed",
            """
SELECT l.*,
  CASE WHEN t.source IS NOT NULL AND CAST(l.local_time AS DATE) = l.sale_date
       THEN CAST(extract(hour FROM l.local_time) AS BIGINT) END AS hour
FROM local_lines l
LEFT JOIN timed_days t ON t.source = l.source AND t.sale_date = l.sale_date""",
        ),
        (
            "hourly",
            """
SELECT sale_date, store_id, hour,
  {sales_measures}
FROM placed
GROUP BY sale_date, store_id, hour""",
        ),
        (
            "final",
            """
SELECT *,
  CAST(extract(isodow FROM sale_date) AS BIGINT) AS day_of_week,
  {average_order_value},
  {profit_and_margin}
FROM hourly""",
        ),
    ),
)
