"""Returns: products sold earlier come back to the store they were bought in.

`ReturnPool` remembers a sample of the sale lines of recent days; each return
refunds one of them, at the price actually paid, in a transaction of its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Returns come from sales of the last four weeks.
MEMORY_DAYS = 28
SAMPLE_PER_DAY = 5000


@dataclass(frozen=True)
class SoldLines:
    """Sale lines that may come back, as parallel arrays."""

    store: IntArray
    product: IntArray
    quantity: IntArray
    paid_unit_price: IntArray  # cents, after the line's discount
    customer: IntArray
    channel: IntArray
    payment: IntArray

    def __len__(self) -> int:
        return int(self.store.size)

    def take(self, index: IntArray) -> SoldLines:
        return SoldLines(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[SoldLines]) -> SoldLines:
        names = [f.name for f in fields(SoldLines)]
        return SoldLines(*(np.concatenate([getattr(p, name) for p in parts]) for name in names))


@dataclass(frozen=True)
class _Day:
    """One remembered day, its lines grouped by store (in their original order within a
    store), and where each store's lines start."""

    lines: SoldLines
    counts: IntArray  # lines per store
    starts: IntArray  # first line of each store in `lines`


class ReturnPool:
    """A rolling sample of recent sale lines, drawn from per store.

    Each day is grouped by store once, when remembered; a draw then finds its line by
    per-store counts across the days (a draw is ~2% of a day's lines: it never copies the
    four weeks of memory). The lines drawn are those of one stable sort of the whole
    memory by store, so a seed gives the same returns as ever.
    """

    def __init__(self, stores: int) -> None:
        self._stores = stores
        self._days: deque[_Day] = deque(maxlen=MEMORY_DAYS)

    def remember(self, sold: SoldLines) -> None:
        """Add one day's (sampled) sale lines; the oldest day is forgotten."""
        # Small integer keys make numpy use a radix sort.
        key = sold.store.astype(np.int16) if self._stores < 1 << 15 else sold.store
        order = np.argsort(key, kind="stable")
        counts = np.bincount(sold.store, minlength=self._stores).astype(np.int64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self._days.append(_Day(sold.take(order), counts, starts))

    def stores_with_history(self) -> BoolArray:
        seen = np.zeros(self._stores, dtype=bool)
        for day in self._days:
            seen |= day.counts > 0
        return seen

    def draw(self, rng: np.random.Generator, per_store: IntArray) -> SoldLines:
        """Draw `per_store[k]` remembered sale lines of each store k (with replacement)."""
        store = np.repeat(np.arange(self._stores, dtype=np.int64), per_store)
        if store.size == 0:
            return SoldLines(*(np.zeros(0, dtype=np.int64) for _ in fields(SoldLines)))
        days = list(self._days)
        # through[d, k]: lines of store k in days 0..d (oldest first)
        through = np.cumsum(np.stack([d.counts for d in days]), axis=0)
        size = through[-1][store]
        if np.any(size == 0):
            raise ValueError("cannot draw returns for a store without remembered sales")
        # the n-th line of its store, counting the days in order
        nth = (rng.random(store.size) * size).astype(np.int64)
        day = (through[:, store] <= nth).sum(axis=0)
        before = np.where(day > 0, through[np.maximum(day - 1, 0), store], 0)
        starts = np.stack([d.starts for d in days])
        local = starts[day, store] + nth - before
        out = {f.name: np.empty(store.size, dtype=np.int64) for f in fields(SoldLines)}
        for index, remembered in enumerate(days):
            chosen = day == index
            if not chosen.any():
                continue
            for name, values in out.items():
                values[chosen] = getattr(remembered.lines, name)[local[chosen]]
        return SoldLines(**out)


def return_quantity(rng: np.random.Generator, sold_quantity: IntArray) -> IntArray:
    """Negative quantity: usually the whole line comes back, sometimes part of it."""
    partial = 1 + (rng.random(sold_quantity.size) * sold_quantity).astype(np.int64)
    whole = rng.random(sold_quantity.size) < 0.7
    return -np.where(whole, sold_quantity, np.minimum(partial, sold_quantity))
