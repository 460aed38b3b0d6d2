"""Seasonal checks: each day's lines and net sales, per source and per store, against what
the same weekday of recent weeks, the source's current level and the store's peers say.

Pure: it works on daily values in memory, so one code path judges the newest day after a
run and a whole year in the detection benchmark. Days flagged as anomalies leave the
baseline (until a change lasts long enough to be the new normal).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from salespipe.config.model import MonitorSettings, SeasonalCheck
from salespipe.monitor.day_end import judge_day_end
from salespipe.monitor.days import (
    MAD_TO_SD,
    METRICS,
    NET_SALES,
    PRICE_INDEX,
    VOLUME,
    DayJudgement,
    SourceDays,
)

UNITS = {VOLUME: "lines", NET_SALES: "net sales"}
MIN_RESIDUALS = 7  # recent residuals needed to know a subject's noise
# Poisson noise is 1 on the square-root scale of counts; money is on a log scale.
MIN_SPREAD = {VOLUME: 1.0, NET_SALES: 0.05}
# Net sales off while the lines are not are flagged when prices moved the same way (a
# price error), or on their own at this many times z: one large basket can move them.
OWN_EVIDENCE = 2.5
# A store agrees with a common ratio of observed to baseline when its residual against it
# is within this (about 3-4 times the noise of a store of fair size).
PEER_TOLERANCE = {VOLUME: 4.0, NET_SALES: math.log(2.0)}
MAX_CANDIDATES = 25  # the largest stores propose the common ratio
ONE, ZERO = Decimal(1), Decimal(0)


@dataclass
class _Subject:
    excluded: set[date]
    streak: list[date] = field(default_factory=list)
    last_judged: date | None = None
    residuals: dict[str, deque[float]] = field(default_factory=dict)


def _residual(metric: str, observed: Decimal, expected: Decimal) -> float:
    """Deviation on a scale where the noise is about constant: square roots of counts
    (Anscombe: Poisson noise ~1), logarithms of money."""
    if metric == VOLUME:
        return 2.0 * (math.sqrt(float(observed) + 0.375) - math.sqrt(float(expected) + 0.375))
    return math.log((max(float(observed), 0.0) + 1.0) / (max(float(expected), 0.0) + 1.0))


def _spread(metric: str, residuals: Iterable[float]) -> float | None:
    values = list(residuals)
    if len(values) < MIN_RESIDUALS:
        return None
    mid = median(values)
    mad = median(abs(v - mid) for v in values)
    return max(MAD_TO_SD * mad, MIN_SPREAD[metric])


def _large(observed: Decimal, expected: Decimal, check: SeasonalCheck) -> bool:
    """Whether a deviation passes the absolute and the relative threshold."""
    deviation = abs(observed - expected)
    if deviation < check.absolute:
        return False
    return expected <= 0 or deviation / expected >= Decimal(str(check.relative))


class SeasonalJudge:
    """Judges the days of one source from `evaluate_from` on; earlier days are history."""

    def __init__(
        self,
        data: SourceDays,
        settings: MonitorSettings,
        special: set[date],
        excluded: dict[str, set[date]] | None = None,
    ) -> None:
        self.data = data
        self.settings = settings
        self.special = special
        self._subjects = {
            subject: _Subject(excluded=set((excluded or {}).get(subject, set())))
            for subject in data.values[VOLUME]
        }
        self._base_cache: dict[tuple[str, str, date], Decimal | None] = {}
        # Today's flagged line counts (their scores), for net sales to consult.
        self._volume_flagged: dict[str, float] = {}

    def judge(self, evaluate_from: date, until: date | None = None) -> list[DayJudgement]:
        """Judgements of every day from `evaluate_from` to `until` (default: the last day),
        flagged or not, in day order."""
        out: list[DayJudgement] = []
        source = self.data.source
        for day in self.data.days():
            if until is not None and day > until:
                break
            judged = day >= evaluate_from
            self._volume_flagged = {}
            today: list[DayJudgement] = []
            if self.settings.day_end.enabled:
                end = judge_day_end(
                    self.data, self.settings, day, day in self.special, self._usable
                )
                if end is not None:
                    today.append(end)
            total = self.data.values[VOLUME][source].get(day)
            for metric in METRICS:
                check = self._check(metric)
                if check is not None:
                    today.extend(self._judge_metric(metric, check, day, total))
            flagged: dict[str, bool] = {}
            for judgement in today:
                flagged[judgement.subject] = flagged.get(judgement.subject, False) or (
                    judgement.flagged
                )
            for subject, state in self._subjects.items():
                if judged:
                    self._settle(state, day, flagged.get(subject, False))
                elif subject in flagged or day in state.excluded:
                    # History: the stored verdicts stand, whatever today's settings say.
                    self._settle(state, day, day in state.excluded)
            if judged:
                out.extend(today)
        return out

    def _check(self, metric: str) -> SeasonalCheck | None:
        check: SeasonalCheck = getattr(self.settings, metric)
        return check if check.enabled else None

    # -- expectations ---------------------------------------------------------

    def _value(self, metric: str, subject: str, day: date) -> Decimal | None:
        return self.data.values[metric].get(subject, {}).get(day)

    def _usable(self, subject: str, day: date) -> bool:
        return day not in self.special and day not in self._subjects[subject].excluded

    def _base(self, metric: str, subject: str, day: date) -> Decimal | None:
        """Median of the same weekday over the trailing weeks, anomalies and holidays left out."""
        key = (metric, subject, day)
        if key in self._base_cache:
            return self._base_cache[key]
        history = []
        for k in range(1, self.settings.baseline_weeks + 1):
            past = day - timedelta(days=7 * k)
            value = self._value(metric, subject, past)
            if value is not None and self._usable(subject, past):
                history.append(value)
        base = median(history) if len(history) >= self.settings.min_history else None
        self._base_cache[key] = base
        return base

    def _level(self, metric: str, subject: str, day: date) -> Decimal:
        """The subject's recent level relative to its same-weekday baseline (1 = as usual).

        Flagged days count here (the median shrugs a few off): leaving them out would
        freeze the level while a season ramps up and flag every day of the ramp."""
        ratios = []
        for k in range(1, self.settings.level_days + 1):
            past = day - timedelta(days=k)
            value = self._value(metric, subject, past)
            base = self._base(metric, subject, past)
            if value is not None and base and base > 0 and past not in self.special:
                ratios.append(value / base)
        return median(ratios) if len(ratios) >= max(3, self.settings.level_days // 2) else ONE

    def _consensus(self, metric: str, day: date, bases: dict[str, Decimal]) -> set[str]:
        """The stores that agree on how the day went: the largest group (most stores, then
        most baseline weight) whose ratios of observed to baseline fit one common ratio.
        Stores outside it are having their own day (an anomaly, or noise)."""
        ratios = {s: (self._value(metric, s, day) or ZERO) / b for s, b in bases.items()}
        # A silent store proposes nothing: if every store were silent, none is judged.
        trading = [s for s in bases if ratios[s] > 0]
        candidates = sorted(trading, key=lambda s: bases[s], reverse=True)[:MAX_CANDIDATES]
        best: set[str] = set()
        best_rank: tuple[int, Decimal] = (0, ZERO)
        for candidate in candidates:
            group = self._fitting(metric, day, bases, ratios[candidate])
            if group:  # settle on the group's own pooled ratio
                group = self._fitting(metric, day, bases, self._pooled(metric, day, group, bases))
            rank = (len(group), sum((bases[s] for s in group), ZERO))
            if rank > best_rank:
                best, best_rank = group, rank
        return best

    def _fitting(
        self, metric: str, day: date, bases: dict[str, Decimal], ratio: Decimal
    ) -> set[str]:
        return {s for s in bases if self._fits(metric, day, s, bases[s], ratio)}

    def _pooled(
        self, metric: str, day: date, stores: Iterable[str], bases: dict[str, Decimal]
    ) -> Decimal:
        chosen = list(stores)
        observed = sum(((self._value(metric, s, day) or ZERO) for s in chosen), ZERO)
        total = sum((bases[s] for s in chosen), ZERO)
        return observed / total if total else ONE

    def _fits(self, metric: str, day: date, subject: str, base: Decimal, ratio: Decimal) -> bool:
        observed = self._value(metric, subject, day) or ZERO
        return abs(_residual(metric, observed, base * ratio)) <= PEER_TOLERANCE[metric]

    def _peer_factor(
        self, metric: str, day: date, subject: str, group: set[str], bases: dict[str, Decimal]
    ) -> Decimal:
        """The pooled ratio of observed to baseline over the agreeing stores but `subject`."""
        peers = [s for s in group if s != subject] or list(group)
        return self._pooled(metric, day, peers, bases)

    # -- judgements -----------------------------------------------------------

    def _judge_metric(
        self, metric: str, check: SeasonalCheck, day: date, total: Decimal | None
    ) -> list[DayJudgement]:
        source = self.data.source
        out: list[DayJudgement] = []
        if day not in self.special and total is not None:
            judgement = self._judge_alone(metric, check, source, day)
            if judgement is not None:
                out.append(judgement)
        if not total:  # the source did not trade (or its file is missing): stores are moot
            return out
        stores = [s for s in self.data.stores if self._value(metric, s, day) is not None]
        bases: dict[str, Decimal] = {}
        for subject in stores:
            base = self._base(metric, subject, day)
            if base is not None and base > 0:
                bases[subject] = base
        group = self._consensus(metric, day, bases) if bases else set()
        for subject in stores:
            peers = [s for s in bases if s != subject]
            base = self._base(metric, subject, day)
            if len(peers) >= self.settings.min_peers and group:
                if base is None:
                    continue
                factor = self._peer_factor(metric, day, subject, group, bases)
                judgement = self._verdict(
                    metric, check, subject, day, [base * factor], "its peers", learn=True
                )
            elif day in self.special:
                continue
            else:
                judgement = self._judge_alone(metric, check, subject, day)
            if judgement is not None:
                out.append(judgement)
        return out

    def _judge_alone(
        self, metric: str, check: SeasonalCheck, subject: str, day: date
    ) -> DayJudgement | None:
        """A subject on its own: off against the same weekday AND against its current level,
        so that a trend (a season ramping up) or a level shift alone is not an anomaly."""
        base = self._base(metric, subject, day)
        if base is None:
            return None
        return self._verdict(
            metric,
            check,
            subject,
            day,
            [base * self._level(metric, subject, day), base],
            "the same weekday of recent weeks",
            learn=day not in self.special,
        )

    def _verdict(
        self,
        metric: str,
        check: SeasonalCheck,
        subject: str,
        day: date,
        expectations: list[Decimal],
        against: str,
        learn: bool,
    ) -> DayJudgement | None:
        """Flag the day when it is off against every expectation, in the same direction.
        Unflagged days teach the subject's noise (`learn`: when the day is a fair sample)."""
        observed = self._value(metric, subject, day)
        if observed is None:
            return None
        state = self._subjects[subject]
        residuals = state.residuals.setdefault(metric, deque(maxlen=self.settings.spread_days))
        learn = learn and day not in state.excluded
        expected = expectations[0]
        spread = _spread(metric, residuals)
        if spread is None:
            if learn:
                residuals.append(_residual(metric, observed, expected))
            return None
        scores = [_residual(metric, observed, e) / spread for e in expectations]
        score = min(scores, key=abs) if len({s > 0 for s in scores}) == 1 else 0.0
        large = all(_large(observed, e, check) for e in expectations)
        flagged = large and self._significant(metric, check, subject, day, score)
        if metric == VOLUME and flagged:
            self._volume_flagged[subject] = score
        if not flagged and learn:
            residuals.append(_residual(metric, observed, expected))
        silent = flagged and observed == 0
        return DayJudgement(
            kind=metric,
            key=f"{metric}|{subject}",
            source=self.data.source,
            subject=subject,
            day=day,
            observed=observed,
            expected=_rounded(metric, expected),
            score=round(score, 2),
            flagged=flagged,
            severity="error" if silent else check.severity,
            message=_message(metric, subject, day, observed, expected, against, silent),
        )

    def _significant(
        self, metric: str, check: SeasonalCheck, subject: str, day: date, score: float
    ) -> bool:
        """Lines: off by z. Net sales: off while the number of lines is not (that finding
        says it all), with prices off the same way (a price error) or alone by 2.5 z."""
        if metric == VOLUME:
            return abs(score) >= check.z
        lines = self._volume_flagged.get(subject)
        if lines is not None and (lines > 0) == (score > 0):
            return False
        if abs(score) >= OWN_EVIDENCE * check.z:
            return True
        index = self._value(PRICE_INDEX, subject, day)
        if index is None or index <= 0 or abs(score) < check.z:
            return False
        band = ONE + Decimal(str(check.relative))
        return index >= band if score > 0 else index <= 1 / band

    def _settle(self, state: _Subject, day: date, flagged: bool) -> None:
        """Keep flagged days out of the baseline; a change that lasts becomes the new normal."""
        if flagged:
            continuing = state.streak and state.last_judged == state.streak[-1]
            state.streak = [*state.streak, day] if continuing else [day]
            if len(state.streak) >= self.settings.adapt_after_days:
                state.excluded.difference_update(state.streak)
            else:
                state.excluded.add(day)
        else:
            state.streak = []
            state.excluded.discard(day)  # judged again and fine now (late data came in)
        state.last_judged = day


def _rounded(metric: str, value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1") if metric == VOLUME else Decimal("0.01"))


def _message(
    metric: str,
    subject: str,
    day: date,
    observed: Decimal,
    expected: Decimal,
    against: str,
    silent: bool,
) -> str:
    unit = UNITS.get(metric, metric)
    if silent:
        return (
            f"{subject}: no {unit} on {day} ({day:%a}); about {_shown(metric, expected)} expected"
        )
    change = (observed - expected) / expected * 100 if expected else None
    direction = "up" if observed > expected else "down"
    pct = f" ({direction} {abs(change):.0f}%)" if change is not None else ""
    return (
        f"{subject}: {unit} on {day} ({day:%a}) {_shown(metric, observed)}, expected about "
        f"{_shown(metric, expected)} from {against}{pct}"
    )


def _shown(metric: str, value: Decimal) -> str:
    return f"{value:,.0f}" if metric == VOLUME else f"{value:,.2f}"
