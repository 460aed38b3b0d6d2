"""Volume plan: how many sales lines each store writes on each day.

The expected count is rows_per_day times the day's seasonality (normalised so
the window averages rows_per_day) times the store's share of the chain times an
adjustment factor. `VolumePlan.adjustment` is the hook for labelled anomalies:
a drop, a spike or a store going silent is a factor other than 1 on the
affected days and stores. Actual counts are Poisson draws around the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class VolumePlan:
    seasonal: FloatArray  # (days,) relative busyness from the retail calendar
    store_share: FloatArray  # (stores,) sums to 1
    adjustment: FloatArray  # (days, stores) 1 = as planned, 0 = silent, 3 = spike
    rows_per_day: int

    def expected_lines(self) -> FloatArray:
        """Expected lines per (day, store)."""
        mean = float(self.seasonal.mean())
        per_day = self.rows_per_day * self.seasonal / mean if mean > 0 else self.seasonal * 0.0
        return per_day[:, None] * self.store_share[None, :] * self.adjustment


@dataclass(frozen=True)
class LineCounts:
    lines: IntArray  # (days, stores) all lines, returns included
    returns: IntArray  # (days, stores) of which return lines


def plan_volume(seasonal: FloatArray, store_share: FloatArray, rows_per_day: int) -> VolumePlan:
    """A plan with no anomalies: every adjustment factor is 1."""
    return VolumePlan(
        seasonal=seasonal,
        store_share=store_share,
        adjustment=np.ones((seasonal.size, store_share.size)),
        rows_per_day=rows_per_day,
    )


def draw_line_counts(
    plan: VolumePlan, return_rate: FloatArray, rng: np.random.Generator
) -> LineCounts:
    lines = rng.poisson(plan.expected_lines()).astype(np.int64)
    returns = rng.binomial(lines, return_rate[:, None]).astype(np.int64)
    return LineCounts(lines=lines, returns=returns)
