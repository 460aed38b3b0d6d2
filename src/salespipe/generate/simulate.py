"""Day simulation: turns a day's line counts into transactions and sales lines.

Vectorised over the day's transactions and lines: baskets of several lines,
opening-hours time of day, regular and walk-in customers, salespeople,
Zipf-like product demand shaped by promotions and category seasons, and
return transactions refunding earlier sales. Transactions are ordered by time
and numbered before their lines are drawn, so lines come out in file order.
Days must be simulated in order because returns refer back to earlier days.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from salespipe.generate.catalog import NO_ONE, Catalog
from salespipe.generate.lines import LineBatch
from salespipe.generate.promotions import Promotion, PromotionDay, promotion_day
from salespipe.generate.retail_calendar import Calendar
from salespipe.generate.returns import SAMPLE_PER_DAY, ReturnPool, SoldLines, return_quantity
from salespipe.generate.sampling import RowSampler, cumulative_weights, draw_in_ranges
from salespipe.generate.vocabulary import CATEGORIES, PAYMENT_MIX

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

FIRST_TRANSACTION = 100_000_001
STORE, ONLINE = 0, 1  # channel indices, as in vocabulary.CHANNELS
BASKET_MEAN = 2.4  # lines per transaction
MAX_BASKET = 25
MAX_QUANTITY = 24
WALK_IN_SHARE = 0.33  # in-store transactions without a known customer
HOME_STORE_SHARE = 0.85  # known customers mostly shop at their own store
COUPON_SHARE = 0.03  # lines outside promotions that still get a coupon
COUPON_BP = 1000
HOUR = 3600
# Relative online traffic per hour of the day: quiet nights, busy evenings.
ONLINE_HOUR_WEIGHT = (
    0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.7, 1.2, 1.8, 2.2, 2.5, 2.8,
    3.2, 3.0, 2.9, 3.0, 3.2, 3.6, 4.2, 4.8, 5.2, 4.8, 3.6, 1.8,
)  # fmt: skip


@dataclass(frozen=True)
class _Transactions:
    """Per-transaction attributes of one day."""

    store: IntArray
    channel: IntArray
    second: IntArray
    customer: IntArray
    salesperson: IntArray
    payment: IntArray
    size: IntArray  # lines in the transaction
    refunds: IntArray  # for a return: index of the refunded sale line; -1 for a sale

    def concat(self, other: _Transactions) -> _Transactions:
        return _Transactions(
            *(np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self))
        )

    def by_time(self) -> _Transactions:
        """Sorted by time of day, ties in their current order.

        Two stable passes on 16-bit keys (the seconds of a day need 17 bits)
        let numpy use radix sort, several times faster than a comparison sort.
        """
        odd = np.argsort((self.second & 1).astype(np.uint16), kind="stable")
        order = odd[np.argsort((self.second[odd] >> 1).astype(np.uint16), kind="stable")]
        return _Transactions(*(getattr(self, f.name)[order] for f in fields(self)))


class DaySimulator:
    """Simulates consecutive days; keeps what links days (returns, numbering)."""

    def __init__(self, catalog: Catalog, calendar: Calendar, promotions: list[Promotion]) -> None:
        self._catalog = catalog
        self._calendar = calendar
        self._promotions = promotions
        self._pool = ReturnPool(len(catalog.stores))
        self._next_transaction = FIRST_TRANSACTION
        stores = np.arange(len(catalog.stores), dtype=np.int64)

        customers = catalog.customers
        # Customers are sorted by (home store, join day): a store's members on
        # a given day are one range of this key.
        self._customer_key = customers.home_store * (1 << 32) + customers.join_day + 1
        self._customer_cum = cumulative_weights(customers.weight)
        self._customer_store_lo = np.searchsorted(self._customer_key, stores << 32, side="left")
        self._by_join = np.argsort(customers.join_day, kind="stable")
        self._join_sorted = customers.join_day[self._by_join]
        self._join_cum = cumulative_weights(customers.weight[self._by_join])

        staff = catalog.salespeople
        self._staff_cum = cumulative_weights(staff.weight)
        self._staff_lo = np.searchsorted(staff.store, stores, side="left").astype(np.int64)
        self._staff_hi = np.searchsorted(staff.store, stores, side="right").astype(np.int64)

        mix = np.array(PAYMENT_MIX)
        self._payment_cum = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
        self._hour_cum = np.cumsum(ONLINE_HOUR_WEIGHT) / sum(ONLINE_HOUR_WEIGHT)
        month = np.arange(1, 13)[:, None]
        peak = np.array([c.peak_month for c in CATEGORIES])[None, :]
        amplitude = np.array([c.seasonal_amplitude for c in CATEGORIES])[None, :]
        self._category_season = 1.0 + amplitude * np.cos(2 * np.pi * (month - peak) / 12)

    def simulate(
        self, rng: np.random.Generator, day: int, lines: IntArray, returns: IntArray
    ) -> LineBatch:
        """Lines of `day`: `lines[k]` lines at store k, `returns[k]` of them returns.

        A store with no earlier sales has nothing to take back: its return
        lines become sale lines, so the line counts always hold.
        """
        returns = np.where(self._pool.stores_with_history(), returns, 0)
        sales = self._sale_transactions(rng, day, lines - returns)
        refunded = self._pool.draw(rng, returns)
        txn = sales.concat(self._return_transactions(rng, day, refunded)).by_time()
        batch = self._lines(rng, day, txn, refunded)
        self._remember_sales(rng, batch)
        return batch

    # -- transactions -------------------------------------------------------

    def _baskets(self, rng: np.random.Generator, per_store: IntArray) -> tuple[IntArray, IntArray]:
        """Transaction store and size so that each store gets exactly per_store[k] lines."""
        # Enough baskets almost always; every basket has a line, so per_store[k] always are.
        for draws in (np.ceil(per_store / BASKET_MEAN * 1.2 + 20).astype(np.int64), per_store):
            draws = np.minimum(draws, per_store)
            store = np.repeat(np.arange(per_store.size, dtype=np.int64), draws)
            size = np.minimum(rng.geometric(1.0 / BASKET_MEAN, store.size), MAX_BASKET)
            if np.all(np.bincount(store, weights=size, minlength=per_store.size) >= per_store):
                break
        running = np.cumsum(size)
        group_end = np.cumsum(draws)
        before_group = np.concatenate(([0], running))[group_end - draws]
        filled_before = running - size - before_group[store]
        keep = filled_before < per_store[store]
        size = np.minimum(size, per_store[store] - filled_before)
        return store[keep], size[keep].astype(np.int64)

    def _seconds(self, rng: np.random.Generator, day: int, channel: IntArray) -> IntArray:
        """Time of day: store opening hours with lunch and after-work peaks; online all day."""
        second = np.empty(channel.size, dtype=np.int64)
        online = channel == ONLINE
        hour = np.minimum(np.searchsorted(self._hour_cum, rng.random(int(online.sum()))), 23)
        second[online] = hour * HOUR + rng.integers(0, HOUR, hour.size)
        opens, closes = int(self._calendar.opens[day]), int(self._calendar.closes[day])
        in_store = int(online.size - hour.size)
        # Fractions of the opening hours: a lunch peak and a larger after-work peak.
        lunch = rng.random(in_store) < 0.42
        x = np.empty(in_store)
        x[lunch] = rng.beta(4.0, 8.3, int(lunch.sum()))
        x[~lunch] = rng.beta(8.0, 3.9, int(in_store - lunch.sum()))
        second[~online] = opens + (x * (closes - opens)).astype(np.int64)
        return second

    def _customers(
        self, rng: np.random.Generator, day: int, store: IntArray, channel: IntArray
    ) -> IntArray:
        n = store.size
        known = (channel == ONLINE) | (rng.random(n) >= WALK_IN_SHARE)
        at_home = known & (channel == STORE) & (rng.random(n) < HOME_STORE_SHARE)
        anywhere = known & ~at_home
        u = rng.random(n)
        customer = np.full(n, NO_ONE, dtype=np.int64)

        # Members of store k on `day`: those who joined by then, a prefix of k's range.
        stores = np.arange(self._customer_store_lo.size, dtype=np.int64)
        hi = np.searchsorted(self._customer_key, (stores << 32) + day + 1, side="right")
        home = store[at_home]
        customer[at_home] = draw_in_ranges(
            self._customer_cum, self._customer_store_lo[home], hi[home], u[at_home]
        )
        members = int(np.searchsorted(self._join_sorted, day, side="right"))
        count = int(anywhere.sum())
        picks = draw_in_ranges(
            self._join_cum,
            np.zeros(count, dtype=np.int64),
            np.full(count, members, dtype=np.int64),
            u[anywhere],
        )
        customer[anywhere] = np.where(picks >= 0, self._by_join[np.maximum(picks, 0)], NO_ONE)
        return customer

    def _salespeople(
        self, rng: np.random.Generator, store: IntArray, channel: IntArray
    ) -> IntArray:
        picked = draw_in_ranges(
            self._staff_cum, self._staff_lo[store], self._staff_hi[store], rng.random(store.size)
        )
        return np.where(channel == STORE, picked, NO_ONE)

    def _payments(self, rng: np.random.Generator, channel: IntArray) -> IntArray:
        u = rng.random(channel.size)
        payment: IntArray = (u[:, None] >= self._payment_cum[channel]).sum(axis=1)
        return payment.astype(np.int64)

    def _sale_transactions(
        self, rng: np.random.Generator, day: int, per_store: IntArray
    ) -> _Transactions:
        store, size = self._baskets(rng, per_store)
        channel = (rng.random(store.size) < self._calendar.online_share[day]).astype(np.int64)
        return _Transactions(
            store=store,
            channel=channel,
            second=self._seconds(rng, day, channel),
            customer=self._customers(rng, day, store, channel),
            salesperson=self._salespeople(rng, store, channel),
            payment=self._payments(rng, channel),
            size=size,
            refunds=np.full(store.size, -1, dtype=np.int64),
        )

    def _return_transactions(
        self, rng: np.random.Generator, day: int, refunded: SoldLines
    ) -> _Transactions:
        """One transaction per returned line, at the store and through the channel of the sale."""
        n = len(refunded)
        return _Transactions(
            store=refunded.store,
            channel=refunded.channel,
            second=self._seconds(rng, day, refunded.channel),
            customer=refunded.customer,
            salesperson=self._salespeople(rng, refunded.store, refunded.channel),
            payment=refunded.payment,
            size=np.ones(n, dtype=np.int64),
            refunds=np.arange(n, dtype=np.int64),
        )

    # -- lines --------------------------------------------------------------

    def _product_sampler(self, day: int, promotion: PromotionDay, draws: int) -> RowSampler:
        """Demand of every (store, product) on `day`."""
        products = self._catalog.products
        uplift = promotion.uplift
        active = (products.launch_day <= day) & (day < products.discontinue_day)
        season = self._category_season[self._calendar.month[day] - 1][products.category]
        base = products.popularity * uplift * active * season
        weights = self._catalog.category_affinity[:, products.category] * base[None, :]
        return RowSampler(weights, draws)

    def _lines(
        self, rng: np.random.Generator, day: int, txn: _Transactions, refunded: SoldLines
    ) -> LineBatch:
        products = self._catalog.products
        count = txn.size.size
        line_txn = np.repeat(np.arange(count, dtype=np.int64), txn.size)
        starts = np.cumsum(txn.size) - txn.size
        store = txn.store[line_txn]

        # Draw every line as a sale, then turn the return lines into refunds.
        promotion = promotion_day(self._promotions, day, len(products))
        sampler = self._product_sampler(day, promotion, store.size)
        product = sampler.draw(store, rng.random(store.size))
        quantity = np.minimum(rng.geometric(products.quantity_p[product]), MAX_QUANTITY)
        price = products.price_on(day, product)
        discount_bp = promotion.discount_bp[product]
        coupon = (discount_bp == 0) & (rng.random(product.size) < COUPON_SHARE)
        discount_bp[coupon] = COUPON_BP
        discount = (quantity * price * discount_bp + 5000) // 10000

        line_refunds = txn.refunds[line_txn]
        returned = np.flatnonzero(line_refunds >= 0)
        source = line_refunds[returned]
        product[returned] = refunded.product[source]
        quantity[returned] = return_quantity(rng, refunded.quantity[source])
        price[returned] = refunded.paid_unit_price[source]
        discount[returned] = 0

        number = self._next_transaction + line_txn
        self._next_transaction += count
        return LineBatch(
            day=day,
            date=self._calendar.dates[day],
            transaction=number,
            line_no=np.arange(line_txn.size, dtype=np.int64) - starts[line_txn] + 1,
            second=txn.second[line_txn],
            store=store,
            product=product,
            quantity=quantity.astype(np.int64),
            unit_price=price,
            discount=discount.astype(np.int64),
            unit_cost=products.cost[product],
            customer=txn.customer[line_txn],
            salesperson=txn.salesperson[line_txn],
            channel=txn.channel[line_txn],
            payment=txn.payment[line_txn],
        )

    def _remember_sales(self, rng: np.random.Generator, batch: LineBatch) -> None:
        """Keep a sample of today's sale lines as candidates for later returns."""
        sales = np.flatnonzero(batch.quantity > 0)
        keep = sales
        if sales.size > SAMPLE_PER_DAY:
            keep = np.sort(rng.choice(sales, SAMPLE_PER_DAY, replace=False))
        q = batch.quantity[keep]
        self._pool.remember(
            SoldLines(
                store=batch.store[keep],
                product=batch.product[keep],
                quantity=q,
                paid_unit_price=(q * batch.unit_price[keep] - batch.discount[keep] + q // 2) // q,
                customer=batch.customer[keep],
                channel=batch.channel[keep],
                payment=batch.payment[keep],
            )
        )
