# mypy: disable-error-code="import-untyped"
"""The Streamlit entry point: pages, shared filters, live updates and the view export.

`salespipe dashboard` runs `streamlit run app.py -- --api URL`; every page reads the
API through the context built here, once per run, at one snapshot.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from salespipe.dashboard.client import ApiClient, DashboardError
from salespipe.dashboard.context import CONTEXT_KEY, PageContext
from salespipe.dashboard.data import DataSource
from salespipe.dashboard.exports import XLSX_MIME, View, file_stem, workbook_bytes
from salespipe.dashboard.formatting import CARDS, EXTRA_DEFINITIONS
from salespipe.dashboard.live import watch_snapshot
from salespipe.dashboard.settings import Settings, settings_from_process
from salespipe.dashboard.sidebar import (
    draw_filters,
    keep_in_url,
    member_lists,
    read_filters,
    url_warnings,
)

SCREENS = Path(__file__).resolve().parent / "screens"
ICON = Path(__file__).resolve().parent / "icon.png"  # the favicon, shipped with the package
# file, title, icon, URL path
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("overview.py", "Overview", ":material/dashboard:", "overview"),
    ("trends.py", "Trends", ":material/show_chart:", "trends"),
    ("products.py", "Products", ":material/inventory_2:", "products"),
    ("stores.py", "Stores", ":material/storefront:", "stores"),
    ("customers.py", "Customers", ":material/groups:", "customers"),
    ("team.py", "Sales team", ":material/military_tech:", "sales-team"),
    ("health.py", "Data health", ":material/health_and_safety:", "data-health"),
)


def _navigation() -> StreamlitPage:
    pages = [
        st.Page(SCREENS / file, title=title, icon=icon, url_path=path, default=i == 0)
        for i, (file, title, icon, path) in enumerate(PAGES)
    ]
    return st.navigation(pages)


def view_workbook(ctx: PageContext) -> bytes:
    about = [
        ("page", ctx.view.page),
        *ctx.describe(),
        ("api", ctx.settings.api_url),
        ("snapshot", ctx.source.snapshot),
        ("generated at", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    definitions = [(c.key, c.definition) for c in CARDS] + list(EXTRA_DEFINITIONS)
    return workbook_bytes(ctx.view.tables, about, definitions)


def main(settings: Settings) -> None:
    # A file of the package, not a Material icon (Streamlit fetches those from Google's
    # font CDN: no favicon offline).
    st.set_page_config(page_title="salespipe", page_icon=str(ICON), layout="wide")
    client = ApiClient(settings.api_url, settings.api_key)
    page = _navigation()
    try:
        ready = client.ready()
        snapshot = str(ready["snapshot"])
    except DashboardError as exc:
        st.title("salespipe")
        st.warning(f"{exc}", icon=":material/cloud_off:")
        with st.sidebar:
            watch_snapshot(client, None, settings.poll_seconds)
        return
    if not settings.currency and ready.get("currency"):
        settings = replace(settings, currency=str(ready["currency"]))  # the API says which
    source = DataSource(client, snapshot)
    first = last = None
    stores, categories = member_lists_or_empty(source)
    with st.sidebar:
        filters_slot = st.container()
        st.divider()
        export_slot = st.container()
        watch_snapshot(client, snapshot, settings.poll_seconds)
    try:
        first, last = source.bounds()
    except DashboardError as exc:
        filters_slot.warning(f"Dates unavailable: {exc}")
    filters = read_filters(stores, categories, first, last)
    for warning in url_warnings():
        st.warning(warning, icon=":material/link_off:")
    keep_in_url(filters)
    ctx = PageContext(
        settings=settings,
        source=source,
        filters=filters,
        period=filters.period(first, last),
        first_day=first,
        last_day=last,
        stores=stores,
        categories=categories,
        view=View(page.title),
    )
    st.session_state[CONTEXT_KEY] = ctx
    page.run()
    # The widgets after the page: its components (cards first) reach the browser first.
    with filters_slot:
        draw_filters(filters, stores, categories, first, last)
    with export_slot:
        st.download_button(
            "Excel workbook of this view",
            data=lambda: view_workbook(ctx),
            file_name=file_stem(f"salespipe-{ctx.view.page}") + ".xlsx",
            mime=XLSX_MIME,
            key="view-workbook",
            icon=":material/table_view:",
            on_click="ignore",
            help="Every table on this page (a sheet each), the filters and the KPI definitions.",
            disabled=not ctx.view.tables,
        )


def member_lists_or_empty(source: DataSource) -> tuple[pd.DataFrame, list[str]]:
    try:
        return member_lists(source)
    except DashboardError:
        return pd.DataFrame(columns=["store_id", "store_name", "city", "region"]), []


if __name__ == "__main__":
    main(settings_from_process())
