"""The dashboard end to end in Debian's Chromium, driven by Playwright.

`salespipe dashboard` starts its own `salespipe serve` for the warehouse; the browser
opens every page, changes filters, checks the KPI cards against the API, downloads and
opens every kind of export, watches a load commit without reloading, and saves the
screenshots of docs/screenshots/.
"""

from __future__ import annotations

import io
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("streamlit", reason='the dashboard needs pip install "salespipe[dashboard]"')
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

from salespipe.dashboard.formatting import CARDS, parse_number  # noqa: E402

from .conftest import Project, line  # noqa: E402
from .servers import free_port, wait_for_port  # noqa: E402
from .test_api_support import make_project  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
LABELS = {c.label: c.key for c in CARDS} | {"Gross sales": "gross_sales"}
PAGES = {
    "": "Overview",
    "trends": "Trends",
    "products": "Products",
    "stores": "Stores",
    "customers": "Customers",
    "sales-team": "Sales team",
    "data-health": "Data health",
}
WAIT_MS = 30_000
CURRENCY = re.compile(r" \(USD\)$")  # the project's reporting currency, on money cards

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install -y chromium)"
)


@dataclass
class Dashboard:
    url: str
    api: str
    config: Path
    process: subprocess.Popen[bytes]
    discovery: Path

    def kpis(self, **params: str) -> dict[str, Any]:
        resp = httpx.get(self.api + "/api/v1/kpis", params=params, timeout=60)
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()
        return data


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """`salespipe dashboard` over a generated shop; no API runs, so it starts one."""
    config = make_project(
        tmp_path_factory.mktemp("dash-e2e"), days=75, rows_per_day=150, split="none"
    )
    port = free_port()
    log = config.parent / "dashboard.log"
    discovery = config.parent / "warehouse.duckdb.server.json"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "salespipe.cli.app",
                "--config",
                str(config),
                "dashboard",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=90, proc=proc)  # type: ignore[arg-type]
        info = json.loads(discovery.read_text())
        yield Dashboard(
            f"http://127.0.0.1:{port}", f"http://127.0.0.1:{info['port']}", config, proc, discovery
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    # Streamlit and the API the dashboard started stopped with it.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    deadline = time.monotonic() + 20
    while discovery.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not discovery.exists(), log.read_text()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    yield tab
    context.close()


def open_page(page: Any, url: str, title: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=WAIT_MS)
    settle(page)


def settle(page: Any) -> None:
    """Wait until Streamlit's run is over (its status widget gone) and charts are drawn."""
    page.wait_for_timeout(150)
    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=WAIT_MS)
    page.wait_for_timeout(150)


def cards(page: Any) -> dict[str, str]:
    """Card label (without its currency) -> shown value, read from the metric elements."""
    out = {}
    for metric in page.get_by_test_id("stMetric").all():
        label = metric.get_by_test_id("stMetricLabel").text_content().strip()
        out[CURRENCY.sub("", label)] = metric.get_by_test_id("stMetricValue").text_content().strip()
    return out


def mismatches(shown: dict[str, str], kpis: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """Cards whose value differs from the API's; every one of the 7 KPI cards must be shown."""
    wrong = []
    compared = 0
    for label, value in shown.items():
        key = LABELS.get(label)
        if key is None:
            continue
        compared += 1
        if parse_number(value) != Decimal(str(kpis[key])):
            wrong.append((label, value, kpis[key]))
    if compared != 7:
        wrong.append(("cards shown", str(compared), 7))
    return wrong


def assert_cards_equal(page: Any, kpis: dict[str, Any], timeout: float = 15) -> dict[str, str]:
    """The cards reach the API's values (a rerun briefly shows stale elements beside new)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cards(page)
        wrong = mismatches(shown, kpis)
        if not wrong:
            return shown
        assert time.monotonic() < deadline, wrong
        page.wait_for_timeout(200)


def caption_period(page: Any) -> tuple[str, str]:
    text = page.get_by_text(" compared with ").first.text_content()
    start, _, rest = text.partition(" to ")
    return start.strip(), rest.split(" compared with ")[0].strip()


def choose(page: Any, label: str, option: str, url_has: str) -> None:
    """Pick an option of a sidebar filter; the URL follows once the page has rerun."""
    label_text = page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has=label_text)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_function(f"location.search.includes({json.dumps(url_has)})", timeout=WAIT_MS)
    settle(page)


def download(page: Any, button: Any) -> bytes:
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    path = info.value.path()
    return Path(path).read_bytes()


def test_every_page_renders_exports_its_view_and_is_captured(
    dashboard: Dashboard, page: Any
) -> None:
    from openpyxl import load_workbook

    SHOTS.mkdir(parents=True, exist_ok=True)
    for path, title in PAGES.items():
        # The overview as a first visit shows it; the other pages over all the months.
        open_page(page, f"{dashboard.url}/{path}" + ("?period=all" if path else ""), title)
        assert page.get_by_test_id("stException").count() == 0, path
        assert page.locator("[data-testid=stAlertContentError]").count() == 0, path
        if path != "data-health":
            page.locator(".js-plotly-plot .svg-container").first.wait_for(timeout=WAIT_MS)
        # The whole view as one workbook: the filters, a sheet per table, the definitions.
        button = page.get_by_test_id("stSidebar").get_by_test_id("stDownloadButton")
        book = load_workbook(io.BytesIO(download(page, button)))
        assert book.sheetnames[0] == "View" and book.sheetnames[-1] == "KPI definitions"
        assert len(book.sheetnames) >= 3, (path, book.sheetnames)
        settings = {row[0]: row[1] for row in book["View"].iter_rows(values_only=True)}
        assert settings["page"] == title and settings["snapshot"]
        assert str(settings["period"]).startswith("All time" if path else "Last 30 days")
        # The page scrolls inside the app: grow the window to capture it whole.
        height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": 1440, "height": min(max(height, 1000), 4000)})
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / f"{path or 'overview'}.png"))
        page.set_viewport_size({"width": 1440, "height": 1000})


def test_trends_shows_hours_and_exports_them(dashboard: Dashboard, page: Any) -> None:
    from openpyxl import load_workbook

    open_page(page, f"{dashboard.url}/trends?period=all", "Trends")
    main = page.get_by_test_id("stMain")
    for heading in ("By hour", "By weekday and hour"):
        main.get_by_role("heading", name=heading, exact=True).wait_for(timeout=WAIT_MS)
    # the weekday x hour heatmap is drawn: 7 weekdays by 24 hours
    heatmap = main.locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer"))
    heatmap.first.wait_for(timeout=WAIT_MS)
    ticks = {t.text_content() for t in heatmap.first.locator(".ytick text").all()}
    assert ticks == {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
    assert len(heatmap.first.locator(".xtick text").all()) >= 12
    # the hour tables: in the view's workbook, and each as CSV from its expander
    button = page.get_by_test_id("stSidebar").get_by_test_id("stDownloadButton")
    book = load_workbook(io.BytesIO(download(page, button)))
    assert {"By hour", "By weekday and hour"} <= set(book.sheetnames)
    rows = list(book["By hour"].iter_rows(values_only=True))
    assert rows[0][:3] == ("hour", "days", "net_sales") and len(rows) == 25
    hours = httpx.get(dashboard.api + "/api/v1/marts/sales_hourly", params={"limit": 10_000})
    total = sum(Decimal(str(r["net_sales"])) for r in hours.json()["rows"])
    assert hours.json()["total"] <= 10_000
    assert sum(Decimal(str(r[2])) for r in rows[1:]) == total
    expander = main.get_by_test_id("stExpander").filter(has_text="Data").last
    expander.locator("summary").click()
    settle(page)
    csv_button = main.get_by_test_id("stDownloadButton").filter(has_text="CSV").last
    header = download(page, csv_button).decode("utf-8").splitlines()[0]
    assert header.startswith("weekday,00,01")


def test_cards_equal_the_api_as_filters_change(dashboard: Dashboard, page: Any) -> None:
    open_page(page, dashboard.url, "Overview")
    start, end = caption_period(page)
    assert_cards_equal(page, dashboard.kpis(**{"from": start, "to": end}))

    stores = httpx.get(dashboard.api + "/api/v1/marts/store_variance").json()["rows"]
    region = sorted({s["region"] for s in stores})[-1]
    choose(page, "Region", region, f"region={region}")
    choose(page, "Category", "Grocery", "category=Grocery")
    choose(page, "Period", "Last 90 days", "period=90d")
    assert "region=" in page.url and "category=Grocery" in page.url and "period=90d" in page.url
    start, end = caption_period(page)
    expected = dashboard.kpis(**{"from": start, "to": end, "region": region, "category": "Grocery"})
    shown = assert_cards_equal(page, expected)

    # The URL is the view: opened elsewhere, it shows the same numbers and filters.
    bookmark = page.url
    other = page.context.new_page()
    open_page(other, bookmark, "Overview")
    assert assert_cards_equal(other, expected) == shown
    other.get_by_test_id("stSidebarNav").get_by_text("Stores").click()
    other.get_by_role("heading", name="Stores", exact=True).wait_for(timeout=WAIT_MS)
    # Switching pages keeps the filters in the URL.
    other.wait_for_function("location.search.includes('category=Grocery')", timeout=WAIT_MS)
    other.close()


def test_cards_are_never_cut_at_common_widths(dashboard: Dashboard, page: Any) -> None:
    """Values and labels wrap or shrink with their card: no ellipsis hides a digit."""
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        open_page(page, f"{dashboard.url}/?period=all", "Overview")
        assert_cards_equal(page, dashboard.kpis())
        labels = [m.text_content() for m in page.get_by_test_id("stMetricLabel").all()]
        assert "Net sales (USD)" in [label.strip() for label in labels]
        cut = page.evaluate(
            """() => [...document.querySelectorAll(
                '[data-testid=stMetricValue], [data-testid=stMetricValue] *, '
                + '[data-testid=stMetricLabel], [data-testid=stMetricLabel] *, '
                + '[data-testid=stMain] [data-testid=stDownloadButton] button *')]
              .filter(e => e.scrollWidth > e.clientWidth + 1)
              .map(e => e.textContent)"""
        )
        assert cut == [], (width, cut)
        for metric in page.get_by_test_id("stMetric").all():
            card, value = metric.bounding_box(), metric.get_by_test_id("stMetricValue")
            inner = value.bounding_box()
            assert inner["x"] + inner["width"] <= card["x"] + card["width"], value.text_content()


def test_the_api_docs_page_renders_offline(dashboard: Dashboard, page: Any) -> None:
    """/docs draws every operation from the server's own assets (no CDN, no internet),
    with a Swagger UI that reads OpenAPI 3.1."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(dashboard.api + "/docs")
    page.wait_for_selector(".opblock", timeout=WAIT_MS)
    assert page.locator(".opblock").count() >= 13
    assert page.get_by_text("Unable to render").count() == 0
    assert all(url.startswith(dashboard.api) for url in requested), requested


def test_the_dashboard_asks_nothing_of_the_internet(dashboard: Dashboard, page: Any) -> None:
    """Offline, nothing is missing: every request of a page stays on this machine."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    open_page(page, f"{dashboard.url}/?period=all", "Overview")
    assert_cards_equal(page, dashboard.kpis())
    away = [u for u in requested if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert away == []


def test_overview_exports_download_and_open(dashboard: Dashboard, page: Any) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    open_page(page, f"{dashboard.url}/?period=all", "Overview")
    net_sales = assert_cards_equal(page, dashboard.kpis())["Net sales"]
    main = page.get_by_test_id("stMain")
    pdf_button = main.get_by_test_id("stDownloadButton").filter(has_text="PDF report")
    pdf = PdfReader(io.BytesIO(download(page, pdf_button)))
    assert len(pdf.pages) >= 2
    assert net_sales in pdf.pages[0].extract_text()

    # Tables are drawn when their expander opens (each opening reruns the page).
    expanders = main.get_by_test_id("stExpander")
    count = expanders.count()
    assert count >= 4
    for i in range(count):
        expanders.nth(i).locator("summary").click()
        settle(page)
    main.get_by_test_id("stDataFrame").nth(count - 1).wait_for(timeout=WAIT_MS)
    csv_buttons = main.get_by_test_id("stDownloadButton").filter(has_text="CSV").all()
    xlsx_buttons = main.get_by_test_id("stDownloadButton").filter(has_text="Excel").all()
    assert len(csv_buttons) == len(xlsx_buttons) >= 4
    for button in csv_buttons:
        header = download(page, button).decode("utf-8").splitlines()[0]
        assert "," in header
    for button in xlsx_buttons:
        book = load_workbook(io.BytesIO(download(page, button)))
        assert book.worksheets[0].max_row >= 2


def test_a_committed_load_shows_without_reloading(dashboard: Dashboard, page: Any) -> None:
    open_page(page, f"{dashboard.url}/?period=all", "Overview")
    before = assert_cards_equal(page, dashboard.kpis())["Net sales"]
    project = Project(dashboard.config.parent)
    rows = [line(f"LIVE{i}", 1, sold_at="2025-03-20 12:00:00", price="1000.00") for i in range(3)]
    project.write_csv("late.csv", rows)
    # A load through the server that owns the warehouse (what `salespipe run` does).
    token = json.loads(dashboard.discovery.read_text())["token"]
    job = httpx.post(
        dashboard.api + "/api/v1/runs",
        params={"wait": "true"},
        headers={"X-API-Key": token},
        timeout=120,
    ).json()
    assert job["state"] == "ok", job
    committed = time.monotonic()
    expected = dashboard.kpis()  # all time, as the page shows
    assert expected["net_sales"] != parse_number(before)
    shown = before
    while time.monotonic() - committed < 15:
        shown = cards(page).get("Net sales", before)
        if shown != before:
            break
        page.wait_for_timeout(200)
    assert shown != before, "the page did not update within 15 s"
    assert_cards_equal(page, expected)
