"""Vectorised weighted sampling restricted to index ranges.

Used by the generator to pick a customer among one store's regulars, a
salesperson of one store or a product from one store's assortment, for many
draws at once: items are laid out so each group is a contiguous range.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def cumulative_weights(weights: npt.ArrayLike) -> FloatArray:
    """Return the running total of `weights`, starting with 0 (length n + 1)."""
    w = np.asarray(weights, dtype=np.float64)
    out = np.empty(w.size + 1, dtype=np.float64)
    out[0] = 0.0
    np.cumsum(w, out=out[1:])
    return out


def draw_in_ranges(cumulative: FloatArray, lo: IntArray, hi: IntArray, u: FloatArray) -> IntArray:
    """Draw one weighted index in [lo, hi) per element; -1 where the range has no weight.

    `cumulative` comes from `cumulative_weights`; `u` holds uniforms in [0, 1).
    """
    base = cumulative[lo]
    top = cumulative[hi]
    target = base + u * (top - base)
    idx = np.searchsorted(cumulative, target, side="right").astype(np.int64) - 1
    # Rounding can land one step outside the range; pull it back in.
    np.clip(idx, lo, np.maximum(hi - 1, lo), out=idx)
    idx[top <= base] = -1
    return idx


class RowSampler:
    """Weighted draws of an item from one row of a (rows x items) weight matrix.

    Used for products, the generator's most frequent draw. For many draws a
    guide table splits each row's [0, 1) into GUIDE_BUCKETS buckets; a draw
    landing in a bucket that lies inside one item's share is answered by a
    lookup, the others by binary search. Exact either way; the table pays off
    only when there are many more draws than buckets to build.
    """

    GUIDE_BUCKETS = 1 << 14

    def __init__(self, weights: FloatArray, draws: int) -> None:
        rows, items = weights.shape
        self._items = items
        cum = np.cumsum(weights, axis=1)
        totals = cum[:, -1:].copy()
        empty = totals[:, 0] == 0
        totals[empty] = 1.0  # an all-zero row: every draw searches and is clipped
        cum /= totals
        # Row k's shares live in (k, k + 1]: one sorted array serves every row.
        self._flat = (cum + np.arange(rows)[:, None]).ravel()
        self._guide: npt.NDArray[np.int64] | None = None
        buckets = self.GUIDE_BUCKETS
        if items <= buckets // 8 and draws >= rows * buckets // 8:
            edges = np.arange(buckets + 1) / buckets + np.arange(rows)[:, None]
            found = np.searchsorted(self._flat, edges.ravel(), side="right").reshape(rows, -1)
            found -= np.arange(rows)[:, None] * items
            # Same item at both edges: the whole bucket belongs to it.
            guide = np.where(found[:, :-1] == found[:, 1:], found[:, :-1], -1)
            guide[empty] = -1
            self._guide = guide

    def draw(self, row: IntArray, u: FloatArray) -> IntArray:
        """One item per element of `row`, with `u` uniforms in [0, 1)."""
        if self._guide is not None:
            item = self._guide[row, (u * self.GUIDE_BUCKETS).astype(np.int64)]
            search = np.flatnonzero(item < 0)
        else:
            item = np.empty(row.size, dtype=np.int64)
            search = np.arange(row.size)
        if search.size:
            found = np.searchsorted(self._flat, row[search] + u[search], side="right")
            item[search] = np.clip(found - row[search] * self._items, 0, self._items - 1)
        return item
