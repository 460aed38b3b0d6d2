"""Daily values of a source read from the fact table: lines, net sales, a price index and
when the day's trade ends, per store and for the whole source. One aggregate query per
source; the judging happens in memory (monitor.seasonal)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb

from salespipe.config.model import Config, Source
from salespipe.monitor.days import METRICS, NET_SALES, PRICE_INDEX, VOLUME, SourceDays

ZERO = Decimal(0)


def _local_zone_sql(config: Config, source: Source) -> tuple[str, list[str]]:
    """SQL for each line's time zone: the store's, else the source's."""
    default = config.source_timezone(source)
    if not source.store_timezones:
        return "?", [default]
    cases = " ".join("WHEN ? THEN ?" for _ in source.store_timezones)
    params = [v for item in source.store_timezones.items() for v in item]
    return f"CASE store_id {cases} ELSE ? END", [*params, default]


def last_day(con: duckdb.DuckDBPyConnection, source: str) -> date | None:
    rows = con.execute(
        "SELECT max(sale_date) FROM fact_sales WHERE source = ?", [source]
    ).fetchall()
    value = rows[0][0] if rows else None
    return value if isinstance(value, date) else None


def load_source_days(
    con: duckdb.DuckDBPyConnection, config: Config, source: Source, first: date | None = None
) -> SourceDays | None:
    """The source's daily values from `first` (default: its first day) to its last day.

    The price index of a day is the median, over its sale lines, of the unit price against
    the product's median unit price in the window: 1 when prices are as usual, 10 or 0.1
    when a decimal point moved."""
    zone, zone_params = _local_zone_sql(config, source)
    where = "source = ?" + (" AND sale_date >= ?" if first else "")
    params: list[object] = [*zone_params, source.name] + ([first] if first else [])
    # DuckDB types DECIMAL(18,4) * DECIMAL(18,8) as DECIMAL(18,12), which overflows from a
    # unit price of 10^6 up; widened first, the product is DECIMAL(38,12) and still exact.
    rows = con.execute(
        f"""
        WITH lines AS (
            SELECT sale_date, store_id, product_id, quantity, line_revenue,
                   CAST(unit_price AS DECIMAL(38,4)) * fx_rate AS price,
                   CAST(timezone({zone}, sold_at) AS TIME) AS t
            FROM fact_sales WHERE {where}
        ),
        usual AS (
            SELECT product_id, median(price) AS usual_price FROM lines
            WHERE quantity > 0 AND price > 0 GROUP BY product_id
        )
        SELECT sale_date, store_id, count(*), sum(line_revenue),
               median(CASE WHEN quantity > 0 THEN price / usual_price END),
               quantile_disc(EXTRACT(hour FROM t) * 3600 + EXTRACT(minute FROM t) * 60
                             + floor(EXTRACT(second FROM t)), [0.1, 0.9])
        FROM lines LEFT JOIN usual USING (product_id)
        GROUP BY GROUPING SETS ((sale_date, store_id), (sale_date))
        ORDER BY sale_date, store_id NULLS FIRST
        """,
        params,
    ).fetchall()
    if not rows:
        return None
    name = source.name
    values: dict[str, dict[str, dict[date, Decimal]]] = {
        m: {name: {}} for m in (*METRICS, PRICE_INDEX)
    }
    stores: dict[str, str] = {}
    day_end: dict[date, tuple[int, int]] = {}
    for day, store, lines, net, index, end in rows:
        subject = name if store is None else f"{name}/{store}"
        if store is None:
            day_end[day] = (int(end[0]), int(end[1]))
        else:
            stores[subject] = str(store)
        for metric, value in ((VOLUME, lines), (NET_SALES, net), (PRICE_INDEX, index)):
            if value is not None:
                values[metric].setdefault(subject, {})[day] = Decimal(value)
    start, last = min(day_end), max(day_end)
    days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
    for metric in METRICS:
        total = values[metric][name]
        for d in days:
            total.setdefault(d, ZERO)  # a day without lines: the source did not trade
        for subject in stores:
            series = values[metric].setdefault(subject, {})
            opened = min(values[VOLUME][subject])
            for d in days:
                # From its first sale on, a store is silent on a day its source traded.
                if d >= opened and d in day_end:
                    series.setdefault(d, ZERO)
    return SourceDays(
        source=name, first=start, last=last, values=values, stores=stores, day_end=day_end
    )
