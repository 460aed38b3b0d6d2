"""The days a monitor treats as special: country holidays (the `holidays` package), the
days just after them and the configured special days. Baselines leave them out and
sources are not judged on them; stores still are, against their peers."""

from __future__ import annotations

from datetime import date, timedelta

from salespipe.config.model import MonitorSettings
from salespipe.errors import MissingExtraError


def special_days(settings: MonitorSettings, first: date, last: date) -> set[date]:
    days: set[date] = set(settings.special_days)
    if settings.holidays:
        try:
            import holidays
        except ImportError:
            raise MissingExtraError("holidays", "monitor") from None
        years = range(first.year, last.year + 1)
        for country in settings.holidays:
            calendar = holidays.country_holidays(
                country, years=years, categories=tuple(settings.holiday_categories)
            )
            days.update(calendar.keys())
    after = {d + timedelta(days=k) for d in days for k in range(1, settings.holiday_window + 1)}
    return {d for d in days | after if first <= d <= last}
