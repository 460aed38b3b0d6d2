"""Partial days: a source's trade ends (90% of its lines sold) far earlier than on the
same weekday of recent weeks, measured in that weekday's trading span (10% to 90% of
the lines). An export cut at noon shows here whatever the day's volume should be."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from salespipe.config.model import MonitorSettings
from salespipe.monitor.days import MAD_TO_SD, VOLUME, DayJudgement, SourceDays

MIN_SPREAD_SECONDS = 60.0


def judge_day_end(
    data: SourceDays,
    settings: MonitorSettings,
    day: date,
    special: bool,
    usable: Callable[[str, date], bool],
) -> DayJudgement | None:
    source = data.source
    today = data.day_end.get(day)
    if today is None:
        return None
    history = []
    for k in range(1, settings.baseline_weeks + 1):
        past = day - timedelta(days=7 * k)
        value = data.day_end.get(past)
        if value is not None and usable(source, past):
            history.append(value)
    if len(history) < settings.min_history:
        return None
    ends = [end for _, end in history]
    usual = median(ends)
    span = max(median(end - start for start, end in history), 3600)
    spread = max(MAD_TO_SD * median(abs(e - usual) for e in ends), MIN_SPREAD_SECONDS)
    check = settings.day_end
    share = check.holiday_early_share if special else check.early_share
    early = usual - today[1]
    return DayJudgement(
        kind=VOLUME,
        key=f"{VOLUME}|{source}|day_end",
        source=source,
        subject=source,
        day=day,
        observed=(Decimal(today[1]) / 3600).quantize(Decimal("0.01")),
        expected=(Decimal(usual) / 3600).quantize(Decimal("0.01")),
        score=round(early / spread, 2),
        flagged=early >= share * span and early >= check.z * spread,
        severity=check.severity,
        message=(
            f"{source}: 90% of the lines of {day} ({day:%a}) were sold by "
            f"{_clock(today[1])}, usually by {_clock(int(usual))}: the day looks partial"
        ),
    )


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
