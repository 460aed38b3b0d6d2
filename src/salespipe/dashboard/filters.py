"""The filters every page shares, their URL form (bookmarkable) and the API parameters
they become for each mart, given the filters that mart accepts.

Periods are relative to the last day with sales, not to today: a warehouse of last
year's exports still opens on its last 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

PRESETS: dict[str, str] = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "mtd": "Month to date",
    "ytd": "Year to date",
    "all": "All time",
    "custom": "Custom range",
}
DEFAULT_PRESET = "30d"
COMPARISONS: dict[str, str] = {
    "previous": "Previous period",
    "mtd": "Same days of the previous month",
    "yoy": "Same period a year earlier",
}
DEFAULT_COMPARE = "previous"
URL_KEYS = ("period", "from", "to", "region", "store", "category", "compare")
MEMBERS = ("store", "region", "category")


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """What the user chose; dates resolve against the data's last day (`period`)."""

    preset: str = DEFAULT_PRESET
    date_from: date | None = None  # custom range only
    date_to: date | None = None
    region: str | None = None
    store: str | None = None
    category: str | None = None
    compare: str = DEFAULT_COMPARE

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Filters:
        """From URL query parameters; unknown or malformed values fall back to defaults."""
        start, end = _parse_day(params.get("from")), _parse_day(params.get("to"))
        preset = params.get("period") or ""
        if preset not in PRESETS:
            preset = "custom" if (start or end) else DEFAULT_PRESET
        if preset != "custom":
            start = end = None
        elif start and end and start > end:
            start, end = end, start
        compare = params.get("compare") or DEFAULT_COMPARE
        return cls(
            preset=preset,
            date_from=start,
            date_to=end,
            region=params.get("region") or None,
            store=params.get("store") or None,
            category=params.get("category") or None,
            compare=compare if compare in COMPARISONS else DEFAULT_COMPARE,
        )

    @staticmethod
    def ignored_in_query(params: Mapping[str, str]) -> list[str]:
        """The URL parameters `from_query` cannot use, as `name=value: why` (members are
        checked against the data by the caller)."""
        out: list[str] = []
        period = params.get("period")
        if period and period not in PRESETS:
            out.append(f"period={period}: it is one of {', '.join(PRESETS)}")
        for key in ("from", "to"):
            value = params.get(key)
            if value and _parse_day(value) is None:
                out.append(f"{key}={value}: not a date (YYYY-MM-DD)")
            elif value and period in PRESETS and period != "custom":
                out.append(f"{key}={value}: only a custom period has dates")
        compare = params.get("compare")
        if compare and compare not in COMPARISONS:
            out.append(f"compare={compare}: it is one of {', '.join(COMPARISONS)}")
        return out

    def to_query(self) -> dict[str, str]:
        """URL query parameters: only what differs from the defaults, in a stable order."""
        out: dict[str, str] = {}
        if self.preset != DEFAULT_PRESET:
            out["period"] = self.preset
        if self.preset == "custom":
            if self.date_from:
                out["from"] = self.date_from.isoformat()
            if self.date_to:
                out["to"] = self.date_to.isoformat()
        for name in ("region", "store", "category"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.compare != DEFAULT_COMPARE:
            out["compare"] = self.compare
        return out

    def period(self, first: date | None, last: date | None) -> Period:
        """The days the filters select, given the first and last day with sales."""
        if first is None or last is None:
            return Period(self.date_from, self.date_to)
        if self.preset == "custom":
            return Period(self.date_from or first, self.date_to or last)
        if self.preset == "all":
            return Period(first, last)
        if self.preset == "mtd":
            return Period(max(first, last.replace(day=1)), last)
        if self.preset == "ytd":
            return Period(max(first, last.replace(month=1, day=1)), last)
        days = int(self.preset.removesuffix("d"))
        return Period(max(first, last - timedelta(days=days - 1)), last)

    def members(self) -> dict[str, str]:
        return {m: v for m in MEMBERS if (v := getattr(self, m))}

    def without_members(self) -> Filters:
        return replace(self, region=None, store=None, category=None)


@dataclass(frozen=True)
class Period:
    start: date | None
    end: date | None

    def params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.start:
            out["from"] = self.start.isoformat()
        if self.end:
            out["to"] = self.end.isoformat()
        return out

    @property
    def label(self) -> str:
        if self.start and self.end:
            if self.start == self.end:
                return self.start.isoformat()
            return f"{self.start.isoformat()} to {self.end.isoformat()}"
        return "all dates"


@dataclass(frozen=True)
class MartParams:
    """API parameters for one mart, and the chosen filters this mart cannot apply."""

    params: dict[str, str]
    ignored: tuple[str, ...]

    def note(self, mart: str) -> str | None:
        if not self.ignored:
            return None
        names = ", ".join(self.ignored)
        return f"Not filtered by {names}: `{mart}` has no such dimension."


def mart_params(
    filters: Filters, period: Period, accepted: list[str] | tuple[str, ...], *, dated: bool = True
) -> MartParams:
    """The filters `accepted` (a mart's `filters` from GET /api/v1/marts) lets through."""
    params: dict[str, str] = {}
    ignored: list[str] = []
    if dated:
        for key, value in period.params().items():
            if key in accepted:
                params[key] = value
            elif "dates" not in ignored:
                ignored.append("dates")
    for key, value in filters.members().items():
        if key in accepted:
            params[key] = value
        else:
            ignored.append(key)
    return MartParams(params, tuple(ignored))


def kpi_params(filters: Filters, period: Period, compare: str | None) -> dict[str, Any]:
    """Parameters of GET /api/v1/kpis for the filters (`compare=none` for no comparison)."""
    return {**period.params(), **filters.members(), "compare": compare or "none"}
