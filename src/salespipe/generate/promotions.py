"""Promotion schedule: periods in which some products are discounted and sell more.

Weekly promotions on part of a category or a random assortment, plus the
Black Friday to Cyber Monday event and the after-Christmas sale. The day
simulation asks for each day's discount and demand uplift per product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from salespipe.generate.catalog import Products
from salespipe.generate.retail_calendar import Calendar

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

PERCENTS = (10, 15, 20, 25, 30)
# Demand multiplier per discount point: 20 % off sells 1.8 times as much.
UPLIFT_PER_PERCENT = 0.04


@dataclass(frozen=True)
class Promotion:
    first_day: int
    last_day: int  # inclusive
    products: IntArray
    percent: int


@dataclass(frozen=True)
class PromotionDay:
    """The promotional state of one day, per product."""

    discount_bp: IntArray  # discount in basis points (2000 = 20 %)
    uplift: FloatArray  # demand multiplier


def plan_promotions(
    rng: np.random.Generator, calendar: Calendar, products: Products
) -> list[Promotion]:
    """Draw the promotions of the whole window."""
    days = len(calendar)
    count = len(products)
    promotions: list[Promotion] = []
    for week_start in range(0, days, 7):
        if rng.random() >= 0.7:
            continue
        first = week_start + int(rng.integers(0, 7))
        length = int(rng.integers(4, 11))
        if rng.random() < 0.5:
            category = int(rng.integers(0, int(products.category.max()) + 1))
            pool = np.flatnonzero(products.category == category)
            chosen = pool[rng.random(pool.size) < 0.4]
        else:
            chosen = np.flatnonzero(rng.random(count) < 0.05)
        percent = int(rng.choice(PERCENTS))
        promotions.append(Promotion(first, first + length - 1, chosen.astype(np.int64), percent))

    for i, name in enumerate(calendar.holidays):
        if name == "Black Friday":
            chosen = np.flatnonzero(rng.random(count) < 0.3)
            promotions.append(Promotion(i, i + 3, chosen.astype(np.int64), 25))
        elif name == "Boxing Day":
            chosen = np.flatnonzero(rng.random(count) < 0.25)
            promotions.append(Promotion(i, i + 5, chosen.astype(np.int64), 30))
    return promotions


def promotion_day(promotions: list[Promotion], day: int, product_count: int) -> PromotionDay:
    """Discount and uplift of every product on `day` (the deepest active discount wins)."""
    percent = np.zeros(product_count, dtype=np.int64)
    for promotion in promotions:
        if promotion.first_day <= day <= promotion.last_day:
            np.maximum.at(percent, promotion.products, promotion.percent)
    return PromotionDay(
        discount_bp=percent * 100,
        uplift=(1.0 + UPLIFT_PER_PERCENT * percent).astype(np.float64),
    )
