# mypy: disable-error-code="import-untyped"
"""What a page needs for one run: the API at a snapshot, the filters and the period they
select, the members to choose from, and the view collecting the tables shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import streamlit as st

from salespipe.dashboard.data import DataSource
from salespipe.dashboard.exports import View
from salespipe.dashboard.filters import COMPARISONS, PRESETS, Filters, Period
from salespipe.dashboard.settings import Settings

CONTEXT_KEY = "salespipe_page_context"


@dataclass
class PageContext:
    settings: Settings
    source: DataSource
    filters: Filters
    period: Period
    first_day: date | None
    last_day: date | None
    stores: pd.DataFrame  # store_id, store_name, city, region
    categories: list[str]
    view: View = field(default_factory=lambda: View("page"))

    @property
    def empty(self) -> bool:
        """No sale has been loaded at all."""
        return self.last_day is None

    def store_names(self) -> dict[str, str]:
        if self.stores.empty:
            return {}
        return {
            str(s): str(n or s)
            for s, n in zip(self.stores["store_id"], self.stores["store_name"], strict=True)
        }

    def describe(self) -> list[tuple[str, str]]:
        """The filters in words, for captions, the workbook and the PDF."""
        f = self.filters
        rows = [
            ("period", f"{PRESETS[f.preset]}: {self.period.label}"),
            ("region", f.region or "all"),
            ("store", self.store_names().get(f.store, f.store) if f.store else "all"),
            ("category", f.category or "all"),
            ("compared with", COMPARISONS[f.compare]),
        ]
        if self.settings.currency:
            rows.append(("currency", self.settings.currency))
        return rows

    def amounts(self, label: str) -> str:
        """A money label with its currency when the dashboard knows it: `net sales (USD)`."""
        currency = self.settings.currency
        return f"{label} ({currency})" if currency else label

    def currency_note(self) -> str:
        """Which currency amounts are in: from the configuration the dashboard was started
        with, else the API's /ready (a server too old to say gets a note)."""
        if self.settings.currency:
            return f"Amounts in {self.settings.currency}, the warehouse's reporting currency."
        return "Amounts in the warehouse's reporting currency (the API does not say which)."

    def filter_summary(self) -> str:
        parts = [self.period.label]
        for name in ("region", "store", "category"):
            value = getattr(self.filters, name)
            if value:
                parts.append(f"{name} {value}")
        return " · ".join(parts)


def current_context() -> PageContext:
    context: PageContext = st.session_state[CONTEXT_KEY]
    return context
