"""The FastAPI application: routes, the one error handler, metrics, OpenAPI at /docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
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

    local_docs = _swagger_assets()
    app = FastAPI(
        title="salespipe API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None if local_docs else "/docs",
        redoc_url=None,
    )
    if local_docs:
        _serve_docs(app, local_docs)
    app.state.salespipe = state
    app.state.metrics = ApiMetrics(state)
    install_error_handler(app)
    # Added last = outermost: metrics see every request, cached hits included.
    app.add_middleware(SnapshotCacheMiddleware, state=state)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    for module in (ops, kpis, marts, ledger):
        app.include_router(module.router)
    return app


def _swagger_assets() -> Path | None:
    """Swagger UI's files (5.x, which reads OpenAPI 3.1), when installed (fastapi-offline):
    /docs then works offline, where FastAPI's default page loads them from a CDN."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    path = Path(fastapi_offline.__file__).parent / "static"
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def _serve_docs(app: FastAPI, assets: Path) -> None:
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs/assets", StaticFiles(directory=assets), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} docs",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png",
        )
