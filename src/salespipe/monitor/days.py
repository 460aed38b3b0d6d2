"""A source's daily values as the seasonal checks read them, and their verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

VOLUME, NET_SALES = "volume", "net_sales"
# The day's prices against each product's usual price (median over the lines of
# unit_price / the product's median unit_price; 1 = as usual): evidence for net sales.
PRICE_INDEX = "price_index"
METRICS = (VOLUME, NET_SALES)  # judged in this order: net sales consult the lines
MAD_TO_SD = 1.4826  # a median absolute deviation times this estimates a standard deviation


@dataclass(frozen=True)
class SourceDays:
    """One source's daily values. Subjects are the source name and `source/store`."""

    source: str
    first: date
    last: date
    values: dict[str, dict[str, dict[date, Decimal]]]  # metric -> subject -> day -> value
    stores: dict[str, str]  # subject -> store_id
    # Seconds after local midnight by which 10% and 90% of the source's lines were sold.
    day_end: dict[date, tuple[int, int]] = field(default_factory=dict)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class DayJudgement:
    """The verdict on one metric of one subject on one day (flagged or not)."""

    kind: str
    key: str
    source: str
    subject: str
    day: date
    observed: Decimal
    expected: Decimal | None
    score: float
    flagged: bool
    severity: str
    message: str
