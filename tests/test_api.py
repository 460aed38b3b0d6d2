"""The REST API over real HTTP: a `salespipe serve` process on a free loopback port.

Every endpoint, the one error shape (pinned), injection attempts in every parameter,
the CLI reading through the server, and schemathesis over the published OpenAPI. The
tests marked `on_both_engines` run over a DuckDB and a PostgreSQL warehouse holding the
same files, and `test_duckdb_and_postgres_serve_identical_bodies` compares the two.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from salespipe.config import load_config
from salespipe.marts import MART_NAMES
from salespipe.warehouse import open_warehouse

from .conftest import ENGINES, cli, warehouse_for
from .test_api_support import ApiServer, assert_error, make_project, serve


class Shops:
    """The generated project of this module on each engine, loaded once, read directly
    for the expected values, then served; each made on first use."""

    def __init__(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        request: pytest.FixtureRequest,
        stack: ExitStack,
    ) -> None:
        self._tmp = tmp_path_factory
        self._request = request
        self._stack = stack
        self._projects: dict[str, Path] = {}
        self._facts: dict[str, dict[str, Any]] = {}
        self._servers: dict[str, ApiServer] = {}

    def project(self, engine: str) -> Path:
        if engine not in self._projects:
            self._projects[engine] = make_project(
                self._tmp.mktemp(f"api-{engine}"), warehouse=warehouse_for(engine, self._request)
            )
        return self._projects[engine]

    def facts(self, engine: str) -> dict[str, Any]:
        if engine not in self._facts:
            assert engine not in self._servers  # DuckDB: read before the server owns it
            self._facts[engine] = read_facts(self.project(engine))
        return self._facts[engine]

    def server(self, engine: str) -> ApiServer:
        if engine not in self._servers:
            self.facts(engine)
            self._servers[engine] = self._stack.enter_context(serve(self.project(engine)))
        return self._servers[engine]


@pytest.fixture(scope="module")
def shops(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Shops]:
    with ExitStack() as stack:
        yield Shops(tmp_path_factory, request, stack)


@pytest.fixture(scope="module")
def api_engine(request: pytest.FixtureRequest) -> str:
    """DuckDB, unless a test is marked `on_both_engines`."""
    return str(getattr(request, "param", "duckdb"))


on_both_engines = pytest.mark.parametrize("api_engine", ENGINES, indirect=True, scope="module")


@pytest.fixture
def project(shops: Shops, api_engine: str) -> Path:
    return shops.project(api_engine)


def cli_kpis(config: Path, *args: str) -> dict[str, Any]:
    result = cli("--config", config, "kpi", "--json", *args)
    assert result.code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def read_facts(project: Path) -> dict[str, Any]:
    """What the warehouse holds, read directly (before a server owns a DuckDB file)."""
    with open_warehouse(load_config(project), read_only=True) as wh:
        con = wh.con
        store, region = con.execute(
            "SELECT store_id, region FROM dim_store WHERE region IS NOT NULL "
            "ORDER BY store_id LIMIT 1"
        ).fetchall()[0]
        category = con.execute(
            "SELECT category FROM dim_product WHERE category IS NOT NULL ORDER BY 1 LIMIT 1"
        ).fetchall()[0][0]
        region_stores = {
            r[0]
            for r in con.execute(
                "SELECT store_id FROM dim_store WHERE region = ?", [region]
            ).fetchall()
        }
        fact_rows = con.execute("SELECT count(*) FROM fact_sales").fetchall()[0][0]
        first, last = con.execute(
            "SELECT min(sale_date), max(sale_date) FROM fact_sales"
        ).fetchall()[0]
    filters = {
        "all": {},
        "period": {"from": "2025-01-03", "to": "2025-01-04"},
        "store": {"store": store},
        "region": {"region": region, "from": "2025-01-02"},
        "category": {"category": category, "to": "2025-01-05"},
    }
    kpis = {
        name: cli_kpis(project, *[f"--{k}={v}" for k, v in params.items()])
        for name, params in filters.items()
    }
    compared = cli_kpis(project, "--from=2025-01-03", "--to=2025-01-04", "--compare=all")
    return {
        "store": store,
        "region": region,
        "category": category,
        "region_stores": region_stores,
        "fact_rows": fact_rows,
        "first": first,
        "last": last,
        "filters": filters,
        "kpis": kpis,
        "compared": compared,
    }


@pytest.fixture
def facts(shops: Shops, api_engine: str) -> dict[str, Any]:
    return shops.facts(api_engine)


@pytest.fixture
def server(shops: Shops, api_engine: str) -> ApiServer:
    return shops.server(api_engine)


@on_both_engines
def test_health_and_ready(server: ApiServer) -> None:
    assert server.get("/health").json() == {"status": "ok"}
    ready = server.get("/ready").json()
    assert ready["status"] == "ready" and ready["run_in_progress"] is False
    assert ready["snapshot"] == server.get("/api/v1/kpis").headers["x-salespipe-snapshot"]


@on_both_engines
@pytest.mark.parametrize("name", ["all", "period", "store", "region", "category"])
def test_kpis_are_what_kpi_json_prints(server: ApiServer, facts: dict[str, Any], name: str) -> None:
    body = server.get("/api/v1/kpis", **facts["filters"][name]).json()
    comparison = body.pop("comparison")
    assert body == facts["kpis"][name]
    assert set(comparison) == {"previous", "mtd", "yoy"}


@on_both_engines
def test_kpis_comparisons_are_what_kpi_compare_prints(
    server: ApiServer, facts: dict[str, Any]
) -> None:
    period = {"from": "2025-01-03", "to": "2025-01-04"}
    body = server.get("/api/v1/kpis", **period).json()
    assert body == facts["compared"]
    previous = body["comparison"]["previous"]
    assert (previous["previous"]["from"], previous["previous"]["to"]) == (
        "2025-01-01",
        "2025-01-02",
    )
    expected = 100 * (body["net_sales"] - previous["previous"]["net_sales"])
    expected /= abs(previous["previous"]["net_sales"])
    assert previous["change_pct"]["net_sales"] == pytest.approx(expected, abs=0.01)
    only = server.get("/api/v1/kpis", **period, compare="yoy,previous").json()["comparison"]
    assert list(only) == ["yoy", "previous"]
    assert server.get("/api/v1/kpis", **period, compare="none").json()["comparison"] == {}
    assert_error(server.get("/api/v1/kpis", compare="lastweek"), 400, "InvalidParameter", "compare")


@on_both_engines
def test_snapshot_etag_and_304(server: ApiServer) -> None:
    first = server.get("/api/v1/kpis", store="S01")
    etag = first.headers["etag"]
    assert etag == f'"{first.headers["x-salespipe-snapshot"]}"'
    again = server.get("/api/v1/kpis", headers={"If-None-Match": etag}, store="S01")
    assert again.status_code == 304 and again.content == b""
    assert server.get("/api/v1/marts").headers["etag"] == etag  # one snapshot for all


@on_both_engines
def test_marts_catalog(server: ApiServer) -> None:
    marts = {m["name"]: m for m in server.get("/api/v1/marts").json()["marts"]}
    assert list(marts) == list(MART_NAMES)
    daily = marts["sales_daily"]
    assert daily["available"] and daily["status"] == "built" and daily["rows"] > 0
    assert daily["grain"] == ["sale_date", "store_id"]
    assert {"from", "to", "store", "region"} <= set(daily["filters"])
    assert "product" not in daily["filters"]
    assert {c["name"] for c in daily["columns"]} >= {"sale_date", "store_id", "net_sales"}
    assert "from" not in marts["customer_rfm"]["filters"]


def rows_of(server: ApiServer, name: str, **params: Any) -> dict[str, Any]:
    resp = server.get(f"/api/v1/marts/{name}", **params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@on_both_engines
def test_mart_filters_order_and_pages(server: ApiServer, facts: dict[str, Any]) -> None:
    everything = rows_of(server, "sales_daily", limit=10000)
    assert everything["total"] == len(everything["rows"]) > 10
    # the mart reconciles with the KPIs through the API
    net = sum(r["net_sales"] for r in everything["rows"])
    assert net == pytest.approx(server.get("/api/v1/kpis").json()["net_sales"], abs=0.05)

    period = rows_of(server, "sales_daily", **{"from": "2025-01-02", "to": "2025-01-03"})
    assert {r["sale_date"] for r in period["rows"]} == {"2025-01-02", "2025-01-03"}
    store = rows_of(server, "sales_daily", store=facts["store"])
    assert store["rows"] and {r["store_id"] for r in store["rows"]} == {facts["store"]}
    region = rows_of(server, "sales_daily", region=facts["region"])
    assert {r["store_id"] for r in region["rows"]} == facts["region_stores"]

    ordered = rows_of(server, "sales_daily", order_by="-net_sales,store_id", limit=20)["rows"]
    values = [r["net_sales"] for r in ordered]
    assert values == sorted(values, reverse=True)
    default = rows_of(server, "sales_daily", limit=10)["rows"]
    assert [(r["sale_date"], r["store_id"]) for r in default] == sorted(
        (r["sale_date"], r["store_id"]) for r in default
    )  # the grain orders by default
    page1 = rows_of(server, "sales_daily", limit=5, offset=0)
    page2 = rows_of(server, "sales_daily", limit=5, offset=5)
    both = rows_of(server, "sales_daily", limit=10)
    assert page1["rows"] + page2["rows"] == both["rows"]
    assert (page2["limit"], page2["offset"], page2["total"]) == (5, 5, everything["total"])

    # month marts keep the month that contains `from`
    monthly = rows_of(server, "sales_monthly", **{"from": "2025-01-15"})
    assert [r["month"] for r in monthly["rows"]] == ["2025-01-01"]
    # category reaches product-grain marts through dim_product
    top = rows_of(server, "top_products", category=facts["category"], limit=10000)
    assert top["rows"] and {r["category"] for r in top["rows"]} == {facts["category"]}


@on_both_engines
def test_mart_formats(server: ApiServer) -> None:
    import openpyxl
    import pyarrow.parquet as pq

    as_json = rows_of(server, "sales_daily", limit=30)
    resp = server.get("/api/v1/marts/sales_daily", limit=30, format="csv")
    assert resp.headers["content-type"].startswith("text/csv")
    assert 'filename="sales_daily.csv"' in resp.headers["content-disposition"]
    again = server.get("/api/v1/marts/sales_daily", limit=30, format="csv")  # from the cache
    assert again.content == resp.content
    for header in ("content-type", "content-disposition", "etag", "x-salespipe-snapshot"):
        assert again.headers[header] == resp.headers[header]
    records = list(csv.DictReader(io.StringIO(resp.text)))
    assert [(r["sale_date"], r["store_id"]) for r in records] == [
        (r["sale_date"], r["store_id"]) for r in as_json["rows"]
    ]
    assert float(records[0]["net_sales"]) == as_json["rows"][0]["net_sales"]

    resp = server.get("/api/v1/marts/sales_daily", limit=30, format="parquet")
    table = pq.read_table(io.BytesIO(resp.content))
    assert table.num_rows == 30 and table.column_names[:2] == ["sale_date", "store_id"]

    resp = server.get("/api/v1/marts/sales_daily", limit=30, format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    assert sheet is not None and sheet.max_row == 31
    assert [c.value for c in sheet[1]][:2] == ["sale_date", "store_id"]

    # pages beyond the cache size stream
    with httpx.stream("GET", server.url + "/api/v1/marts/sales_daily?limit=10000") as big:
        assert big.headers.get("transfer-encoding") == "chunked"
        body = b"".join(big.iter_bytes())
    assert (
        httpx.Response(200, content=body).json()["rows"]
        == rows_of(server, "sales_daily", limit=10000)["rows"]
    )
    with httpx.stream("GET", server.url + "/api/v1/marts/sales_daily?limit=9999&format=csv") as big:
        assert big.headers.get("transfer-encoding") == "chunked"
        assert len(list(csv.reader(io.StringIO(big.read().decode())))) == as_json["total"] + 1


BAD_REQUESTS = [
    ("/api/v1/kpis", {"from": "2025-02-30"}, 400, "InvalidParameter", "from"),
    ("/api/v1/kpis", {"to": "yesterday"}, 400, "InvalidParameter", "to"),
    ("/api/v1/kpis", {"from": "2025-02-02", "to": "2025-02-01"}, 400, "InvalidParameter", "from"),
    ("/api/v1/kpis", {"stor": "S01"}, 400, "InvalidParameter", "stor"),
    ("/api/v1/kpis", {"from": "0549-12-20"}, 400, "InvalidParameter", "from"),
    ("/api/v1/marts/sales_daily", {"to": "9999-12-31"}, 400, "InvalidParameter", "to"),
    ("/api/v1/kpis", {"store": "x" * 201}, 400, "InvalidParameter", "store"),
    ("/api/v1/kpis", {"store": "NOPE"}, 400, "InvalidParameter", "store"),
    ("/api/v1/kpis", {"region": "Atlantis", "compare": "none"}, 400, "InvalidParameter", "region"),
    ("/api/v1/kpis", {"category": "Nothing"}, 400, "InvalidParameter", "category"),
    ("/api/v1/marts/nope", {}, 404, "NotFound", "name"),
    ("/api/v1/marts/sales_daily", {"order_by": "bogus"}, 400, "InvalidParameter", "order_by"),
    ("/api/v1/marts/sales_daily", {"order_by": "-"}, 400, "InvalidParameter", "order_by"),
    ("/api/v1/marts/sales_daily", {"limit": 0}, 400, "InvalidParameter", "limit"),
    ("/api/v1/marts/sales_daily", {"limit": 10001}, 400, "InvalidParameter", "limit"),
    ("/api/v1/marts/sales_daily", {"limit": "ten"}, 400, "InvalidParameter", "limit"),
    ("/api/v1/marts/sales_daily", {"offset": -1}, 400, "InvalidParameter", "offset"),
    ("/api/v1/marts/sales_daily", {"format": "pdf"}, 400, "InvalidParameter", "format"),
    ("/api/v1/marts/sales_daily", {"product": "P1"}, 400, "InvalidParameter", "product"),
    ("/api/v1/marts/customer_rfm", {"from": "2025-01-01"}, 400, "InvalidParameter", "from"),
    ("/api/v1/quarantine", {"limit": 10001}, 400, "InvalidParameter", "limit"),
    ("/api/v1/runs/jobs/unknown", {}, 404, "NotFound", "job_id"),
    ("/api/v1/nothing", {}, 404, "NotFound", None),
]


@on_both_engines
@pytest.mark.parametrize(("path", "params", "status", "error", "field"), BAD_REQUESTS)
def test_one_error_shape(
    server: ApiServer, path: str, params: dict[str, Any], status: int, error: str, field: str | None
) -> None:
    body = assert_error(server.get(path, **params), status, error, field)
    if (
        error == "InvalidParameter"
        and field in ("from", "to")
        and "is not a date" in body["message"]
    ):
        assert body["hint"] == "use YYYY-MM-DD"


@on_both_engines
def test_one_error_shape_for_bodies_and_methods(server: ApiServer) -> None:
    url = server.url + "/api/v1/runs"
    assert_error(httpx.post(url, json={"source": "nope"}), 400, "InvalidParameter", "source")
    assert_error(httpx.post(url, json={"source": 5}), 400, "InvalidParameter", "source")
    assert_error(httpx.post(url, json={"sauce": "pos"}), 400, "InvalidParameter", "sauce")
    assert_error(
        httpx.post(url, content=b"{not json", headers={"content-type": "application/json"}),
        400,
        "InvalidParameter",
        None,
    )
    assert_error(httpx.delete(url), 405, "MethodNotAllowed", None)


@on_both_engines
def test_ledger_endpoints(server: ApiServer, facts: dict[str, Any]) -> None:
    runs = server.get("/api/v1/runs").json()
    assert runs["runs"][0]["command"] == "run" and runs["running_job"] is None
    files = server.get("/api/v1/files").json()["files"]
    assert files and all(f["reconciles"] for f in files)
    assert sum(f["rows_loaded"] for f in files) == facts["fact_rows"]
    quarantined = sum(f["rows_quarantined"] for f in files)
    assert quarantined > 0
    page = server.get("/api/v1/quarantine", limit=2).json()
    assert len(page["rows"]) == 2 and page["has_more"] is True
    row = page["rows"][0]
    assert row["reasons"] and row["raw"] and row["line"] and row["file"].endswith(".csv")
    reason = row["reasons"][0]
    by_reason = server.get("/api/v1/quarantine", reason=reason, limit=10000).json()["rows"]
    assert by_reason and all(reason in r["reasons"] for r in by_reason)
    nxt = server.get("/api/v1/quarantine", limit=2, offset=2).json()["rows"]
    assert nxt[0] != row
    alerts = server.get("/api/v1/alerts").json()
    assert alerts["alerts"] == [] or all("severity" in a for a in alerts["alerts"])
    assert (alerts["limit"], alerts["offset"]) == (50, 0)
    assert_error(server.get("/api/v1/alerts", state="dismissed"), 400, "InvalidParameter", "state")
    status = server.get("/api/v1/status").json()
    assert status["fact_rows"] == facts["fact_rows"]


def test_alerts_are_what_monitor_list_prints(tmp_path: Path) -> None:
    from salespipe.api.routes.ledger import alert_rows
    from salespipe.monitor import events
    from salespipe.warehouse.duckdb import open_duckdb

    assert alert_rows(duckdb.connect(), "all", 10, 0) == (False, [])
    with open_duckdb(tmp_path / "w.duckdb") as wh:
        con = wh.con
        for i, (state, day) in enumerate((("resolved", "2025-01-02"), ("open", None)), 1):
            con.execute(
                "INSERT INTO monitor_events (id, kind, severity, subject, day, observed, "
                "expected, message, state, opened_at, last_seen_at, key) VALUES "
                "(?, 'volume', 'warning', 'pos', ?, 3, 10.5, 'low', ?, now(), now(), ?)",
                [i, day, state, f"k{i}"],
            )
        available, rows = alert_rows(con, "all", 10, 0)
        assert available and [r["id"] for r in rows] == [2, 1]
        assert rows == [
            e.to_dict() for e in events(con, states=("open", "acknowledged", "resolved"))
        ]
        assert [r["id"] for r in alert_rows(con, "active", 10, 0)[1]] == [2]
        assert [r["id"] for r in alert_rows(con, "all", 1, 1)[1]] == [1]


def test_cli_reads_through_the_server(
    server: ApiServer, project: Path, facts: dict[str, Any]
) -> None:
    def served(route: str) -> float:
        text = server.get("/metrics").text
        prefix = f'salespipe_http_requests_total{{method="GET",route="{route}",status="200"}} '
        return sum(
            float(line.removeprefix(prefix))
            for line in text.splitlines()
            if line.startswith(prefix)
        )

    before = served("/api/v1/kpis"), served("/api/v1/status")
    assert cli_kpis(project) == facts["kpis"]["all"]
    args = [f"--{k}={v}" for k, v in facts["filters"]["region"].items()]
    assert cli_kpis(project, *args) == facts["kpis"]["region"]
    compare = cli_kpis(project, "--from=2025-01-03", "--to=2025-01-04", "--compare=all")
    assert compare == facts["compared"]
    status = cli("--config", project, "status", "--json")
    assert status.code == 0 and status.json()["fact_rows"] == facts["fact_rows"]
    assert cli("--config", project, "status").code == 0
    assert (served("/api/v1/kpis"), served("/api/v1/status")) == (before[0] + 3, before[1] + 2)


@on_both_engines
def test_metrics(server: ApiServer) -> None:
    server.get("/api/v1/marts/sales_daily", limit=3)
    server.get("/api/v1/marts/nope")
    text = server.get("/metrics").text
    assert (
        'salespipe_http_requests_total{method="GET",route="/api/v1/marts/{name}",status="200"}'
        in text
    )
    assert (
        'salespipe_http_requests_total{method="GET",route="/api/v1/marts/{name}",status="404"}'
        in text
    )
    assert (
        'salespipe_http_request_duration_seconds_bucket{le="0.05",method="GET",route="/api/v1/marts/{name}"}'
        in text
    )
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    assert float(lines["salespipe_rows_loaded_total"]) > 0
    assert float(lines["salespipe_rows_quarantined_total"]) > 0
    assert lines['salespipe_last_run_status{status="ok"}'] in ("1.0", "0.0")
    assert float(lines["salespipe_last_run_age_seconds"]) >= 0
    assert "/api/v1/marts/nope" not in text  # routes are templates, never raw paths


PAYLOADS = [
    "'; DROP TABLE fact_sales; --",
    '" OR 1=1 --',
    "S01' OR '1'='1",
    "1; DELETE FROM files",
    "net_sales; DROP TABLE fact_sales",
    "-net_sales DESC, (SELECT 1)",
    "sale_date) UNION SELECT * FROM files --",
    "ünïcødé ✓ 日本語 🚀",
    "\x00",
    "a\x00b",
    "\u202e\ufeff",
    "../../etc/passwd",
    "%s%n%x",
    "{name}",
    "${jndi:ldap://x}",
    "-1",
    "1e309",
    "99999999999999999999999999",
    "",
    " ",
    "'",
    '"',
    "\\",
    "null",
    "2025-01-01'; --",
    "2025-13-45",
]
QUERY_TARGETS = (
    [("/api/v1/kpis", p) for p in ("from", "to", "store", "region", "category", "compare")]
    + [
        ("/api/v1/marts/sales_daily", p)
        for p in (
            "from",
            "to",
            "store",
            "region",
            "category",
            "product",
            "salesperson",
            "order_by",
            "limit",
            "offset",
            "format",
        )
    ]
    + [("/api/v1/marts/top_products", p) for p in ("product", "category", "order_by")]
    + [
        ("/api/v1/runs", "limit"),
        ("/api/v1/files", "offset"),
        ("/api/v1/alerts", "limit"),
    ]
    + [("/api/v1/quarantine", p) for p in ("source", "reason", "file", "include_replayed", "limit")]
)


def data_fingerprint(server: ApiServer) -> tuple[Any, ...]:
    kpis = server.get("/api/v1/kpis").json()
    marts = server.get("/api/v1/marts").json()["marts"]
    status = server.get("/api/v1/status").json()
    quarantine = server.get("/api/v1/quarantine", limit=10000, include_replayed=True).json()
    return (
        kpis["net_sales"],
        kpis["lines"],
        status["fact_rows"],
        len(status["files"]),
        len(quarantine["rows"]),
        tuple((m["name"], m["available"], m["rows"]) for m in marts),
    )


@on_both_engines
def test_injection_never_5xx_nor_changes_data(server: ApiServer) -> None:
    before = data_fingerprint(server)
    statuses: dict[int, int] = {}
    with server.client() as client:
        for payload in PAYLOADS:
            for path, param in QUERY_TARGETS:
                params = {param: payload}
                if path == "/api/v1/kpis" and param != "compare":
                    params["compare"] = "none"  # each comparison is more queries, not more cover
                resp = client.get(path, params=params)
                assert resp.status_code < 500, (path, param, payload, resp.text)
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
                if resp.status_code >= 400:
                    assert set(resp.json()) == {
                        "error",
                        "message",
                        "hint",
                        "file",
                        "line",
                        "key",
                        "field",
                    }
            quoted = urllib.parse.quote(payload, safe="")
            for path in (f"/api/v1/marts/{quoted}", f"/api/v1/runs/jobs/{quoted}"):
                resp = client.get(path)
                assert resp.status_code < 500, (path, resp.text)
            resp = client.post("/api/v1/runs", json={"source": payload})
            assert resp.status_code == 400, resp.text
            resp = client.get("/api/v1/kpis", headers={"X-API-Key": payload.encode().hex()})
            assert resp.status_code == 200  # no keys configured: the header is ignored
    assert statuses.get(200, 0) > 100 and statuses.get(400, 0) > 100
    assert data_fingerprint(server) == before


def test_non_loopback_bind_refused_without_keys(project: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.10", "example.com", "::"):
        result = cli("--config", project, "serve", "--host", host, "--port", "0")
        assert result.code == 2, result
        assert "refusing to listen on" in result.stderr and "api.keys" in result.stderr


def test_a_second_server_is_refused(server: ApiServer, project: Path) -> None:
    result = cli("--config", project, "serve", "--port", "0")
    assert result.code == 1 and f"PID {server.info['pid']}" in result.stderr


@on_both_engines
def test_dates_before_first_sale(server: ApiServer) -> None:
    body = server.get("/api/v1/kpis", **{"from": "1999-01-01", "to": "1999-01-31"}).json()
    assert body["net_sales"] == 0 and body["lines"] == 0
    assert body["comparison"]["previous"]["previous"]["to"] == "1998-12-31"
    assert body["comparison"]["previous"]["change_pct"]["net_sales"] is None
    assert date.fromisoformat(body["from"]) == date(1999, 1, 1)


def test_every_route_and_error_is_documented(server: ApiServer) -> None:
    from salespipe.api import errors

    doc = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    for path, operations in server.get("/openapi.json").json()["paths"].items():
        for method in operations:
            assert f"`{method.upper()} {path}`" in doc, f"{method.upper()} {path} is undocumented"
    for name in dir(errors):
        cls = getattr(errors, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, errors.ApiError)
            and cls is not errors.ApiError
        ):
            assert f"`{name}`" in doc, f"error {name} is undocumented"


def test_cli_run_errors_through_the_server_keep_their_exit_status(
    server: ApiServer, project: Path
) -> None:
    result = cli("--config", project, "run", "--source", "nope", "--json")
    assert result.code == 2 and "no source named 'nope'" in result.stderr
    ran = cli("--config", project, "run", "--json")  # nothing new landed
    assert ran.code == 0 and ran.json()["files"] == []
    runs = server.get("/api/v1/runs", limit=1).json()["runs"]
    assert runs[0]["run_id"] == ran.json()["run_id"]  # the server ran it


# -- PostgreSQL: the same answers; the CLI never goes through the server ---------------

VOLATILE_CATALOG_KEYS = ("refreshed_at", "last_seconds")  # when and how fast: engine's own


def test_duckdb_and_postgres_serve_identical_bodies(shops: Shops) -> None:
    """The same files loaded into DuckDB and PostgreSQL: the same JSON for KPIs (filters,
    every comparison) and every mart, whole and filtered; the same CSV and Parquet."""
    duck, pg = shops.server("duckdb"), shops.server("postgres")
    facts = shops.facts("duckdb")

    def same(path: str, drop: tuple[str, ...] = ("snapshot",), **params: Any) -> Any:
        bodies = []
        for server in (duck, pg):
            resp = server.get(path, **params)
            assert resp.status_code == 200, (server.url, path, params, resp.text)
            body = resp.json()
            for key in drop:
                body.pop(key, None)
            bodies.append(body)
        assert bodies[0] == bodies[1], (path, params)
        return bodies[0]

    for params in [*facts["filters"].values(), {"from": "2025-01-03", "to": "2025-01-04"}]:
        same("/api/v1/kpis", **params)
    same("/api/v1/kpis", **{"from": "2025-01-05", "to": "2025-01-06", "compare": "yoy,mtd"})
    catalogs = [
        [
            {k: v for k, v in m.items() if k not in VOLATILE_CATALOG_KEYS}
            for m in s.get("/api/v1/marts").json()["marts"]
        ]
        for s in (duck, pg)
    ]
    assert catalogs[0] == catalogs[1]
    for name in MART_NAMES:
        whole = same(f"/api/v1/marts/{name}", limit=10000)
        assert whole["total"] == len(whole["rows"]) > 0, name
        columns = [c["name"] for c in whole["columns"]]
        if "store_id" in columns:  # filtered, ordered by another column
            same(f"/api/v1/marts/{name}", store=facts["store"], order_by="-" + columns[-1])
    for fmt in ("csv", "parquet"):
        files = [s.get("/api/v1/marts/sales_monthly", format=fmt).content for s in (duck, pg)]
        assert files[0] == files[1], fmt


def test_cli_reads_postgres_directly_while_a_server_runs(shops: Shops) -> None:
    """PostgreSQL takes any number of readers and writers: the CLI never delegates."""
    server, project = shops.server("postgres"), shops.project("postgres")
    assert server.discovery.exists()  # announced, for the dashboard

    def served() -> tuple[float, ...]:
        text = server.get("/metrics").text
        return tuple(
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith(
                    f'salespipe_http_requests_total{{method="{method}",route="{route}"'
                )
            )
            for method, route in (("GET", "/api/v1/kpis"), ("POST", "/api/v1/runs"))
        )

    before = served()
    assert cli_kpis(project) == shops.facts("postgres")["kpis"]["all"]
    ran = cli("--config", project, "run", "--json")  # loads itself: nothing new landed
    assert ran.code == 0 and ran.json()["files"] == []
    assert server.get("/api/v1/runs", limit=1).json()["runs"][0]["run_id"] == ran.json()["run_id"]
    assert served() == before


def test_the_dashboard_shows_the_same_over_a_postgres_backed_api(shops: Shops) -> None:
    """The dashboard reads only the API: over PostgreSQL every page runs, and its cards
    are the API's numbers and the very cards it shows over DuckDB."""
    pytest.importorskip(
        "streamlit", reason='the dashboard needs pip install "salespipe[dashboard]"'
    )
    from .test_dashboard import api_kpis, check_cards, open_app, visit_every_page

    pg, duck = shops.server("postgres"), shops.server("duckdb")
    facts = shops.facts("postgres")
    period = {"from": str(facts["first"]), "to": str(facts["last"])}
    cards = []
    for server in (pg, duck):
        at = open_app(server.url, period="custom", region=facts["region"], **period)
        assert check_cards(at, api_kpis(server, region=facts["region"], **period)) == 7
        cards.append([(m.label, m.value, m.delta) for m in at.metric])
    assert cards[0] == cards[1]
    for page, at in visit_every_page(pg.url, period="all"):
        assert not at.error, (page, [e.value for e in at.error])
