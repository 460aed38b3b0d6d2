# mypy: disable-error-code="import-untyped"
"""The shared filters in the sidebar, kept in the URL so a view can be bookmarked.

The URL is read once, when a session starts; afterwards the widgets are the truth and
are written back to the URL on every run (Streamlit clears query parameters when the
user switches pages, so they are restored at once).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from salespipe.dashboard.data import DataSource
from salespipe.dashboard.filters import (
    COMPARISONS,
    DEFAULT_COMPARE,
    DEFAULT_PRESET,
    PRESETS,
    Filters,
)

ALL = "(all)"
KEYS = {
    "preset": "f_period",
    "range": "f_range",
    "region": "f_region",
    "store": "f_store",
    "category": "f_category",
    "compare": "f_compare",
}
STARTED = "f_started"
URL_IGNORED = "f_url_ignored"
PAGE_PARAMS = ("grain",)  # URL parameters a page keeps itself (Trends' series)


def member_lists(source: DataSource) -> tuple[pd.DataFrame, list[str]]:
    """Stores (with region and city) and categories to choose from, from small marts."""
    stores = pd.DataFrame(columns=["store_id", "store_name", "city", "region"])
    categories: list[str] = []
    if source.available("store_variance"):
        found = source.mart("store_variance")
        stores = found[["store_id", "store_name", "city", "region"]]
    if source.available("sales_by_category"):
        rows = source.mart("sales_by_category")
        categories = sorted({str(c) for c in rows["category"] if c is not None and not pd.isna(c)})
    return stores, categories


def _start_session(filters: Filters, first: date | None, last: date | None) -> None:
    state = st.session_state
    state[KEYS["preset"]] = filters.preset
    if filters.preset == "custom" and first and last:
        state[KEYS["range"]] = (filters.date_from or first, filters.date_to or last)
    state[KEYS["region"]] = filters.region or ALL
    state[KEYS["store"]] = filters.store or ALL
    state[KEYS["category"]] = filters.category or ALL
    state[KEYS["compare"]] = filters.compare
    state[STARTED] = True


def _reset() -> None:
    _start_session(Filters(), None, None)


def _options(values: list[str], chosen: Any) -> list[str]:
    """ALL first; a bookmarked value the data no longer has stays choosable."""
    options = [ALL, *values]
    if chosen and chosen not in options:
        options.append(str(chosen))
    return options


def _chosen(key: str) -> str | None:
    value = st.session_state.get(key)
    return None if value in (None, ALL) else str(value)


def _store_names(stores: pd.DataFrame, region: str | None) -> dict[str, str]:
    in_region = stores if region is None else stores[stores["region"] == region]
    return {
        str(s): str(n or s)
        for s, n in zip(in_region["store_id"], in_region["store_name"], strict=True)
    }


def _range_bounds(first: date | None, last: date | None) -> tuple[date, date]:
    """What the date range may span: the data, and any day a bookmark asks for."""
    low, high = first or date(2000, 1, 1), last or date.today()
    current = st.session_state.get(KEYS["range"])
    days = [d for d in current if d] if isinstance(current, tuple | list) else []
    return min([low, *days]), max([high, *days])


def _from_url(params: dict[str, str], stores: pd.DataFrame, categories: list[str]) -> Filters:
    """The URL's filters without the values the data does not have; each one dropped is
    kept (`URL_IGNORED`) for a warning, whatever the parameter."""
    filters = Filters.from_query(params)
    ignored = Filters.ignored_in_query(params)
    regions = {str(r) for r in stores["region"] if r is not None and not pd.isna(r)}
    if filters.region and regions and filters.region not in regions:
        ignored.append(f"region={filters.region}: no such region")
        filters = replace(filters, region=None)
    names = _store_names(stores, None)
    if filters.store and names:
        if filters.store not in names:
            ignored.append(f"store={filters.store}: no such store")
            filters = replace(filters, store=None)
        elif filters.store not in _store_names(stores, filters.region):
            ignored.append(f"store={filters.store}: not in region {filters.region}")
            filters = replace(filters, store=None)
    if filters.category and categories and filters.category not in categories:
        ignored.append(f"category={filters.category}: no such category")
        filters = replace(filters, category=None)
    st.session_state[URL_IGNORED] = ignored
    return filters


def url_warnings() -> list[str]:
    """What the URL asked for and the dashboard ignored, once (the session's first run)."""
    ignored: list[str] = st.session_state.pop(URL_IGNORED, None) or []
    return [f"Ignored URL parameter {item}." for item in ignored]


def read_filters(
    stores: pd.DataFrame, categories: list[str], first: date | None, last: date | None
) -> Filters:
    """The filters of this run, from the widgets' state (the URL when a session starts).

    Read before the page is drawn, while the widgets themselves are drawn after it
    (`draw_filters`): the page's components then reach the browser first.
    """
    state = st.session_state
    if not state.get(STARTED):
        _start_session(_from_url(st.query_params.to_dict(), stores, categories), first, last)
    preset = str(state.get(KEYS["preset"]) or DEFAULT_PRESET)
    date_from = date_to = None
    if preset == "custom":
        if not isinstance(state.get(KEYS["range"]), tuple | list):
            state[KEYS["range"]] = _range_bounds(first, last)
        days = list(state[KEYS["range"]])
        date_from = days[0] if days else None
        date_to = days[1] if len(days) > 1 else date_from
    region = _chosen(KEYS["region"])
    if state.get(KEYS["store"]) not in (ALL, None, *_store_names(stores, region)):
        state[KEYS["store"]] = ALL  # a store outside the chosen region
    return Filters(
        preset=preset,
        date_from=date_from,
        date_to=date_to,
        region=region,
        store=_chosen(KEYS["store"]),
        category=_chosen(KEYS["category"]),
        compare=str(state.get(KEYS["compare"]) or DEFAULT_COMPARE),
    )


def draw_filters(
    filters: Filters,
    stores: pd.DataFrame,
    categories: list[str],
    first: date | None,
    last: date | None,
) -> None:
    """The filter widgets, whose values `read_filters` has read."""
    state = st.session_state
    st.markdown("**Filters**")
    st.selectbox(
        "Period",
        list(PRESETS),
        format_func=lambda p: PRESETS[p],
        key=KEYS["preset"],
        help="Relative periods end on the last day with sales.",
    )
    if filters.preset == "custom":
        low, high = _range_bounds(first, last)
        st.date_input("From - to", key=KEYS["range"], min_value=low, max_value=high)
    regions = sorted({str(r) for r in stores["region"] if r is not None and not pd.isna(r)})
    st.selectbox("Region", _options(regions, state.get(KEYS["region"])), key=KEYS["region"])
    names = _store_names(stores, filters.region)
    st.selectbox(
        "Store",
        _options(sorted(names), state.get(KEYS["store"])),
        format_func=lambda s: names.get(s, s),
        key=KEYS["store"],
    )
    st.selectbox(
        "Category",
        _options(categories, state.get(KEYS["category"])),
        key=KEYS["category"],
        disabled=not categories,
        help=None if categories else "The loaded data has no categories.",
    )
    st.selectbox(
        "Compare with",
        list(COMPARISONS),
        format_func=lambda c: COMPARISONS[c],
        key=KEYS["compare"],
    )
    st.button("Reset filters", on_click=_reset, icon=":material/restart_alt:")


def keep_in_url(filters: Filters) -> None:
    """Write the filters to the URL (switching pages clears it; a bookmark needs it)."""
    current = st.query_params.to_dict()
    wanted = filters.to_query() | {k: v for k, v in current.items() if k in PAGE_PARAMS}
    if current != wanted:
        st.query_params.from_dict(wanted)
