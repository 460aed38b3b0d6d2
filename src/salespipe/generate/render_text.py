"""Renders sales lines straight to CSV, TSV or JSON-lines bytes: the generator's fast path.

Every line is twelve pieces, and every piece comes from a table rendered
ahead of time with its separator attached: a store's five fields, a product's
five, a customer, a salesperson, channel + payment + currency, every second of
the day, every amount from 0.00 to 999.99, small integers. A day becomes an
index matrix into the concatenated tables, and an Arrow `take` per slice of
lines lays the pieces end to end: the result's data buffer is the file's bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from salespipe.generate.catalog import Catalog
from salespipe.generate.defects import BAD_NUMBERS, BAD_TIMESTAMPS, DirtyBatch
from salespipe.generate.dialects import TextDialect
from salespipe.generate.formatting import (
    TRANSACTION_PREFIX,
    day_timestamps,
    format_integers,
    format_numbers,
    string_array,
    take,
)
from salespipe.generate.vocabulary import CHANNELS, CURRENCY, PAYMENT_METHODS

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]

_STORE_FIELDS = ("store_id", "store_name", "city", "region", "country")
_PRODUCT_FIELDS = ("product_id", "product_name", "category", "subcategory", "brand")
_CUSTOMER_FIELDS = ("customer_id", "customer_name")
_STAFF_FIELDS = ("salesperson_id", "salesperson_name")
_TAIL_FIELDS = ("channel", "payment_method", "currency")
# Value ranges looked up rather than formatted (others are formatted one by one).
MONEY_CENTS = (0, 100_000)
LINE_NUMBERS = (0, 128)
QUANTITIES = (-128, 1024)
PIECES_PER_LINE = 12
# Rendering happens in slices of this many lines so buffers stay small and reused.
SLICE_LINES = 65_536


class _Tables:
    """Piece tables laid end to end; `add` returns a table's first index."""

    def __init__(self) -> None:
        self._arrays: list[pa.StringArray] = []
        self.size = 0

    def add(self, table: pa.StringArray) -> int:
        base = self.size
        self._arrays.append(table)
        self.size += len(table)
        return base

    def concat(self) -> pa.StringArray:
        return pa.concat_arrays(self._arrays)


class _NumberTable:
    """A field whose values in [low, high) are pre-rendered."""

    def __init__(
        self, tables: _Tables, name: str, bounds: tuple[int, int], money: bool, dialect: TextDialect
    ) -> None:
        self.low, self.high = bounds
        self.name = name
        self.money = money
        self.affixes = dialect.affixes(name)
        self.separator = dialect.separator
        self.base = tables.add(self.render(np.arange(self.low, self.high, dtype=np.int64)))

    def render(self, values: IntArray) -> pa.StringArray:
        before, after = self.affixes
        return format_numbers(
            values, decimals=2 if self.money else 0, prefix=before, suffix=after + self.separator
        )

    def index(self, values: IntArray, extra: _Tables, out: Int32Array) -> None:
        """Write the index of each value's piece to `out`; values outside the
        table are rendered into `extra`."""
        offset = values - self.low
        # One unsigned comparison finds values below low (they wrap) or from high on.
        outside = offset.view(np.uint64) >= self.high - self.low
        np.add(offset, self.base, out=out, casting="unsafe")
        if outside.any():
            first = extra.add(self.render(values[outside]))
            out[outside] = first + np.arange(int(outside.sum()))


class TextRenderer:
    """Turns DirtyBatch lines into the bytes of one text format."""

    def __init__(self, catalog: Catalog, dialect: TextDialect) -> None:
        self._dialect = d = dialect
        sep = d.separator
        s, p, c, e = catalog.stores, catalog.products, catalog.customers, catalog.salespeople
        tables = _Tables()

        def table(names: tuple[str, ...], columns: list[list[str | None]], end: str = sep) -> int:
            return tables.add(string_array(d.rows(names, columns, end)))

        self._stores = table(
            _STORE_FIELDS, [[*s.ids], [*s.names], [*s.cities], [*s.regions], [*s.countries]]
        )
        # The second half repeats the products with product_id missing (a defect).
        self._products = table(
            _PRODUCT_FIELDS,
            [[*p.ids, *[None] * len(p)]]
            + [[*v, *v] for v in (p.names, p.categories, p.subcategories, p.brands)],
        )
        self._product_count = len(p)
        # Customers and salespeople end with "nobody" (walk-in, online order).
        self._customers = table(_CUSTOMER_FIELDS, [[*c.ids, None], [*c.names, None]])
        self._nobody_customer = len(c)
        self._staff = table(_STAFF_FIELDS, [[*e.ids, None], [*e.names, None]])
        self._nobody_staff = len(e)
        pairs = [(ch, pay) for ch in CHANNELS for pay in PAYMENT_METHODS]
        self._tails = table(
            _TAIL_FIELDS,
            [[ch for ch, _ in pairs], [pay for _, pay in pairs], [CURRENCY] * len(pairs)],
            end=d.row_end,
        )
        self._bad_timestamps = table(("sold_at",), [[*BAD_TIMESTAMPS]])
        self._bad_quantities = table(("quantity",), [[*BAD_NUMBERS]])
        self._bad_prices = table(("unit_price",), [[*BAD_NUMBERS]])
        self._line_no = _NumberTable(tables, "line_no", LINE_NUMBERS, False, d)
        self._quantity = _NumberTable(tables, "quantity", QUANTITIES, False, d)
        money: dict[tuple[str, str], _NumberTable] = {}
        self._money: dict[str, _NumberTable] = {}
        for name in ("unit_price", "discount", "unit_cost"):
            affixes = d.affixes(name)
            if affixes not in money:  # CSV and TSV share one table for all three
                money[affixes] = _NumberTable(tables, name, MONEY_CENTS, True, d)
            self._money[name] = money[affixes]
        self._fixed = tables.concat()

    def header(self) -> bytes:
        return self._dialect.header()

    def render(self, batch: DirtyBatch) -> Iterator[pa.Buffer]:
        """The batch as text, one buffer per slice of SLICE_LINES lines, in order."""
        if len(batch) == 0:
            return
        pieces, index = self._pieces_and_index(batch)
        for start in range(0, len(batch), SLICE_LINES):
            rows = take(pieces, index[start : start + SLICE_LINES].ravel())
            offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=len(rows) + 1)
            yield rows.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))

    def _pieces_and_index(self, batch: DirtyBatch) -> tuple[pa.StringArray, Int32Array]:
        """All pieces the batch needs, and per line the index of each of its pieces."""
        d, lines, text = self._dialect, batch.lines, batch.text
        tables = _Tables()
        tables.add(self._fixed)
        before, after = d.affixes("sold_at")
        # Only the seconds the day's lines use (a few thousand of its 86,400).
        used = np.unique(lines.second)
        day_base = tables.add(day_timestamps(lines.date, before, after + d.separator, used))
        # A day's transaction numbers are one run: render the run once.
        first = int(lines.transaction.min())
        before, after = d.affixes("transaction_id")
        run = format_integers(
            np.arange(first, int(lines.transaction.max()) + 1),
            prefix=d.row_start + before + TRANSACTION_PREFIX,
            suffix=after + d.separator,
        )
        # One row per piece while filling (contiguous writes), one line per row at the end.
        # int32 halves the memory of the index (the piece table stays far below 2**31).
        piece = np.empty((PIECES_PER_LINE, len(lines)), dtype=np.int32)
        np.add(lines.transaction, tables.add(run) - first, out=piece[0])
        self._line_no.index(lines.line_no, tables, out=piece[1])
        np.add(np.searchsorted(used, lines.second), day_base, out=piece[2])
        np.add(lines.store, self._stores, out=piece[3])
        np.add(lines.product, self._products, out=piece[4])
        self._quantity.index(lines.quantity, tables, out=piece[5])
        self._money["unit_price"].index(lines.unit_price, tables, out=piece[6])
        self._money["discount"].index(lines.discount, tables, out=piece[7])
        self._money["unit_cost"].index(lines.unit_cost, tables, out=piece[8])
        # -1 (nobody) modulo n + 1 is n, the "nobody" entry at the end of the table.
        np.remainder(lines.customer, self._nobody_customer + 1, out=piece[9])
        piece[9] += self._customers
        np.remainder(lines.salesperson, self._nobody_staff + 1, out=piece[10])
        piece[10] += self._staff
        np.multiply(lines.channel, len(PAYMENT_METHODS), out=piece[11])
        piece[11] += lines.payment + self._tails
        if text is not None:
            piece[4] += np.where(text.product_id_missing, self._product_count, 0)
            for row, bad, base in (
                (2, text.sold_at, self._bad_timestamps),
                (5, text.quantity, self._bad_quantities),
                (6, text.unit_price, self._bad_prices),
            ):
                hit = bad >= 0
                piece[row, hit] = base + bad[hit]
        index = np.ascontiguousarray(piece.T)
        return tables.concat(), index
