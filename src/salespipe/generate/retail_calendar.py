"""Retail calendar of the generated window: seasonality, US holidays, opening hours.

One value per day for everything that depends only on the date: how busy the
day is relative to an average day, when stores open and close, how much of the
trade goes online and how often customers bring things back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

HOUR = 3600
# Monday .. Sunday: weekends are the busy days of a store chain.
WEEKDAY_FACTOR = (0.86, 0.82, 0.88, 0.95, 1.12, 1.42, 1.15)
# January .. December, anchored mid-month: summer dip, November-December peak.
MONTH_FACTOR = (0.86, 0.84, 0.95, 0.98, 1.00, 0.92, 0.86, 0.94, 0.97, 1.00, 1.08, 1.30)
ONLINE_SHARE = 0.16
RETURN_RATE = 0.019
POST_HOLIDAY_RETURN_RATE = 0.035  # Dec 26 .. Jan 10: gifts come back


@dataclass(frozen=True)
class Holiday:
    """How a holiday changes a normal day."""

    name: str
    volume: float  # multiplier on the day's volume; 0 means closed
    opens: int | None = None  # hour, when it differs from a normal day
    closes: int | None = None
    online_share: float | None = None
    return_rate: float | None = None


@dataclass(frozen=True)
class Calendar:
    dates: list[date]
    weekday: IntArray  # 0 = Monday
    month: IntArray  # 1..12
    seasonal: FloatArray  # relative volume of each day (not normalised)
    opens: IntArray  # seconds after local midnight
    closes: IntArray
    online_share: FloatArray
    return_rate: FloatArray
    holidays: list[str]  # holiday name, or "" on a normal day

    def __len__(self) -> int:
        return len(self.dates)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0 = Monday) of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def us_holidays(year: int) -> dict[date, Holiday]:
    """The US retail holidays of a year and their effect on trade."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    return {
        date(year, 1, 1): Holiday("New Year's Day", 0.55, opens=11),
        _nth_weekday(year, 1, 0, 3): Holiday("Martin Luther King Jr. Day", 1.08),
        _nth_weekday(year, 2, 0, 3): Holiday("Presidents' Day", 1.12),
        _easter(year): Holiday("Easter Sunday", 0.6, closes=17),
        _nth_weekday(year, 5, 0, -1): Holiday("Memorial Day", 1.2),
        date(year, 7, 4): Holiday("Independence Day", 0.7, closes=18),
        _nth_weekday(year, 9, 0, 1): Holiday("Labor Day", 1.2),
        thanksgiving: Holiday("Thanksgiving", 0.3, opens=10, closes=16, online_share=0.35),
        thanksgiving + timedelta(days=1): Holiday("Black Friday", 2.6, opens=6, closes=23),
        thanksgiving + timedelta(days=2): Holiday("Small Business Saturday", 1.5),
        thanksgiving + timedelta(days=4): Holiday("Cyber Monday", 1.4, online_share=0.45),
        date(year, 12, 24): Holiday("Christmas Eve", 1.5, closes=17),
        date(year, 12, 25): Holiday("Christmas Day", 0.0),
        date(year, 12, 26): Holiday("Boxing Day", 1.35, return_rate=0.06),
        date(year, 12, 31): Holiday("New Year's Eve", 0.9, closes=18),
    }


def _month_curve(dates: list[date]) -> FloatArray:
    """Smooth yearly seasonality: MONTH_FACTOR interpolated between mid-months."""
    day_of_year = np.array([d.timetuple().tm_yday for d in dates], dtype=np.float64)
    anchors = np.array([15, 45, 74, 105, 135, 166, 196, 227, 258, 288, 319, 349], dtype=np.float64)
    curve: FloatArray = np.interp(day_of_year, anchors, np.array(MONTH_FACTOR), period=365.0)
    return curve


def _christmas_ramp(day: date) -> float:
    """The weeks before Christmas build up to the busiest days of the year."""
    if day.month == 12 and 5 < day.day < 24:
        return 1.0 + 0.04 * (day.day - 5)
    return 1.0


def build_calendar(start: date, days: int) -> Calendar:
    dates = [start + timedelta(days=i) for i in range(days)]
    holidays: dict[date, Holiday] = {}
    for year in range(start.year, dates[-1].year + 1):
        holidays.update(us_holidays(year))

    weekday = np.array([d.weekday() for d in dates], dtype=np.int64)
    seasonal = np.array(WEEKDAY_FACTOR)[weekday] * _month_curve(dates)
    opens = np.where(weekday == 6, 10 * HOUR, 9 * HOUR).astype(np.int64)
    closes = np.where(weekday == 6, 18 * HOUR, 21 * HOUR).astype(np.int64)
    online = np.full(days, ONLINE_SHARE)
    returns = np.full(days, RETURN_RATE)
    names = [""] * days
    for i, d in enumerate(dates):
        seasonal[i] *= _christmas_ramp(d)
        if (d.month == 12 and d.day >= 26) or (d.month == 1 and d.day <= 10):
            returns[i] = POST_HOLIDAY_RETURN_RATE
        if d.month == 12 and d.day < 24:
            online[i] = 0.22  # gift shopping moves online
        holiday = holidays.get(d)
        if holiday is None:
            continue
        names[i] = holiday.name
        seasonal[i] *= holiday.volume
        if holiday.opens is not None:
            opens[i] = holiday.opens * HOUR
        if holiday.closes is not None:
            closes[i] = holiday.closes * HOUR
        if holiday.online_share is not None:
            online[i] = holiday.online_share
        if holiday.return_rate is not None:
            returns[i] = holiday.return_rate
    return Calendar(
        dates=dates,
        weekday=weekday,
        month=np.array([d.month for d in dates], dtype=np.int64),
        seasonal=seasonal,
        opens=opens,
        closes=closes,
        online_share=online,
        return_rate=returns,
        holidays=names,
    )
