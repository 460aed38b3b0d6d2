"""Freshness: by `expected_by` local time each day, a source's business day `lag_days`
before must be loaded (business days on the configured weekdays, holidays skipped)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb

from salespipe.config.model import WEEKDAYS, Config, Freshness, MonitorSettings
from salespipe.monitor.calendar import special_days
from salespipe.monitor.model import Finding, Observation
from salespipe.monitor.series import last_day


def due_day(item: Freshness, zone: str, now: datetime, holidays: set[date]) -> date | None:
    """The newest business day whose data is due by `now`."""
    local = now.astimezone(ZoneInfo(zone))
    hour, minute = (int(p) for p in item.expected_by.split(":"))
    deadline_day = (
        local.date() if local.time() >= time(hour, minute) else local.date() - timedelta(1)
    )
    day = deadline_day - timedelta(days=item.lag_days)
    for _ in range(400):  # back to a business day: an expected weekday, not a holiday
        if WEEKDAYS[day.weekday()] in item.weekdays and not (
            item.skip_holidays and day in holidays
        ):
            return day
        day -= timedelta(days=1)
    return None


def freshness(
    con: duckdb.DuckDBPyConnection, config: Config, settings: MonitorSettings, now: datetime
) -> list[Observation]:
    out: list[Observation] = []
    today = now.date()
    holidays = special_days(
        settings.model_copy(update={"holiday_window": 0}), today - timedelta(400), today
    )
    for item in settings.freshness:
        source = config.source(item.source)
        zone = item.timezone or config.source_timezone(source)
        key = f"freshness|{source.name}"
        due = due_day(item, zone, now, holidays)
        if due is None:
            continue
        latest = last_day(con, source.name)
        if latest is not None and latest >= due:
            out.append(Observation(key, None, None, source.name))
            continue
        behind = (due - latest).days if latest else None
        have = f"the latest day loaded is {latest}" if latest else "nothing is loaded yet"
        out.append(
            Observation(
                key,
                None,
                Finding(
                    kind="freshness",
                    key=key,
                    subject=source.name,
                    severity=item.severity,
                    day=due,
                    observed=Decimal(behind) if behind is not None else None,
                    expected=Decimal(0),
                    message=f"{source.name}: no data for {due} yet (due by {item.expected_by} "
                    f"{zone}); {have}",
                    source=source.name,
                ),
                source.name,
            )
        )
    return out
