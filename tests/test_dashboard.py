"""The dashboard's logic: filters and their URL form, reshaping, exports, and every page
run by Streamlit's AppTest against a real `salespipe serve`. Cards equal the API's
numbers for the same filters; missing data gives a message, never a traceback."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("streamlit", reason='the dashboard needs pip install "salespipe[dashboard]"')
pytest.importorskip("plotly", reason='the dashboard needs pip install "salespipe[dashboard]"')

import pandas as pd
from streamlit.testing.v1 import AppTest

from salespipe.dashboard import frames
from salespipe.dashboard.client import ApiClient, ApiRequestError, ApiUnavailable
from salespipe.dashboard.data import DataSource, SnapshotCache, to_frame
from salespipe.dashboard.exports import View, unique_sheet, workbook_bytes, xlsx_bytes
from salespipe.dashboard.filters import Filters, Period, mart_params
from salespipe.dashboard.formatting import (
    CARDS,
    card_delta,
    is_no_change,
    money,
    nice_ticks,
    parse_number,
    pct,
    si_label,
)
from salespipe.dashboard.report import KpiLine, OverviewReport, render_pdf
from salespipe.dashboard.screens.overview import GROSS_CARD

from .conftest import Project, cli, line
from .servers import free_port
from .test_api_support import ApiServer, make_project, serve

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "salespipe" / "dashboard"
SCREENS = PACKAGE / "screens"
PAGES = {
    "overview.py": "Overview",
    "trends.py": "Trends",
    "products.py": "Products",
    "stores.py": "Stores",
    "customers.py": "Customers",
    "team.py": "Sales team",
    "health.py": "Data health",
}
LABELS = {c.label: c.key for c in (*CARDS, GROSS_CARD)}


# --- servers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """Two months of generated sales with every field, behind a real API."""
    config = make_project(
        tmp_path_factory.mktemp("dash-shop"), days=62, rows_per_day=150, split="none"
    )
    with serve(config) as server:
        yield server


@pytest.fixture(scope="module")
def bare_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A source with neither customers, salespeople, categories nor costs."""
    project = Project(tmp_path_factory.mktemp("dash-bare"))
    project.write_config(
        """\
        warehouse: duckdb:///warehouse.duckdb
        sources:
          - name: till
            landing: landing/pos
            pattern: "*.csv"
            formats: {sold_at: "%Y-%m-%d %H:%M:%S"}
        """
    )
    header = ["transaction_id", "line_no", "sold_at", "store_id", "product_id"]
    header += ["quantity", "unit_price"]
    rows = [
        line(f"T{d}{i}", 1, sold_at=f"2025-03-{d:02d} 1{i}:00:00", product=f"P{i}", price="9.50")
        for d in range(1, 29)
        for i in range(3)
    ]
    project.write_csv("till.csv", rows, header=header)
    result = project.cli("run", "--json")
    assert result.code == 0, result.stderr
    with serve(project.config) as server:
        yield server


@pytest.fixture(scope="module")
def dated_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """Daily totals per shop and item: dates alone, no time of day."""
    project = Project(tmp_path_factory.mktemp("dash-dated"))
    project.write_config(
        """\
        warehouse: duckdb:///warehouse.duckdb
        timezone: Europe/Moscow
        sources:
          - name: shops
            landing: landing/pos
            pattern: "*.csv"
            formats: {sold_at: "%d.%m.%Y"}
            key: [sold_at, store_id, product_id]
        """
    )
    header = ["sold_at", "store_id", "product_id", "quantity", "unit_price"]
    rows = [
        line("", 1, sold_at=f"{d:02d}.03.2025", store=s, product="P1", quantity="2")
        for d in range(1, 15)
        for s in ("M1", "M2")
    ]
    project.write_csv("totals.csv", rows, header=header)
    assert project.cli("run", "--json").code == 0
    with serve(project.config) as server:
        yield server


@pytest.fixture(scope="module")
def empty_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    project = Project(tmp_path_factory.mktemp("dash-empty"))
    project.landing.mkdir(parents=True)
    project.write_config(
        """\
        warehouse: duckdb:///warehouse.duckdb
        sources:
          - {name: pos, landing: landing/pos, pattern: "*.csv"}
        """
    )
    with serve(project.config) as server:
        yield server


# --- AppTest --------------------------------------------------------------------------


def dashboard_script(api: str, currency: str | None = None) -> None:
    from salespipe.dashboard.app import main
    from salespipe.dashboard.settings import Settings

    main(Settings(api_url=api, currency=currency))


def open_app(
    api: str, page: str | None = None, *, currency: str | None = None, **query: str
) -> AppTest:
    at = AppTest.from_function(
        dashboard_script, kwargs={"api": api, "currency": currency}, default_timeout=60
    )
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page and page != "overview.py":
        at.switch_page(str(SCREENS / page)).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def visit_every_page(api: str, **query: str) -> Iterator[tuple[str, AppTest]]:
    """One session going through every page, as a user clicking the navigation would."""
    at = open_app(api, **query)
    for page in PAGES:
        if page != "overview.py":
            at.switch_page(str(SCREENS / page)).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        yield page, at


def view_tables(at: AppTest) -> dict[str, pd.DataFrame]:
    """The tables the page showed (drawn or behind an expander), by name."""
    context = at.session_state["salespipe_page_context"]
    return {t.name: t.frame for t in context.view.tables}


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def api_kpis(server: ApiServer, **params: str) -> dict[str, Any]:
    resp = server.get("/api/v1/kpis", **params)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def plain(label: str) -> str:
    """A card label without its currency: "Net sales (USD)" -> "Net sales"."""
    return re.sub(r" \([A-Z]{3}\)$", "", label)


def check_cards(at: AppTest, kpis: dict[str, Any]) -> int:
    """Every card shows the API's value; returns how many cards were compared."""
    compared = 0
    for metric in at.metric:
        key = LABELS.get(plain(metric.label))
        if key is None:
            continue
        expected = kpis[key]
        assert expected is not None, metric.label
        assert parse_number(metric.value) == Decimal(str(expected)), (metric.label, metric.value)
        compared += 1
    return compared


def test_overview_cards_equal_the_api_for_the_same_filters(shop: ApiServer) -> None:
    store_rows = shop.get("/api/v1/marts/store_variance").json()["rows"]
    region = sorted({r["region"] for r in store_rows})[0]
    params = {"period": "custom", "from": "2025-01-20", "to": "2025-02-18", "region": region}
    at = open_app(shop.url, **params)
    kpis = api_kpis(shop, **{"from": "2025-01-20", "to": "2025-02-18", "region": region})
    assert check_cards(at, kpis) == 7
    # Deltas are the API's change against the previous period of equal length.
    net = next(m for m in at.metric if plain(m.label) == "Net sales")
    block = kpis["comparison"]["previous"]
    assert net.delta == card_delta(
        CARDS[0], block["change"]["net_sales"], block["change_pct"]["net_sales"]
    )
    # MoM % of February against January, from the API's monthly mart (no member filter).
    unfiltered = open_app(shop.url, period="custom", **{"from": "2025-01-20", "to": "2025-02-18"})
    monthly = shop.get("/api/v1/marts/sales_monthly", **{"from": "2025-02-01"}).json()["rows"]
    mom = next(m for m in unfiltered.metric if m.label.startswith("MoM %"))
    assert mom.label == "MoM % (Feb 2025)"
    assert parse_number(mom.value) == Decimal(str(monthly[0]["mom_pct"]))


def test_default_view_is_the_last_30_days_and_the_trend_adds_up(shop: ApiServer) -> None:
    at = open_app(shop.url)
    assert dict(at.query_params) == {}
    last = shop.get("/api/v1/marts/sales_daily", order_by="-sale_date", limit=1).json()
    end = date.fromisoformat(last["rows"][0]["sale_date"])
    start = end - timedelta(days=29)
    kpis = api_kpis(shop, **{"from": start.isoformat(), "to": end.isoformat()})
    assert check_cards(at, kpis) == 7
    daily = view_tables(at)["Net sales by day"]
    assert sum(Decimal(str(v)) for v in daily["net_sales"]) == Decimal(str(kpis["net_sales"]))


def test_every_page_runs_against_a_full_warehouse(shop: ApiServer) -> None:
    for page, at in visit_every_page(shop.url, period="all"):
        assert texts(at.title)[0] == PAGES[page]
        assert not at.error, (page, texts(at.error))
        assert view_tables(at), page  # every page shows its data as tables


def test_filters_are_kept_in_the_url(shop: ApiServer) -> None:
    at = open_app(shop.url, "trends.py", period="90d", category="Grocery", compare="yoy")
    assert dict(at.query_params) == {"period": "90d", "category": "Grocery", "compare": "yoy"}
    assert at.sidebar.selectbox(key="f_category").value == "Grocery"
    at.sidebar.selectbox(key="f_period").set_value("7d")
    at.run()  # element handles are stale after a run: query them again
    assert dict(at.query_params) == {"period": "7d", "category": "Grocery", "compare": "yoy"}
    at.sidebar.selectbox(key="f_category").set_value("(all)")
    at.run()
    assert dict(at.query_params) == {"period": "7d", "compare": "yoy"}


def test_a_filter_without_data_shows_a_message(shop: ApiServer) -> None:
    for page, at in visit_every_page(
        shop.url, period="custom", **{"from": "2031-01-01", "to": "2031-01-31"}
    ):
        assert not at.error, (page, texts(at.error))
        if page in ("overview.py", "trends.py", "products.py", "stores.py", "team.py"):
            assert any("No " in t and "2031-01-01" in t for t in texts(at.info)), page


def test_a_source_without_customers_salespeople_categories_or_costs(bare_shop: ApiServer) -> None:
    at = open_app(bare_shop.url, period="all")
    labels = [plain(m.label) for m in at.metric]
    assert "Margin" not in labels and "Gross sales" in labels
    assert check_cards(at, api_kpis(bare_shop, **{"from": "2025-03-01", "to": "2025-03-28"})) == 7
    assert any("category" in t for t in texts(at.info))
    assert at.sidebar.selectbox(key="f_category").disabled
    for page, at in visit_every_page(bare_shop.url):
        assert not at.error, (page, texts(at.error))
        if page == "customers.py":
            assert any("customer_id" in t for t in texts(at.info))
        if page == "team.py":
            assert any("salesperson_id" in t for t in texts(at.info))


def api_rows(server: ApiServer, mart: str, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = server.get(f"/api/v1/marts/{mart}", limit=10_000, offset=len(rows), **params)
        assert page.status_code == 200, page.text
        rows += page.json()["rows"]
        if len(rows) >= page.json()["total"]:
            return rows


def test_trends_shows_seasonality_by_hour_from_the_hourly_mart(shop: ApiServer) -> None:
    at = open_app(shop.url, "trends.py", period="all")
    assert {"By hour", "By weekday and hour"} <= set(texts(at.subheader))
    tables = view_tables(at)
    by_hour, matrix = tables["By hour"], tables["By weekday and hour"]
    # The API's rows, summed here per hour and per (weekday, hour), give the same numbers.
    rows = api_rows(shop, "sales_hourly")
    assert rows and all(r["hour"] is not None for r in rows)
    net: dict[int, Decimal] = {h: Decimal(0) for h in range(24)}
    days = {r["sale_date"] for r in rows}
    cell: dict[tuple[int, int], Decimal] = {}
    for r in rows:
        net[r["hour"]] += Decimal(str(r["net_sales"]))
        key = (date.fromisoformat(r["sale_date"]).weekday(), r["hour"])
        cell[key] = cell.get(key, Decimal(0)) + Decimal(str(r["net_sales"]))
    assert list(by_hour["hour"]) == list(range(24))
    assert {int(h): v for h, v in zip(by_hour["hour"], by_hour["net_sales"], strict=True)} == net
    assert set(by_hour["days"]) == {len(days)}
    for h, avg in zip(by_hour["hour"], by_hour["average_net_sales"], strict=True):
        assert avg == (net[int(h)] / len(days)).quantize(Decimal("0.01"))
    # all lines carry a time: the hours add up to the period's net sales
    kpis = api_kpis(shop, **{"from": min(days), "to": max(days)})
    assert sum(net.values()) == Decimal(str(kpis["net_sales"]))
    monday_days = len({d for d in days if date.fromisoformat(d).weekday() == 0})
    row = matrix.set_index("weekday").loc["Monday"]
    busiest = max((h for w, h in cell if w == 0), key=lambda h: cell[(0, h)])
    assert row[f"{busiest:02d}"] == (cell[(0, busiest)] / monday_days).quantize(Decimal("0.01"))
    assert any("store's own clock" in t for t in texts(at.caption))
    # volume: units per hour
    at.segmented_control(key="trend_measure").set_value("volume").run()
    assert not at.exception
    assert "average_net_units" in view_tables(at)["By hour"].columns
    # a store filter reaches the mart; a category filter is noted as not applied
    store = rows[0]["store_id"]
    at = open_app(shop.url, "trends.py", period="all", store=store)
    store_net = sum(
        (Decimal(str(r["net_sales"])) for r in rows if r["store_id"] == store), Decimal(0)
    )
    assert sum(view_tables(at)["By hour"]["net_sales"]) == store_net
    at = open_app(shop.url, "trends.py", period="all", category="Grocery")
    assert any("`sales_hourly` has no such dimension" in t for t in texts(at.caption))


def test_trends_without_times_of_day_explains_the_hours(dated_shop: ApiServer) -> None:
    at = open_app(dated_shop.url, "trends.py", period="all")
    assert not at.error, texts(at.error)
    assert any("needs the time of each sale" in t for t in texts(at.info))
    assert "By weekday" in view_tables(at)  # the weekdays still show
    assert "By hour" not in view_tables(at)


def test_an_empty_warehouse_explains_what_to_do(empty_shop: ApiServer) -> None:
    for page, at in visit_every_page(empty_shop.url):
        assert texts(at.title)[0] == PAGES[page]
        assert not at.error, (page, texts(at.error))
        if page == "health.py":
            assert any("No run yet" in t for t in texts(at.info))
        else:
            assert any("no sales yet" in t for t in texts(at.info)), page


def test_an_unreachable_api_is_a_message() -> None:
    at = open_app(f"http://127.0.0.1:{free_port()}")
    assert any("does not answer" in t for t in texts(at.warning))


# --- the pieces -------------------------------------------------------------------------


def test_filters_from_and_to_the_url() -> None:
    f = Filters.from_query({"period": "custom", "from": "2025-02-10", "to": "2025-02-01"})
    assert (f.date_from, f.date_to) == (date(2025, 2, 1), date(2025, 2, 10))  # swapped
    assert Filters.from_query(f.to_query()) == f
    assert Filters.from_query({"from": "2025-01-01"}).preset == "custom"
    junk = Filters.from_query({"period": "bogus", "compare": "nope", "from": "x"})
    assert junk == Filters()
    assert Filters().to_query() == {}
    first, last = date(2024, 12, 1), date(2025, 3, 15)
    assert Filters(preset="7d").period(first, last) == Period(date(2025, 3, 9), last)
    assert Filters(preset="mtd").period(first, last) == Period(date(2025, 3, 1), last)
    assert Filters(preset="ytd").period(first, last) == Period(date(2025, 1, 1), last)
    assert Filters(preset="all").period(first, last) == Period(first, last)
    assert Filters(preset="90d").period(date(2025, 3, 1), last).start == date(2025, 3, 1)


def test_mart_params_pass_only_what_the_mart_accepts() -> None:
    f = Filters(region="West", category="Toys")
    period = Period(date(2025, 1, 1), date(2025, 1, 31))
    p = mart_params(f, period, ["from", "to", "store", "region"])
    assert p.params == {"from": "2025-01-01", "to": "2025-01-31", "region": "West"}
    assert p.ignored == ("category",)
    assert p.note("sales_daily") is not None and "category" in str(p.note("sales_daily"))
    undated = mart_params(f, period, ["category"], dated=True)
    assert undated.ignored == ("dates", "region")


def test_number_formats() -> None:
    assert money(Decimal("1234567.5")) == "1,234,567.50"
    assert money(None) == "—"
    assert pct(Decimal("10.8"), signed=True) == "+10.80%"
    assert card_delta(CARDS[0], Decimal("-12.3"), -1.5) == "-1.50% (-12.30)"
    margin = next(c for c in CARDS if c.key == "margin_pct")
    assert card_delta(margin, 0.86, 2.1) == "+0.86 pts"
    assert parse_number("1,234.50") == Decimal("1234.50")


def test_totals_keep_exact_decimals_and_unknown_costs() -> None:
    df = pd.DataFrame(
        {
            "day": ["a", "a", "b"],
            "net_sales": [Decimal("0.10"), Decimal("0.20"), Decimal("1.00")],
            "cost": [Decimal("0.05"), None, Decimal("0.40")],
        }
    )
    out = frames.totals(df, ["day"], ("net_sales", "cost"))
    assert list(out["net_sales"]) == [Decimal("0.30"), Decimal("1.00")]
    assert list(out["cost"]) == [None, Decimal("0.40")]  # one unknown cost: unknown
    margin = frames.with_margin(out)
    assert list(margin["margin_pct"]) == [None, Decimal("60.00")]


def test_weekday_profile_and_segments() -> None:
    daily = pd.DataFrame(
        {
            "sale_date": [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 4)],
            "net_sales": [Decimal(10), Decimal(20), Decimal(7)],
            "net_units": [1, 3, 1],
        }
    )
    profile = frames.weekday_profile(daily).set_index("weekday")
    assert profile.loc["Monday", "average_net_sales"] == Decimal("15.00")
    assert profile.loc["Monday", "days"] == 2 and profile.loc["Sunday", "days"] == 0
    assert frames.rfm_segment(5, 5) == "Champions"
    assert frames.rfm_segment(1, 1) == "Hibernating"
    assert frames.rfm_segment(1, 5) == "Cannot lose them"


def test_hour_profile_and_weekday_hour_matrix() -> None:
    d = Decimal
    hourly = pd.DataFrame(
        {
            "sale_date": [date(2025, 3, 3), date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 4)],
            "hour": pd.array([9, 17, 9, None], dtype="Int64"),
            "net_sales": [d("10.00"), d("5.00"), d("20.00"), d("65.00")],
            "net_units": [d(1), d(1), d(3), d(7)],
        }
    )
    profile = frames.hour_profile(hourly).set_index("hour")
    assert list(profile.index) == list(range(24))
    assert profile.loc[9, "net_sales"] == d("30.00") and profile.loc[3, "net_sales"] == 0
    assert profile.loc[9, "days"] == 2  # 3 and 10 March have times; 4 March has none
    assert profile.loc[9, "average_net_sales"] == d("15.00")
    assert profile.loc[17, "share_pct"] == d("14.29")  # 5 of the 35.00 with an hour
    assert frames.undated_net_sales(hourly) == (d("65.00"), d("100.00"))
    matrix = frames.weekday_hour_matrix(hourly, "net_sales")
    assert matrix.loc["Monday", "09"] == d("15.00") and matrix.loc["Monday", "00"] == 0
    assert matrix.loc["Tuesday", "09"] is None  # no day with a time of day
    only_dates = hourly[hourly["hour"].isna()]
    assert frames.hour_profile(only_dates).empty


def test_stage_timings_use_the_apis_stages_when_sent() -> None:
    runs = [{"run_id": "r1", "seconds": 5.0}, {"run_id": "r2", "seconds": 2.0, "stages": {"x": 1}}]
    files = [{"run_id": "r1", "seconds": 1.5}, {"run_id": "r1", "seconds": 2.0}]
    t = frames.stage_timings(runs, files)
    assert t[t.run_id == "r1"].set_index("stage")["seconds"].to_dict() == {
        "load files": 3.5,
        "marts, checks, other": 1.5,
    }
    assert t[t.run_id == "r2"]["stage"].tolist() == ["x"]


def test_exports_open_with_openpyxl() -> None:
    from openpyxl import load_workbook

    frame = pd.DataFrame(
        {"day": [date(2025, 1, 1)], "net_sales": [Decimal("1234.56")], "n": [pd.NA]}
    )
    book = load_workbook(io.BytesIO(xlsx_bytes(frame, "Sales/day")))
    sheet = book[book.sheetnames[0]]
    assert [c.value for c in sheet[1]] == ["day", "net_sales", "n"]
    assert sheet["B2"].value == pytest.approx(1234.56) and sheet["C2"].value is None
    view = View("Overview")
    view.add("Top products", frame, "top_products")
    view.add("Top products", frame, "top_products")
    data = workbook_bytes(view.tables, [("period", "all")], [("net_sales", "sum")])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["View", "Top products", "Top products (2)", "KPI definitions"]
    assert unique_sheet("a" * 40, ["a" * 31]) == "a" * 27 + " (2)"


def test_pdf_report_is_paginated() -> None:
    from pypdf import PdfReader

    trend = pd.DataFrame(
        {"day": [date(2025, 1, d) for d in range(1, 31)], "value": [Decimal(d) for d in range(30)]}
    )
    big = pd.DataFrame({"day": [str(d) for d in range(120)], "net sales": ["1.00"] * 120})
    report = OverviewReport(
        title="salespipe overview",
        about=[("period", "2025-01-01 to 2025-01-30"), ("region", "Île-de-France")],
        kpis=[KpiLine("Net sales", "1,234.50", "1,000.00", "+23.45% (+234.50)")],
        trend=trend,
        trend_label="Net sales by day",
        tables=[("Daily", big)],
    )
    reader = PdfReader(io.BytesIO(render_pdf(report)))
    assert len(reader.pages) >= 3
    first = reader.pages[0].extract_text()
    assert "1,234.50" in first and "Île-de-France" in first
    assert f"page 1 of {len(reader.pages)}" in first


def test_client_errors_are_typed(shop: ApiServer) -> None:
    client = ApiClient(shop.url)
    with pytest.raises(ApiRequestError) as found:
        client.mart_page("no_such_mart", {})
    assert found.value.status == 404 and found.value.error == "NotFound"
    with pytest.raises(ApiUnavailable):
        ApiClient(f"http://127.0.0.1:{free_port()}").snapshot()


def test_cache_is_keyed_by_snapshot_single_flight_and_bounded() -> None:
    cache = SnapshotCache(max_entries=3)
    calls: list[str] = []

    def build(value: str, wait: threading.Event | None = None) -> Callable[[], str]:
        def run() -> str:
            calls.append(value)
            if wait is not None:
                wait.wait(5)
            return value

        return run

    assert cache.get_or_build(("api", "1.5", "a"), build("a")) == "a"
    assert cache.get_or_build(("api", "1.5", "a"), build("again")) == "a"
    # A request in flight is waited for, not sent twice.
    gate = threading.Event()
    first = threading.Thread(
        target=cache.get_or_build, args=(("api", "1.5", "b"), build("b", gate))
    )
    first.start()
    while "b" not in calls:
        time.sleep(0.01)
    second: list[str] = []
    reader = threading.Thread(
        target=lambda: second.append(cache.get_or_build(("api", "1.5", "b"), build("b2")))
    )
    reader.start()
    gate.set()
    first.join()
    reader.join()
    assert second == ["b"] and calls == ["a", "b"]
    # A newer snapshot of the same API drops the older answers.
    cache.get_or_build(("other", "1.0", "a"), build("other"))
    cache.get_or_build(("api", "2.0", "a"), build("a2"))
    assert len(cache) == 2
    # Bounded: the least recently used goes.
    for name in "xyz":
        cache.get_or_build(("api", "2.0", name), build(name))
    assert len(cache) == 3
    # Errors are not cached.

    def failing() -> str:
        calls.append("boom")
        raise ValueError("boom")

    for _ in range(2):
        with pytest.raises(ValueError):
            cache.get_or_build(("api", "2.0", "e"), failing)
    assert calls.count("boom") == 2


def test_the_api_answers_become_exact_frames(shop: ApiServer) -> None:
    client = ApiClient(shop.url)
    source = DataSource(client, client.snapshot(), SnapshotCache())
    monthly = source.mart("sales_monthly")
    assert source.mart("sales_monthly") is monthly  # one snapshot, one request
    assert isinstance(monthly["net_sales"].iloc[0], Decimal)
    assert isinstance(monthly["month"].iloc[0], date)
    frame = to_frame(client.mart_rows("sales_monthly", {}).table)
    assert frame["net_sales"].tolist() == monthly["net_sales"].tolist()


def test_the_dashboard_holds_no_sql() -> None:
    pattern = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s|\bimport duckdb\b|\bduckdb\.")
    for path in PACKAGE.rglob("*.py"):
        found = pattern.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name}: {found.group(0) if found else ''}"


def test_cli_refuses_a_public_address_and_a_busy_port(tmp_path: Path) -> None:
    result = cli("dashboard", "--api", "http://127.0.0.1:9", "--host", "0.0.0.0")
    assert result.code == 2 and "no login" in result.stderr
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("dashboard", "--api", "http://127.0.0.1:9", "--port", str(port))
    assert result.code == 2 and "--port" in result.stderr


def test_streamlit_command_is_headless_without_usage_stats() -> None:
    from salespipe.dashboard.launch import streamlit_command
    from salespipe.dashboard.settings import Settings

    command = streamlit_command(Settings(api_url="http://x:1", api_key="k"), "127.0.0.1", 8501)
    joined = " ".join(command)
    assert "--server.headless true" in joined and "--browser.gatherUsageStats false" in joined
    assert "k" not in command  # the key travels in the environment, not the command line
    settings = Settings.from_args(command[command.index("--") + 1 :], {"SALESPIPE_API_KEY": "k"})
    assert settings == Settings(api_url="http://x:1", api_key="k")


# --- the tester's findings ----------------------------------------------------------------


def test_a_change_that_rounds_to_zero_is_neutral_and_never_negative_zero() -> None:
    margin = next(c for c in CARDS if c.key == "margin_pct")
    assert card_delta(margin, Decimal("-0.004"), None) == "0.00 pts"
    assert is_no_change(margin, Decimal("-0.004")) and not is_no_change(margin, Decimal("0.01"))
    assert card_delta(CARDS[0], Decimal("-0.001"), Decimal("-0.0001")) == "0.00% (0.00)"
    assert money(Decimal("-0.004")) == "0.00" and pct(Decimal("-0.001"), signed=True) == "0.00%"
    assert card_delta(CARDS[1], 0, 0) == "0.00% (0)"  # orders: no arrow, no sign


def test_the_kpi_table_and_its_exports_hold_numbers(shop: ApiServer) -> None:
    from openpyxl import load_workbook

    from salespipe.dashboard.exports import csv_bytes

    at = open_app(shop.url, period="custom", **{"from": "2025-01-20", "to": "2025-02-18"})
    kpis = api_kpis(shop, **{"from": "2025-01-20", "to": "2025-02-18"})
    table = view_tables(at)["KPIs"]
    assert list(table.columns) == ["kpi", "value", "comparison", "change", "change_pct", "unit"]
    net = table.set_index("kpi").loc["Net sales"]
    block = kpis["comparison"]["previous"]
    assert net["value"] == Decimal(str(kpis["net_sales"]))
    assert net["change"] == Decimal(str(block["change"]["net_sales"]))
    assert net["change_pct"] == Decimal(str(block["change_pct"]["net_sales"]))
    rows = csv_bytes(table).decode().splitlines()
    assert rows[1].startswith(f"Net sales,{kpis['net_sales']},")  # no separators, no text
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table, "KPIs"))).active
    assert sheet is not None
    assert isinstance(sheet["B2"].value, int | float) and sheet["B2"].number_format == "#,##0.00"


def test_bad_url_parameters_are_each_warned_about(shop: ApiServer) -> None:
    stores = shop.get("/api/v1/marts/store_variance").json()["rows"]
    region = stores[0]["region"]
    elsewhere = next(s["store_id"] for s in stores if s["region"] != region)
    at = open_app(shop.url, period="foo", category="Nope", compare="never")
    warned = " ".join(texts(at.warning))
    for item in ("period=foo", "category=Nope", "compare=never"):
        assert f"Ignored URL parameter {item}" in warned, warned
    assert dict(at.query_params) == {}
    at = open_app(shop.url, store="NOPE")
    assert any("store=NOPE: no such store" in t for t in texts(at.warning))
    at = open_app(shop.url, region=region, store=elsewhere)
    assert any(f"store={elsewhere}: not in region {region}" in t for t in texts(at.warning))
    assert dict(at.query_params) == {"region": region}
    at.run()  # said once, when the session starts
    assert not any("Ignored URL" in t for t in texts(at.warning))


def test_the_category_trend_is_monthly_on_a_month_axis(shop: ApiServer) -> None:
    from salespipe.dashboard import charts
    from salespipe.dashboard.screens.overview import MONTHLY_WHY

    at = open_app(shop.url, period="all", category="Grocery")
    assert "Net sales by month" in texts(at.subheader)
    assert MONTHLY_WHY in texts(at.caption)
    months = pd.DataFrame({"month": [date(2025, 2, 1)], "net_sales": [Decimal("10.00")]})
    fig = charts.trend(months, "month", "net_sales", "net sales", monthly=True)
    assert fig.layout.xaxis.dtick == "M1" and fig.layout.xaxis.tickformat == "%b %Y"
    assert fig.data[0].xperiod == "M1" and fig.data[0].xperiodalignment == "middle"
    assert tuple(fig.layout.xaxis.range) == ("2025-02-01", "2025-03-01")  # one month, labelled
    assert fig.data[0].width[0] > 20 * 86_400_000  # a lone month is a bar, not a hairline


def test_secondary_axes_have_round_ticks_covering_every_point() -> None:
    from salespipe.dashboard import charts

    abc = pd.DataFrame(
        {
            "pareto_rank": [1, 2],
            "abc_class": ["A", "C"],
            "product_id": ["P1", "P2"],
            "net_sales": [Decimal(90), Decimal(10)],
            "cumulative_share_pct": [Decimal(90), Decimal(100)],
        }
    )
    axis = charts.pareto(abc).layout.yaxis2
    assert (axis.tickmode, axis.tick0, axis.dtick) == ("linear", 0, 20)
    months = pd.DataFrame(
        {
            "month": [date(2025, m, 1) for m in (1, 2, 3, 4)],
            "net_sales": [Decimal(100)] * 4,
            "mom_pct": [None, Decimal("-17.3"), Decimal("3.4"), Decimal("21.7")],
        }
    )
    axis = charts.monthly_with_change(months, "net_sales", "net sales", "mom_pct").layout.yaxis2
    assert list(axis.tickvals) == [-20, -10, 0, 10, 20, 30]
    assert axis.range[0] < -17.3 and axis.range[1] > 21.7
    assert nice_ticks(0, 6377) == [0, 2000, 4000, 6000, 8000]
    assert [si_label(t) for t in nice_ticks(0, 702_118)] == ["0", "200k", "400k", "600k", "800k"]


def test_exports_say_which_filter_a_table_ignores(shop: ApiServer) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    region = shop.get("/api/v1/marts/store_variance").json()["rows"][0]["region"]
    at = open_app(shop.url, period="all", region=region)
    top = next(
        t
        for t in at.session_state["salespipe_page_context"].view.tables
        if t.name == "Top products"
    )
    assert top.note and "Not filtered by region" in top.note
    book = load_workbook(io.BytesIO(workbook_bytes([top], [("region", region)], [])))
    notes = [row[2] for row in book["View"].iter_rows(values_only=True) if len(row) > 2]
    assert any(n and "Not filtered by region" in n for n in notes)
    report = OverviewReport(
        title="salespipe overview",
        about=[("region", region)],
        kpis=[],
        trend=pd.DataFrame(columns=["day", "value"]),
        trend_label="Net sales by day",
        tables=[("Top products", top.frame.astype(str))],
        notes={"Top products": top.note},
    )
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(report))).pages)
    assert "Not filtered by region: top_products has no such dimension" in text


def test_the_currency_is_shown_from_the_settings_or_the_api(shop: ApiServer) -> None:
    at = open_app(shop.url, currency="EUR")
    labels = [m.label for m in at.metric]
    assert "Net sales (EUR)" in labels and "Orders" in labels
    assert any("Amounts in EUR" in t for t in texts(at.caption))
    # started with --api only: /ready says which currency the warehouse reports in
    currency = shop.get("/ready").json()["currency"]
    at = open_app(shop.url)
    assert f"Net sales ({currency})" in [m.label for m in at.metric]
    assert any(f"Amounts in {currency}" in t for t in texts(at.caption))


def test_the_trend_series_is_kept_in_the_url(shop: ApiServer) -> None:
    at = open_app(shop.url, "trends.py", period="all", grain="monthly")
    assert at.segmented_control(key="trend_grain").value == "Monthly"
    assert "Monthly series" in view_tables(at)
    assert dict(at.query_params) == {"period": "all", "grain": "monthly"}
    at.segmented_control(key="trend_grain").set_value("Daily").run()
    assert dict(at.query_params) == {"period": "all"}
    at.segmented_control(key="trend_grain").set_value("Monthly").run()
    assert dict(at.query_params) == {"period": "all", "grain": "monthly"}


def test_the_live_caption_says_what_the_snapshot_is() -> None:
    import time as _time

    from salespipe.dashboard.live import describe_snapshot

    us = 1_796_646_300_255_244
    stamp = _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(us / 1e6))
    assert describe_snapshot(f"120.{us}") == f"last file #120 · marts refreshed {stamp}"
    assert describe_snapshot(f"7.120.{us}") == f"last file #120 · marts refreshed {stamp}"
    assert describe_snapshot("0.0") == "no file loaded"
