"""A day of sales lines as parallel integer arrays, the generator's internal form.

Entities are indices into the catalog, money is integer cents, time is seconds
after local midnight. Defects are applied to this form and renderers turn it
into text; nothing in here is a string.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LineBatch:
    """Sales lines of one day, in file order."""

    day: int  # index of the day in the generated window
    date: date
    transaction: IntArray  # transaction number, unique across the dataset
    line_no: IntArray  # 1..n within the transaction
    second: IntArray  # sold_at, seconds after the store's local midnight
    store: IntArray
    product: IntArray
    quantity: IntArray  # negative for returns
    unit_price: IntArray  # cents
    discount: IntArray  # cents, line amount
    unit_cost: IntArray  # cents
    customer: IntArray  # -1 = walk-in
    salesperson: IntArray  # -1 = none (online)
    channel: IntArray  # index into vocabulary.CHANNELS
    payment: IntArray  # index into vocabulary.PAYMENT_METHODS

    def __len__(self) -> int:
        return int(self.transaction.size)

    def arrays(self) -> dict[str, IntArray]:
        """The per-line arrays by field name."""
        out: dict[str, IntArray] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                out[f.name] = value
        return out

    def take(self, order: IntArray) -> LineBatch:
        """The lines at positions `order` (may repeat lines)."""
        taken: dict[str, Any] = {k: v[order] for k, v in self.arrays().items()}
        return replace(self, **taken)
