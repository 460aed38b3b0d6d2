"""Renders sales lines as an Arrow table of text columns, for Parquet and Excel.

Every column is a string (nulls for a walk-in customer, an online order's
salesperson or a missing product id), so the same defects survive as in the
text formats and a reader sees exactly the values a CSV would hold.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from salespipe.generate.catalog import Catalog
from salespipe.generate.defects import BAD_NUMBERS, BAD_TIMESTAMPS, DirtyBatch
from salespipe.generate.formatting import (
    COLUMNS,
    TRANSACTION_PREFIX,
    day_timestamps,
    format_cents,
    format_integers,
    replace_where,
    string_array,
    take,
)
from salespipe.generate.vocabulary import CHANNELS, CURRENCY, PAYMENT_METHODS

IntArray = npt.NDArray[np.int64]

SCHEMA = pa.schema([pa.field(name, pa.string()) for name in COLUMNS])


def _or_nobody(index: IntArray, nobody: int) -> IntArray:
    return np.where(index < 0, nobody, index)


class TableRenderer:
    """Turns DirtyBatch lines into a table with SCHEMA."""

    def __init__(self, catalog: Catalog) -> None:
        s, p, c, e = catalog.stores, catalog.products, catalog.customers, catalog.salespeople
        self._store_fields = [
            string_array(v) for v in (s.ids, s.names, s.cities, s.regions, s.countries)
        ]
        # product_id has a trailing null: index len(products) means "missing".
        self._product_id = string_array([*p.ids, None])
        self._product_fields = [
            string_array(v) for v in (p.names, p.categories, p.subcategories, p.brands)
        ]
        # customer and salesperson fields end with a null for "nobody".
        self._customer_fields = [string_array([*v, None]) for v in (c.ids, c.names)]
        self._staff_fields = [string_array([*v, None]) for v in (e.ids, e.names)]
        self._channels = string_array(CHANNELS)
        self._payments = string_array(PAYMENT_METHODS)
        self._currency = string_array([CURRENCY])
        self._bad_timestamps = string_array(BAD_TIMESTAMPS)
        self._bad_numbers = string_array(BAD_NUMBERS)

    def render(self, batch: DirtyBatch) -> pa.Table:
        lines, text = batch.lines, batch.text
        n = len(lines)
        product_id_index = lines.product
        sold_at = take(day_timestamps(lines.date), lines.second)
        quantity = format_integers(lines.quantity)
        price = format_cents(lines.unit_price)
        if text is not None:
            product_id_index = np.where(
                text.product_id_missing, len(self._product_id) - 1, lines.product
            )
            sold_at = replace_where(sold_at, text.sold_at, self._bad_timestamps)
            quantity = replace_where(quantity, text.quantity, self._bad_numbers)
            price = replace_where(price, text.unit_price, self._bad_numbers)
        customer = _or_nobody(lines.customer, len(self._customer_fields[0]) - 1)
        staff = _or_nobody(lines.salesperson, len(self._staff_fields[0]) - 1)
        columns = [
            format_integers(lines.transaction, prefix=TRANSACTION_PREFIX),
            format_integers(lines.line_no),
            sold_at,
            *(take(f, lines.store) for f in self._store_fields),
            take(self._product_id, product_id_index),
            *(take(f, lines.product) for f in self._product_fields),
            quantity,
            price,
            format_cents(lines.discount),
            format_cents(lines.unit_cost),
            *(take(f, customer) for f in self._customer_fields),
            *(take(f, staff) for f in self._staff_fields),
            take(self._channels, lines.channel),
            take(self._payments, lines.payment),
            take(self._currency, np.zeros(n, dtype=np.int64)),
        ]
        return pa.Table.from_arrays(columns, schema=SCHEMA)
