"""How numbers read on the dashboard, and the KPI cards with their definitions.

Values arrive rounded by the API (money to cents); formatting only adds separators, so
a card shows exactly the API's number.
"""

from __future__ import annotations

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


def money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}"


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
    return f"{Decimal(value):{'+' if signed else ''},.2f}%"


FORMATS = {"money": money, "count": count, "units": units, "pct": pct}


def card_value(card: KpiCard, value: Any) -> str:
    return FORMATS[card.kind](value)


def card_delta(card: KpiCard, change: Any, change_pct: Any) -> str | None:
    """`+10.80% (+127,806.95)`; margin changes are in points; None without a comparison."""
    if change is None:
        return None
    delta = Decimal(change)
    if card.kind == "pct":
        return f"{delta:+,.2f} pts"
    absolute = FORMATS[card.kind](abs(delta))
    sign = "-" if delta < 0 else "+"
    if change_pct is None:
        return f"{sign}{absolute}"
    return f"{pct(change_pct, signed=True)} ({sign}{absolute})"


def parse_number(text: str) -> Decimal:
    """The number a formatted value shows (for tests and the PDF): `1,234.50` -> 1234.50."""
    cleaned = text.replace(",", "").replace("%", "").replace("pts", "").strip()
    return Decimal(cleaned)
