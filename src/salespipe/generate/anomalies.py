"""Labelled anomalies for measuring the monitor: drops, spikes, silent stores, partial days
and price errors, placed reproducibly from the seed and written to a labels file.

Volume anomalies (drop, spike, silent) are factors in `VolumePlan.adjustment`; partial
days and price errors change a simulated day's lines before defects are injected. With
no anomalies requested nothing here runs, so the output is the same as without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from salespipe.generate.lines import LineBatch
from salespipe.generate.retail_calendar import Calendar
from salespipe.generate.volume import VolumePlan

IntArray = npt.NDArray[np.int64]

DROP, SPIKE, SILENT, PARTIAL_DAY, PRICE_ERROR = (
    "drop",
    "spike",
    "silent",
    "partial_day",
    "price_error",
)
# Cycled, so that any count gets every kind in turn (30 anomalies = 6 of each).
ANOMALY_KINDS = (DROP, SPIKE, SILENT, PARTIAL_DAY, PRICE_ERROR)
# The monitor needs four weeks of same-weekday history and a week of noise before it
# can judge a day; holidays early in January take some of those days.
WARMUP_DAYS = 42
DROP_FACTOR = (0.1, 0.4)  # share of the day's lines that remain
SPIKE_FACTOR = (2.5, 4.0)
SILENT_DAYS = (1, 3)
PARTIAL_CUTOFF_HOURS = (11.0, 15.0)  # local time after which a partial day has no lines
PRICE_FACTORS = (10.0, 0.1)  # a misplaced decimal point, either way


@dataclass(frozen=True)
class Anomaly:
    kind: str
    day: int  # index of the first affected day
    days: int  # consecutive days affected
    store: int | None  # None: every store of the day
    factor: float  # volume factor (drop, spike, silent) or price factor (price_error)
    cutoff: int | None = None  # partial_day: seconds after local midnight

    def covers(self, day: int) -> bool:
        return self.day <= day < self.day + self.days


def plan_anomalies(
    rng: np.random.Generator, calendar: Calendar, stores: int, count: int
) -> list[Anomaly]:
    """`count` anomalies on distinct ordinary trading days, none adjacent to another.

    Days in the warm-up, holidays of the retail calendar and closed days are never
    chosen: the monitor cannot know what such a day should look like.
    """
    if count <= 0:
        return []
    eligible = {
        day
        for day in range(WARMUP_DAYS, len(calendar))
        if not calendar.holidays[day] and calendar.seasonal[day] > 0
    }
    kinds = [ANOMALY_KINDS[i % len(ANOMALY_KINDS)] for i in range(count)]
    rng.shuffle(kinds)
    blocked: set[int] = set()  # taken days and their neighbours
    out: list[Anomaly] = []
    for kind in kinds:
        span = int(rng.integers(SILENT_DAYS[0], SILENT_DAYS[1] + 1)) if kind == SILENT else 1
        free = [
            day
            for day in sorted(eligible)
            if all(d in eligible and d not in blocked for d in range(day, day + span))
        ]
        if not free:
            raise ValueError(
                f"anomalies: {count} do not fit in {len(calendar)} days; "
                "ask for fewer or generate more days"
            )
        day = free[int(rng.integers(0, len(free)))]
        blocked.update(range(day - 1, day + span + 1))
        out.append(_draw(rng, kind, day, span, stores))
    return sorted(out, key=lambda a: (a.day, -1 if a.store is None else a.store))


def _draw(rng: np.random.Generator, kind: str, day: int, span: int, stores: int) -> Anomaly:
    store = int(rng.integers(0, stores))
    if kind == DROP:
        return Anomaly(kind, day, span, store, round(float(rng.uniform(*DROP_FACTOR)), 3))
    if kind == SPIKE:
        return Anomaly(kind, day, span, store, round(float(rng.uniform(*SPIKE_FACTOR)), 3))
    if kind == SILENT:
        return Anomaly(kind, day, span, store, 0.0)
    if kind == PARTIAL_DAY:
        hours = float(rng.uniform(*PARTIAL_CUTOFF_HOURS))
        return Anomaly(kind, day, span, None, 1.0, cutoff=int(hours * 3600) // 60 * 60)
    factor = PRICE_FACTORS[int(rng.integers(0, len(PRICE_FACTORS)))]
    return Anomaly(kind, day, span, store, factor)


def adjust_volume(plan: VolumePlan, anomalies: Sequence[Anomaly]) -> VolumePlan:
    """The plan with the volume anomalies' factors on their days and stores."""
    volume = [a for a in anomalies if a.kind in (DROP, SPIKE, SILENT)]
    if not volume:
        return plan
    adjustment = plan.adjustment.copy()
    for a in volume:
        adjustment[a.day : a.day + a.days, a.store] *= a.factor
    return replace(plan, adjustment=adjustment)


def distort_day(batch: LineBatch, anomalies: Sequence[Anomaly]) -> LineBatch:
    """A simulated day with its partial-day cut and price errors applied."""
    for a in anomalies:
        if a.kind == PARTIAL_DAY and a.cutoff is not None:
            keep = batch.second < a.cutoff
            if a.store is not None:
                keep |= batch.store != a.store
            batch = batch.take(np.flatnonzero(keep).astype(np.int64))
        elif a.kind == PRICE_ERROR and a.store is not None:
            at = batch.store == a.store
            price, discount = batch.unit_price.copy(), batch.discount.copy()
            if a.factor >= 1:
                price[at] *= int(a.factor)
                discount[at] *= int(a.factor)
            else:
                divisor = round(1 / a.factor)
                price[at] = np.maximum(price[at] // divisor, 1)
                discount[at] //= divisor
            batch = replace(batch, unit_price=price, discount=discount)
    return batch


def by_day(anomalies: Sequence[Anomaly]) -> dict[int, list[Anomaly]]:
    """The line-level anomalies (partial days, price errors) of each day."""
    out: dict[int, list[Anomaly]] = {}
    for a in anomalies:
        if a.kind in (PARTIAL_DAY, PRICE_ERROR):
            for day in range(a.day, a.day + a.days):
                out.setdefault(day, []).append(a)
    return out


def labels(
    anomalies: Sequence[Anomaly], calendar: Calendar, store_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """The anomalies as the labels file lists them: day, store (null = every store), kind."""
    out: list[dict[str, Any]] = []
    for i, a in enumerate(anomalies, start=1):
        label: dict[str, Any] = {
            "id": i,
            "kind": a.kind,
            "day": calendar.dates[a.day].isoformat(),
            "days": a.days,
            "store": None if a.store is None else store_ids[a.store],
            "factor": a.factor,
        }
        if a.cutoff is not None:
            label["cutoff"] = f"{a.cutoff // 3600:02d}:{a.cutoff % 3600 // 60:02d}"
        out.append(label)
    return out


def write_labels(path: Path, seed: int, items: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"seed": seed, "anomalies": items}, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
