"""Defect injection: makes a known share of lines wrong, each in exactly one way.

Every defective line carries one of the row reason codes of the contract
(DESIGN.md) and nothing else; clean lines carry none. The mix is fixed and
cycled, so even a small file gets every kind and the counts reported by
`generate_sales` are exactly what a validator should find.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from salespipe.generate.lines import LineBatch

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BAD_TIMESTAMP = "bad_timestamp"
BAD_NUMBER = "bad_number"
MISSING_PRODUCT_ID = "missing_value:product_id"
NEGATIVE_PRICE = "negative_price"
ZERO_QUANTITY = "zero_quantity"
DISCOUNT_EXCEEDS_AMOUNT = "discount_exceeds_amount"
NEGATIVE_COST = "negative_cost"
DUPLICATE_KEY = "duplicate_key"

DEFECT_CODES = (
    BAD_TIMESTAMP,
    BAD_NUMBER,
    MISSING_PRODUCT_ID,
    NEGATIVE_PRICE,
    ZERO_QUANTITY,
    DISCOUNT_EXCEEDS_AMOUNT,
    NEGATIVE_COST,
    DUPLICATE_KEY,
)
# The n-th defective line of a run gets DEFECT_CYCLE[n % 20]: 15 % bad_timestamp,
# 15 % bad_number, 20 % duplicate_key, 10 % each of the other five.
DEFECT_CYCLE = (
    DUPLICATE_KEY, BAD_TIMESTAMP, BAD_NUMBER, MISSING_PRODUCT_ID, NEGATIVE_PRICE,
    ZERO_QUANTITY, DISCOUNT_EXCEEDS_AMOUNT, NEGATIVE_COST, DUPLICATE_KEY, BAD_TIMESTAMP,
    BAD_NUMBER, DUPLICATE_KEY, MISSING_PRODUCT_ID, NEGATIVE_PRICE, ZERO_QUANTITY,
    DISCOUNT_EXCEEDS_AMOUNT, NEGATIVE_COST, BAD_TIMESTAMP, BAD_NUMBER, DUPLICATE_KEY,
)  # fmt: skip
DUPLICATE_SHARE = DEFECT_CYCLE.count(DUPLICATE_KEY) / len(DEFECT_CYCLE)

# Unparseable in any date format; no value is a date alone.
BAD_TIMESTAMPS = (
    "2025-13-45 25:61:00",
    "yesterday",
    "31/02/2025 10:00",
    "not a date",
    "2025-02-30 10:15:00",
    "24:99",
)
# Not a number with either decimal mark, and not a null marker (NA, NaN, -).
BAD_NUMBERS = ("12,5x", "abc", "1.2.3", "ten", "3..5", "12a")


@dataclass(frozen=True)
class TextDefects:
    """Per line: index into BAD_TIMESTAMPS / BAD_NUMBERS (-1 = value is fine)."""

    sold_at: IntArray
    quantity: IntArray
    unit_price: IntArray
    product_id_missing: BoolArray

    def take(self, order: IntArray) -> TextDefects:
        return TextDefects(
            self.sold_at[order],
            self.quantity[order],
            self.unit_price[order],
            self.product_id_missing[order],
        )


@dataclass(frozen=True)
class DirtyBatch:
    """A day's lines after defect injection, in file order."""

    lines: LineBatch
    text: TextDefects | None  # None when the batch has no text-level defect

    def __len__(self) -> int:
        return len(self.lines)


def _cycle_counts(upto: int) -> IntArray:
    """How many of the first `upto` defective lines get each code."""
    full, rest = divmod(upto, len(DEFECT_CYCLE))
    per_cycle = np.array([DEFECT_CYCLE.count(c) for c in DEFECT_CODES], dtype=np.int64)
    partial = np.array([DEFECT_CYCLE[:rest].count(c) for c in DEFECT_CODES], dtype=np.int64)
    return full * per_cycle + partial


def plan_defect_counts(lines_per_batch: IntArray, dirty_rate: float) -> IntArray:
    """Defects per batch and code, shape (batches, codes).

    Duplicates add lines, so the count is chosen such that defective lines are
    `dirty_rate` of all lines written, duplicates included.
    """
    counts = np.zeros((lines_per_batch.size, len(DEFECT_CODES)), dtype=np.int64)
    if dirty_rate <= 0:
        return counts
    per_base_line = dirty_rate / (1.0 - dirty_rate * DUPLICATE_SHARE)
    base_seen = 0
    done = 0
    for i, lines in enumerate(lines_per_batch.tolist()):
        base_seen += lines
        wanted = round(per_base_line * base_seen) - done
        # A defect needs a line of its own (and a duplicate a clean original).
        take = min(max(wanted, 0), lines)
        counts[i] = _cycle_counts(done + take) - _cycle_counts(done)
        done += take
    return counts


def inject_defects(rng: np.random.Generator, batch: LineBatch, counts: IntArray) -> DirtyBatch:
    """Give `counts[i]` lines of `batch` the defect DEFECT_CODES[i], one defect per line."""
    if int(counts.sum()) == 0:
        return DirtyBatch(batch, None)
    n = len(batch)
    pick = rng.permutation(n)
    rows: dict[str, IntArray] = {}
    used = 0
    for code, count in zip(DEFECT_CODES, counts.tolist(), strict=True):
        rows[code] = pick[used : used + count]
        used += count

    quantity = batch.quantity.copy()
    price = batch.unit_price.copy()
    discount = batch.discount.copy()
    cost = batch.unit_cost.copy()
    # A zero discount keeps these lines clear of discount_exceeds_amount under
    # any reading of the rule.
    r = rows[NEGATIVE_PRICE]
    price[r], discount[r] = -price[r], 0
    r = rows[ZERO_QUANTITY]
    quantity[r], discount[r] = 0, 0
    r = rows[DISCOUNT_EXCEEDS_AMOUNT]
    amount = np.abs(quantity[r] * price[r])
    discount[r] = amount + np.maximum(1, (amount * rng.uniform(0.05, 0.5, r.size)).astype(np.int64))
    r = rows[NEGATIVE_COST]
    cost[r] = -cost[r]

    text = TextDefects(
        sold_at=np.full(n, -1, dtype=np.int64),
        quantity=np.full(n, -1, dtype=np.int64),
        unit_price=np.full(n, -1, dtype=np.int64),
        product_id_missing=np.zeros(n, dtype=bool),
    )
    r = rows[BAD_TIMESTAMP]
    text.sold_at[r] = rng.integers(0, len(BAD_TIMESTAMPS), r.size)
    r = rows[BAD_NUMBER]
    in_quantity = rng.random(r.size) < 0.5
    bad = rng.integers(0, len(BAD_NUMBERS), r.size)
    text.quantity[r[in_quantity]] = bad[in_quantity]
    text.unit_price[r[~in_quantity]] = bad[~in_quantity]
    text.product_id_missing[rows[MISSING_PRODUCT_ID]] = True

    dirty = replace(batch, quantity=quantity, unit_price=price, discount=discount, unit_cost=cost)
    order = _with_duplicates(rng, n, rows[DUPLICATE_KEY])
    return DirtyBatch(dirty.take(order), text.take(order))


def _with_duplicates(rng: np.random.Generator, n: int, originals: IntArray) -> IntArray:
    """File order of the lines, each original's copy placed somewhere after it."""
    # Line i sorts at 2i; a copy inserted just before line j (j > original) at 2j - 1.
    before = originals + 1 + (rng.random(originals.size) * (n - originals)).astype(np.int64)
    keys = np.concatenate([2 * np.arange(n, dtype=np.int64), 2 * before - 1])
    source = np.concatenate([np.arange(n, dtype=np.int64), originals])
    return source[np.argsort(keys, kind="stable")]
