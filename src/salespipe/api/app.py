"""The FastAPI application: routes, the one error handler, metrics, OpenAPI at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from salespipe import __version__
from salespipe.api.errors import install_error_handler
from salespipe.api.fastpath import SnapshotCacheMiddleware
from salespipe.api.metrics import ApiMetrics, MetricsMiddleware
from salespipe.api.routes import kpis, ledger, marts, ops
from salespipe.api.state import ServerState

DESCRIPTION = """\
Sales KPIs, marts, the load ledger and quarantine of a salespipe warehouse.

* **Auth**: send `X-API-Key` with a key from `api.keys` in salespipe.yaml (scope `read`,
  or `admin` for POST). Without configured keys the server listens on loopback only
  and needs no key.
* **Errors** all have one shape: `error`, `message`, `hint`, `file`, `line`, `key`,
  `field` (`field` names the parameter at fault).
* **Snapshots**: every committed load advances the snapshot id, sent as `ETag` and
  `X-Salespipe-Snapshot`; answers are cached by it, and `If-None-Match` gives 304.
"""

TAGS: list[dict[str, Any]] = [
    {"name": "kpis", "description": "KPIs as defined in DESIGN.md."},
    {"name": "marts", "description": "The marts, their rows and exports."},
    {"name": "ledger", "description": "Runs, files, quarantine, alerts."},
    {"name": "operations", "description": "Health, readiness, metrics."},
]


def create_app(state: ServerState, on_shutdown: Callable[[], None] | None = None) -> FastAPI:
    """The app over an open server state; `on_shutdown` runs once connections are drained."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(
        title="salespipe API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.salespipe = state
    app.state.metrics = ApiMetrics(state)
    install_error_handler(app)
    # Added last = outermost: metrics see every request, cached hits included.
    app.add_middleware(SnapshotCacheMiddleware, state=state)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    for module in (ops, kpis, marts, ledger):
        app.include_router(module.router)
    return app
