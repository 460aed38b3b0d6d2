"""Prometheus metrics: requests and latency per route, and the warehouse's own numbers.

Request metrics are recorded by a small ASGI middleware, labelled by route template
(`/api/v1/marts/{name}`), never by raw path, so label cardinality stays bounded.
Warehouse numbers (rows loaded and quarantined, last run) are read at scrape time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from salespipe.errors import MissingExtraError

if TYPE_CHECKING:
    from salespipe.api.state import ServerState

try:
    from prometheus_client import (
        CollectorRegistry,
        Counter,
        Histogram,
        disable_created_metrics,
        generate_latest,
    )
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector
except ImportError as exc:  # pragma: no cover - the api extra brings it
    raise MissingExtraError("prometheus_client", "api") from exc

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
RUN_STATES = ("ok", "failed", "error", "running")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class WarehouseCollector(Collector):
    """Reads the ledger at scrape time, in one snapshot."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        with state.read() as (con, snapshot):
            totals = con.execute(
                "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0), "
                "coalesce(sum(rows_updated), 0), coalesce(sum(rows_duplicate), 0) FROM files"
            ).fetchall()[0]
            files = con.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall()
            fact_rows = con.execute("SELECT count(*) FROM fact_sales").fetchall()[0][0]
            last = con.execute(
                "SELECT status, started_at, finished_at, seconds FROM runs "
                "ORDER BY started_at DESC LIMIT 1"
            ).fetchall()
        for name, value, text in (
            ("salespipe_rows_loaded", totals[0], "Rows loaded into the fact table."),
            ("salespipe_rows_quarantined", totals[1], "Rows quarantined with a reason."),
            ("salespipe_rows_updated", totals[2], "Rows that updated an existing key."),
            ("salespipe_rows_duplicate", totals[3], "Rows identical to a loaded row."),
        ):
            yield CounterMetricFamily(name, text, value=float(value))
        by_status = GaugeMetricFamily(
            "salespipe_files", "Files in the ledger by status.", labels=["status"]
        )
        for status, count in files:
            by_status.add_metric([str(status)], float(count))
        yield by_status
        yield GaugeMetricFamily("salespipe_fact_rows", "Lines in fact_sales.", value=fact_rows)
        yield GaugeMetricFamily(
            "salespipe_snapshot_file_id",
            "The last committed file_id (the snapshot the API serves).",
            value=float(snapshot.file_id),
        )
        status_family = GaugeMetricFamily(
            "salespipe_last_run_status", "1 for the status of the last run.", labels=["status"]
        )
        current = str(last[0][0]) if last else None
        for run_state in RUN_STATES:
            status_family.add_metric([run_state], 1.0 if current == run_state else 0.0)
        yield status_family
        if last:
            _, started, finished, seconds = last[0]
            moment: datetime | None = finished or started
            if moment is not None:
                yield GaugeMetricFamily(
                    "salespipe_last_run_timestamp_seconds",
                    "When the last run finished (or started, while it runs), Unix time.",
                    value=moment.timestamp(),
                )
                yield GaugeMetricFamily(
                    "salespipe_last_run_age_seconds",
                    "Seconds since the last run finished (or started, while it runs).",
                    value=max(0.0, time.time() - moment.timestamp()),
                )
            if seconds is not None:
                yield GaugeMetricFamily(
                    "salespipe_last_run_duration_seconds",
                    "Duration of the last finished run.",
                    value=float(seconds),
                )
        yield GaugeMetricFamily(
            "salespipe_run_in_progress",
            "1 while this server runs a load.",
            value=1.0 if state.jobs.running else 0.0,
        )
        yield CounterMetricFamily(
            "salespipe_api_cache_hits",
            "Responses served from the snapshot cache.",
            value=float(state.cache.hits),
        )
        yield CounterMetricFamily(
            "salespipe_api_cache_misses",
            "Responses computed in the warehouse.",
            value=float(state.cache.misses),
        )


class ApiMetrics:
    def __init__(self, state: ServerState) -> None:
        # *_created series only add noise to every counter
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "salespipe_http_requests",
            "HTTP requests by route template, method and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "salespipe_http_request_duration_seconds",
            "Time to answer, by route template and method.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(WarehouseCollector(state))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI (no per-request task), so it costs microseconds."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or scope.get("salespipe.route")
            if route is None:
                # Plain routes (/docs, /openapi.json) have no parameters: their path is the
                # template. Anything unmatched shares one label.
                route = scope["path"] if "endpoint" in scope else "unmatched"
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)
