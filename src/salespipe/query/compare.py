"""Period comparisons of the KPIs, as DESIGN.md defines them.

- `previous`: the period of equal length that ends the day before the period starts
  (1..31 March -> 29 January..28 February, 31 days);
- `mtd`: month to date as of the period's last day, against the same days of the
  previous month (1..30 March -> 1..28 February: a day past the end of the shorter
  month is clamped to its last day);
- `yoy`: the same dates one year earlier (29 February -> 28 February).

Each comparison carries the KPIs of both periods, the change and the change in percent
(100 * change / |previous|, null when the previous value is null or 0). Filters other
than dates (store, region, category) apply to both periods.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from salespipe.query.kpis import KpiFilter, compute_kpis, to_output

COMPARISONS = ("previous", "mtd", "yoy")
COMPARED = (
    "net_sales",
    "gross_sales",
    "returns_value",
    "orders",
    "units_sold",
    "net_units",
    "average_order_value",
    "active_stores",
    "cost",
    "profit",
    "margin_pct",
)


def _clamp_day(year: int, month: int, day: int) -> date:
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def previous_period(start: date, end: date) -> tuple[date, date]:
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def month_to_date(as_of: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(current month to date, the same days of the previous month)."""
    first = as_of.replace(day=1)
    prev_first = (first - timedelta(days=1)).replace(day=1)
    return (first, as_of), (prev_first, _clamp_day(prev_first.year, prev_first.month, as_of.day))


def year_earlier(day: date) -> date:
    return _clamp_day(day.year - 1, day.month, day.day)


def periods(mode: str, start: date, end: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """(current period, period compared with) for a comparison mode."""
    if mode == "previous":
        return (start, end), previous_period(start, end)
    if mode == "mtd":
        return month_to_date(end)
    if mode == "yoy":
        return (start, end), (year_earlier(start), year_earlier(end))
    raise ValueError(f"unknown comparison {mode!r}; use one of {', '.join(COMPARISONS)}")


def _change(current: Any, previous: Any) -> tuple[Decimal | None, Decimal | None]:
    if current is None or previous is None:
        return None, None
    delta = Decimal(current) - Decimal(previous)
    pct = Decimal(100) * delta / abs(Decimal(previous)) if previous != 0 else None
    return delta, pct


def compare_periods(
    con: duckdb.DuckDBPyConnection,
    flt: KpiFilter,
    modes: tuple[str, ...] = COMPARISONS,
) -> dict[str, Any]:
    """The KPIs of the period plus one block per comparison mode (exact values).

    Returns `{**kpis, "comparison": {mode: {"current", "previous", "change",
    "change_pct"}}}`; a block is null when the warehouse has no sale in the period.
    """
    kpis = compute_kpis(con, flt)
    start, end = kpis["from"], kpis["to"]
    blocks: dict[str, Any] = {}
    for mode in modes:
        if not isinstance(start, date) or not isinstance(end, date):
            blocks[mode] = None
            continue
        (cur_from, cur_to), (prev_from, prev_to) = periods(mode, start, end)
        current = (
            kpis
            if (cur_from, cur_to) == (start, end)
            else compute_kpis(con, replace(flt, date_from=cur_from, date_to=cur_to))
        )
        previous = compute_kpis(con, replace(flt, date_from=prev_from, date_to=prev_to))
        changes = {k: _change(current[k], previous[k]) for k in COMPARED}
        blocks[mode] = {
            "current": current,
            "previous": previous,
            "change": {k: v[0] for k, v in changes.items()},
            "change_pct": {k: v[1] for k, v in changes.items()},
        }
    return {**kpis, "comparison": blocks}


def comparison_output(blocks: dict[str, Any]) -> dict[str, Any]:
    """Comparison blocks rounded for output like the KPIs (cents, 2-place percentages)."""
    out: dict[str, Any] = {}
    for mode, block in blocks.items():
        if block is None:
            out[mode] = None
            continue
        change_pct = {
            k: (None if v is None else float(round(v, 2))) for k, v in block["change_pct"].items()
        }
        out[mode] = {
            "current": to_output(block["current"]),
            "previous": to_output(block["previous"]),
            "change": to_output(block["change"]),
            "change_pct": change_pct,
        }
    return out
