"""How numbers read on the dashboard, and the KPI cards with their definitions.

Values arrive rounded by the API (money to cents); formatting only adds separators, so
a card shows exactly the API's number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["money", "count", "units", "pct"]


@dataclass(frozen=True)
class KpiCard:
    key: str
    label: str
    kind: Kind
    definition: str
    up_is_good: bool = True


# Definitions as in DESIGN.md (also the "KPI definitions" sheet of the Excel export).
CARDS: tuple[KpiCard, ...] = (
    KpiCard(
        "net_sales",
        "Net sales",
        "money",
        "Sum of line revenue (quantity x unit_price - discount) over all lines, "
        "returns included: gross sales - returns.",
    ),
    KpiCard(
        "orders",
        "Orders",
        "count",
        "Distinct transaction_id with at least one line of quantity > 0.",
    ),
    KpiCard("average_order_value", "Avg order value", "money", "Gross sales / orders."),
    KpiCard("units_sold", "Units sold", "units", "Sum of quantity over lines with quantity > 0."),
    KpiCard(
        "active_stores", "Active stores", "count", "Distinct stores with a sale in the period."
    ),
    KpiCard(
        "returns_value",
        "Returns",
        "money",
        "Minus the line revenue of lines with quantity < 0, counted on the return's own date.",
        up_is_good=False,
    ),
    KpiCard(
        "margin_pct",
        "Margin",
        "pct",
        "100 x (net sales - cost) / net sales; cost = sum of quantity x unit_cost, shown "
        "only when every line of the period has a unit_cost.",
    ),
)
MOM_DEFINITION = (
    "100 x (net sales of the month - net sales of the previous month) / net sales of the "
    "previous month, for the calendar month that contains the period's last day."
)
EXTRA_DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("gross_sales", "Sum of line revenue over lines with quantity > 0."),
    ("net_units", "Sum of quantity, returns included."),
    ("cost", "Sum of quantity x unit_cost; null when a line has no unit_cost."),
    ("profit", "Net sales - cost."),
    ("mom_pct", MOM_DEFINITION),
    (
        "comparison",
        "previous: the period of equal length just before; mtd: month to date against "
        "the same days of the previous month; yoy: the same dates a year earlier.",
    ),
)


CENT = Decimal("0.01")


def shown(value: Any, places: Decimal = CENT) -> Decimal:
    """The number as displayed, rounded to `places`; a value that rounds to zero is 0,
    never -0 (a red "-0.00" would report a fall that is not there)."""
    rounded = Decimal(value).quantize(places)
    return rounded if rounded != 0 else abs(rounded)


def money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{shown(value):,.2f}"


def count(value: Any) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}"


def units(value: Any) -> str:
    if value is None:
        return "—"
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():,f}"


def pct(value: Any, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    number = shown(value)
    return f"{number:{'+' if signed and number != 0 else ''},.2f}%"


FORMATS = {"money": money, "count": count, "units": units, "pct": pct}


def card_value(card: KpiCard, value: Any) -> str:
    return FORMATS[card.kind](value)


def card_delta(card: KpiCard, change: Any, change_pct: Any) -> str | None:
    """`+10.80% (+127,806.95)`; margin changes are in points; None without a comparison."""
    if change is None:
        return None
    if is_no_change(card, change):
        return "0.00 pts" if card.kind == "pct" else f"{pct(0)} ({FORMATS[card.kind](0)})"
    delta = Decimal(change)
    if card.kind == "pct":
        return f"{shown(delta):+,.2f} pts"
    absolute = FORMATS[card.kind](abs(delta))
    sign = "-" if delta < 0 else "+"
    if change_pct is None:
        return f"{sign}{absolute}"
    return f"{pct(change_pct, signed=True)} ({sign}{absolute})"


def is_no_change(card: KpiCard, change: Any) -> bool:
    """The change shows as zero once rounded (cents, points, whole counts): no arrow."""
    if change is None:
        return False
    if card.kind in ("money", "pct"):
        return shown(change) == 0
    return Decimal(change) == 0


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 x 10^k) covering low..high."""
    span = high - low
    if span <= 0:
        span = abs(high) or 1.0
    raw = span / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9 * step or len(ticks) < 2:
        ticks.append(first + step * len(ticks))
    return ticks


def si_label(value: float) -> str:
    """A tick label: 1,500 -> 1.5k, 2,000,000 -> 2M; small values as they are."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:,.3g}{suffix}"
    return f"{value:,.3g}" if value else "0"


def parse_number(text: str) -> Decimal:
    """The number a formatted value shows (for tests and the PDF): `1,234.50` -> 1234.50."""
    cleaned = text.replace(",", "").replace("%", "").replace("pts", "").strip()
    return Decimal(cleaned)
