"""Master data of the synthetic retailer: stores, products, customers, salespeople.

Built once per run from the seed; the day simulation only ever refers to these
entities by integer index, and the renderers turn indices into text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from salespipe.generate.vocabulary import (
    CATEGORIES,
    CITIES,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCT_ADJECTIVES,
    STORE_SUFFIXES,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Index used for "nobody" (walk-in customer, online order without salesperson).
NO_ONE = -1
# Day index meaning "never happens within the generated window".
NEVER = 1 << 30


@dataclass(frozen=True)
class Stores:
    ids: list[str]
    names: list[str]
    cities: list[str]
    regions: list[str]
    countries: list[str]
    share: FloatArray  # share of the chain's volume, sums to 1

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Products:
    ids: list[str]
    names: list[str]
    categories: list[str]
    subcategories: list[str]
    brands: list[str]
    category: IntArray  # index into vocabulary.CATEGORIES
    popularity: FloatArray  # Zipf-like base demand weight
    price: IntArray  # cents, before the price change
    changed_price: IntArray  # cents, from price_change_day on
    price_change_day: IntArray
    cost: IntArray  # cents, always below any price the product is sold at
    launch_day: IntArray  # first day it can sell (negative: already on sale)
    discontinue_day: IntArray  # first day it no longer sells
    quantity_p: FloatArray  # geometric parameter of units per line (cheap goods: more)

    def __len__(self) -> int:
        return len(self.ids)

    def price_on(self, day: int, product: IntArray) -> IntArray:
        """Shelf price in cents of each `product` on `day`."""
        changed = day >= self.price_change_day[product]
        return np.where(changed, self.changed_price[product], self.price[product])


@dataclass(frozen=True)
class Customers:
    """Customers sorted by (home store, join day): a store's regulars on a day are a range."""

    ids: list[str]
    names: list[str]
    home_store: IntArray
    join_day: IntArray
    weight: FloatArray  # purchase frequency weight, heavy-tailed

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Salespeople:
    """Salespeople sorted by store: a store's staff is a contiguous range."""

    ids: list[str]
    names: list[str]
    store: IntArray
    weight: FloatArray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Catalog:
    stores: Stores
    products: Products
    customers: Customers
    salespeople: Salespeople
    category_affinity: FloatArray  # (stores, categories) local taste multiplier


def build_catalog(
    rng: np.random.Generator, *, stores: int, products: int, customers: int, days: int
) -> Catalog:
    """Draw the whole master data for a run."""
    store_table = _build_stores(rng, stores)
    return Catalog(
        stores=store_table,
        products=_build_products(rng, products, days),
        customers=_build_customers(rng, customers, store_table.share, days),
        salespeople=_build_salespeople(rng, store_table.share),
        category_affinity=rng.lognormal(0.0, 0.25, size=(stores, len(CATEGORIES))),
    )


def _padded_ids(prefix: str, count: int, width: int) -> list[str]:
    width = max(width, len(str(count)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


def _person_names(rng: np.random.Generator, count: int) -> list[str]:
    first = rng.integers(0, len(FIRST_NAMES), count)
    last = rng.integers(0, len(LAST_NAMES), count)
    return [f"{FIRST_NAMES[f]} {LAST_NAMES[s]}" for f, s in zip(first, last, strict=True)]


def _build_stores(rng: np.random.Generator, count: int) -> Stores:
    cities = [CITIES[i % len(CITIES)] for i in range(count)]
    names = []
    for i, city in enumerate(cities):
        nth = i // len(CITIES)
        suffix = STORE_SUFFIXES[nth] if nth < len(STORE_SUFFIXES) else f"Store {nth + 1}"
        names.append(f"{city.name} {suffix}")
    size = rng.lognormal(0.0, 0.5, count)
    size[0] *= 1.6  # the first store is the flagship
    return Stores(
        ids=_padded_ids("S", count, 2),
        names=names,
        cities=[c.name for c in cities],
        regions=[c.region for c in cities],
        countries=[c.country for c in cities],
        share=size / size.sum(),
    )


def _shelf_price(dollars: FloatArray) -> IntArray:
    """Round to prices that end in 9: 12.99 above $10, 3.49 below."""
    whole = np.maximum(np.rint(dollars), 1).astype(np.int64) * 100 - 1
    tenths = np.maximum(np.rint(dollars * 10), 5).astype(np.int64) * 10 - 1
    return np.where(dollars >= 10, whole, tenths)


def _build_products(rng: np.random.Generator, count: int, days: int) -> Products:
    category_weight = np.array([0.14, 0.14, 0.16, 0.18, 0.12, 0.10, 0.08, 0.08])
    category = rng.choice(len(CATEGORIES), size=count, p=category_weight / category_weight.sum())
    median = np.array([c.median_price for c in CATEGORIES])[category]
    price = _shelf_price(median * rng.lognormal(0.0, 0.45, count))
    margin = rng.uniform(0.2, 0.6, count)
    cost = np.maximum(np.floor(price * (1.0 - margin)), 1).astype(np.int64)

    changes = rng.random(count) < 0.12
    change_day = np.where(changes, rng.integers(1, max(days, 2), count), NEVER)
    changed_price = np.maximum(_shelf_price(price / 100 * rng.uniform(1.03, 1.15, count)), price)

    launches = rng.random(count) < 0.12
    launch_day = np.where(launches, rng.integers(0, max(days, 1), count), -1)
    ends = rng.random(count) < 0.04
    discontinue_day = np.where(
        ends, np.maximum(launch_day + 14, rng.integers(days // 3, max(days, 1) + 1, count)), NEVER
    )

    rank = rng.permutation(count) + 1
    demand = np.array([c.demand for c in CATEGORIES])[category]
    popularity = demand * rank.astype(np.float64) ** -1.1
    quantity_p = np.select([price < 500, price < 2000, price < 6000], [0.45, 0.65, 0.85], 0.95)

    names, subcategories, brands = [], [], []
    seen: dict[str, int] = {}
    adjective = rng.integers(0, len(PRODUCT_ADJECTIVES), count)
    pick = rng.integers(0, 1 << 30, size=(count, 3))
    for i in range(count):
        cat = CATEGORIES[category[i]]
        sub = cat.subcategories[pick[i, 0] % len(cat.subcategories)]
        brand = cat.brands[pick[i, 1] % len(cat.brands)]
        name = (
            f"{brand} {PRODUCT_ADJECTIVES[adjective[i]]} {sub.nouns[pick[i, 2] % len(sub.nouns)]}"
        )
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
        subcategories.append(sub.name)
        brands.append(brand)

    return Products(
        ids=_padded_ids("P", count, 5),
        names=names,
        categories=[CATEGORIES[c].name for c in category],
        subcategories=subcategories,
        brands=brands,
        category=category.astype(np.int64),
        popularity=popularity,
        price=price,
        changed_price=changed_price,
        price_change_day=change_day.astype(np.int64),
        cost=cost,
        launch_day=launch_day.astype(np.int64),
        discontinue_day=discontinue_day.astype(np.int64),
        quantity_p=quantity_p,
    )


def _build_customers(
    rng: np.random.Generator, count: int, store_share: FloatArray, days: int
) -> Customers:
    home = rng.choice(len(store_share), size=count, p=store_share)
    joined_before = rng.random(count) < 0.55
    join_day = np.where(joined_before, -1, rng.integers(0, max(days, 1), count))
    weight = rng.pareto(1.3, count) + 0.2
    names = _person_names(rng, count)

    order = np.lexsort((join_day, home))
    # Customer numbers follow sign-up order, like a loyalty programme would.
    signup_rank = np.empty(count, dtype=np.int64)
    signup_rank[np.lexsort((rng.random(count), join_day))] = np.arange(count)
    width = max(6, len(str(count)))
    return Customers(
        ids=[f"C{signup_rank[i] + 1:0{width}d}" for i in order],
        names=[names[i] for i in order],
        home_store=home[order].astype(np.int64),
        join_day=join_day[order].astype(np.int64),
        weight=weight[order],
    )


def _build_salespeople(rng: np.random.Generator, store_share: FloatArray) -> Salespeople:
    per_store = np.clip(np.rint(2 + 8 * store_share / store_share.max()), 2, 10).astype(np.int64)
    store = np.repeat(np.arange(len(store_share), dtype=np.int64), per_store)
    count = int(per_store.sum())
    return Salespeople(
        ids=_padded_ids("E", count, 3),
        names=_person_names(rng, count),
        store=store,
        weight=rng.lognormal(0.0, 0.4, count),
    )
