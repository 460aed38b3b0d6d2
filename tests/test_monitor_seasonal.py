"""The seasonal judge on daily values built in memory: what it flags and what it must not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from salespipe.config.model import MonitorSettings
from salespipe.monitor.days import NET_SALES, PRICE_INDEX, VOLUME, DayJudgement, SourceDays
from salespipe.monitor.seasonal import SeasonalJudge

START = date(2025, 1, 6)  # a Monday
STORES = {"S1": 150.0, "S2": 110.0, "S3": 80.0, "S4": 130.0}
WEEKLY = (0.85, 0.8, 0.9, 0.95, 1.15, 1.45, 1.1)

# (day index, store or None for every store) -> factor on that day's lines
Shape = dict[tuple[int, str | None], float]


def build(
    days: int = 126,
    lines: Shape | None = None,
    prices: Shape | None = None,
    trend: Callable[[int], float] = lambda i: 1.0,
    cut: dict[int, int] | None = None,
    seed: int = 3,
) -> SourceDays:
    """Poisson lines per store and day, net sales of ~20 a line, prices as usual."""
    rng = np.random.default_rng(seed)
    lines = lines or {}
    prices = prices or {}
    values: dict[str, dict[str, dict[date, Decimal]]] = {
        m: {"pos": {}} for m in (VOLUME, NET_SALES, PRICE_INDEX)
    }
    day_end: dict[date, tuple[int, int]] = {}
    for i in range(days):
        day = START + timedelta(days=i)
        total_lines, total_net = 0, Decimal(0)
        for store, size in STORES.items():
            factor = lines.get((i, store), lines.get((i, None), 1.0))
            mean = size * WEEKLY[day.weekday()] * trend(i) * factor
            n = int(rng.poisson(mean))
            price = prices.get((i, store), 1.0)
            net = Decimal(str(round(float(n) * rng.normal(20.0, 1.5) * price, 2)))
            subject = f"pos/{store}"
            values[VOLUME].setdefault(subject, {})[day] = Decimal(n)
            values[NET_SALES].setdefault(subject, {})[day] = net
            values[PRICE_INDEX].setdefault(subject, {})[day] = Decimal(str(price))
            total_lines += n
            total_net += net
        values[VOLUME]["pos"][day] = Decimal(total_lines)
        values[NET_SALES]["pos"][day] = total_net
        end = (cut or {}).get(i, 19 * 3600 + int(rng.integers(-600, 600)))
        day_end[day] = (10 * 3600, end)
    return SourceDays(
        source="pos",
        first=START,
        last=START + timedelta(days=days - 1),
        values=values,
        stores={f"pos/{s}": s for s in STORES},
        day_end=day_end,
    )


def flagged(
    data: SourceDays,
    settings: MonitorSettings | None = None,
    special: set[date] | None = None,
) -> list[DayJudgement]:
    judge = SeasonalJudge(data, settings or MonitorSettings(), special or set())
    return [j for j in judge.judge(data.first) if j.flagged]


def at(i: int) -> date:
    return START + timedelta(days=i)


def test_ordinary_days_raise_nothing() -> None:
    assert flagged(build()) == []


def test_a_silent_store_is_one_error_about_its_lines() -> None:
    found = flagged(build(lines={(100, "S2"): 0.0}))
    assert [(j.kind, j.subject, j.day, j.severity) for j in found] == [
        ("volume", "pos/S2", at(100), "error")
    ]
    assert found[0].observed == 0 and found[0].expected is not None and found[0].expected > 50
    assert "no lines" in found[0].message


def test_drops_and_spikes_are_judged_against_the_peers() -> None:
    found = flagged(build(lines={(90, "S1"): 0.3, (110, "S3"): 3.0}))
    assert [(j.subject, j.day, j.score < 0) for j in found] == [
        ("pos/S1", at(90), True),
        ("pos/S3", at(110), False),
    ]
    assert "down" in found[0].message and "up" in found[1].message
    assert all(j.severity == "warning" for j in found)


def test_a_price_error_is_a_net_sales_finding() -> None:
    found = flagged(build(prices={(95, "S4"): 10.0, (105, "S2"): 0.1}))
    assert [(j.kind, j.subject, j.day) for j in found] == [
        ("net_sales", "pos", at(95)),  # ten times one store's sales move the whole source
        ("net_sales", "pos/S4", at(95)),
        ("net_sales", "pos/S2", at(105)),
    ]


def test_a_partial_day_shows_in_the_day_end_and_the_lines() -> None:
    found = flagged(build(lines={(99, None): 0.4}, cut={99: 12 * 3600}))
    keys = {(j.key, j.day) for j in found}
    assert ("volume|pos|day_end", at(99)) in keys
    assert ("volume|pos", at(99)) in keys
    assert all(j.day == at(99) for j in found)


def test_nothing_is_judged_before_the_minimum_history() -> None:
    data = build(lines={(10, "S1"): 0.0})
    judge = SeasonalJudge(data, MonitorSettings(), set())
    early = [j for j in judge.judge(data.first) if j.day <= at(20)]
    assert early == []


def test_holidays_are_not_judged_for_the_source_but_stores_still_are() -> None:
    holiday = at(101)
    closed_early = build(lines={(101, None): 0.3})
    assert flagged(closed_early, special={holiday}) == []
    assert any(j.subject == "pos" for j in flagged(closed_early))  # unknown holiday: flagged
    one_store = build(lines={(101, None): 0.3, (101, "S3"): 0.0})
    found = flagged(one_store, special={holiday})
    assert [(j.subject, j.day) for j in found] == [("pos/S3", holiday)]


def test_a_season_ramping_up_and_stopping_is_not_an_anomaly() -> None:
    def ramp(i: int) -> float:  # +4% a day for 18 days, then back to normal
        return 1.0 + 0.04 * (i - 90) if 90 <= i < 108 else 1.0

    assert flagged(build(trend=ramp)) == []


def test_confirmed_anomalies_stay_out_of_the_baseline() -> None:
    settings = MonitorSettings(baseline_weeks=8, min_history=3)
    mondays = {(63 + 7 * k, "S2"): 0.25 for k in range(4)}
    found = flagged(build(lines=mondays), settings)
    assert [j.day for j in found] == [at(i) for i, _ in mondays]
    first, last = found[0].expected, found[-1].expected
    assert first is not None and last is not None
    assert abs(last - first) < first / 4  # the low Mondays did not pull the baseline down


def test_a_change_that_lasts_becomes_the_new_normal() -> None:
    settings = MonitorSettings(baseline_weeks=4, min_history=2, adapt_after_days=7)
    grown = {(i, "S4"): 2.0 for i in range(70, 126)}
    found = [j for j in flagged(build(lines=grown), settings) if j.kind == "volume"]
    assert found[0].day == at(70)
    assert max(j.day for j in found) < at(105)  # within a few weeks it is the usual


def test_excluded_days_from_earlier_runs_are_respected() -> None:
    settings = MonitorSettings(baseline_weeks=8, min_history=3)
    lows = [49, 56, 63, 70, 77, 84]
    data = build(lines={(i, "S2"): 0.25 for i in lows})
    known = {"pos/S2": {at(i) for i in lows[:-1]}}
    judge = SeasonalJudge(data, settings, set(), known)
    found = [j for j in judge.judge(at(80)) if j.flagged]
    assert [(j.subject, j.day) for j in found] == [("pos/S2", at(84))]
    # Without them, five low Mondays of eight make a low Monday look usual (and the
    # ordinary Mondays after it look like spikes).
    unaware = [j for j in SeasonalJudge(data, settings, set()).judge(at(80)) if j.flagged]
    assert at(84) not in {j.day for j in unaware}
    assert unaware and all(j.score > 0 for j in unaware)
