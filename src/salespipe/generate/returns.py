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


class ReturnPool:
    """A rolling sample of recent sale lines, drawn from per store."""

    def __init__(self, stores: int) -> None:
        self._stores = stores
        self._days: deque[SoldLines] = deque(maxlen=MEMORY_DAYS)

    def remember(self, sold: SoldLines) -> None:
        """Add one day's (sampled) sale lines; the oldest day is forgotten."""
        self._days.append(sold)

    def stores_with_history(self) -> BoolArray:
        seen = np.zeros(self._stores, dtype=bool)
        for part in self._days:
            seen[part.store] = True
        return seen

    def draw(self, rng: np.random.Generator, per_store: IntArray) -> SoldLines:
        """Draw `per_store[k]` remembered sale lines of each store k (with replacement)."""
        store = np.repeat(np.arange(self._stores, dtype=np.int64), per_store)
        if store.size == 0:
            return SoldLines(*(np.zeros(0, dtype=np.int64) for _ in fields(SoldLines)))
        pool = SoldLines.concat(list(self._days))
        # Small integer keys make numpy use a radix sort.
        key = pool.store.astype(np.int16) if self._stores < 1 << 15 else pool.store
        by_store = np.argsort(key, kind="stable")
        sorted_store = pool.store[by_store]
        starts = np.searchsorted(sorted_store, np.arange(self._stores), side="left")
        ends = np.searchsorted(sorted_store, np.arange(self._stores), side="right")
        size = (ends - starts)[store]
        if np.any(size == 0):
            raise ValueError("cannot draw returns for a store without remembered sales")
        pick = starts[store] + (rng.random(store.size) * size).astype(np.int64)
        return pool.take(by_store[pick])


def return_quantity(rng: np.random.Generator, sold_quantity: IntArray) -> IntArray:
    """Negative quantity: usually the whole line comes back, sometimes part of it."""
    partial = 1 + (rng.random(sold_quantity.size) * sold_quantity).astype(np.int64)
    whole = rng.random(sold_quantity.size) < 0.7
    return -np.where(whole, sold_quantity, np.minimum(partial, sold_quantity))
