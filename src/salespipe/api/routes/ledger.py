"""The ledger: runs, files with their reconciliation, quarantined rows, monitor alerts,
and the status `salespipe status` shows. Not cached: a run's progress shows at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from salespipe.api.deps import TEXT_MAX, StateDep, known_params, require_read, snapshot_headers
from salespipe.api.errors import responses
from salespipe.api.exports import encode_json
from salespipe.api.models import AlertList, FileList, QuarantineList, RunList, Status
from salespipe.api.state import Cursor, ServerState
from salespipe.query.ledger import file_rows, quarantine_rows, run_rows, warehouse_status

router = APIRouter(tags=["ledger"])

Limit = Annotated[int, Query(ge=1, le=10000, description="Rows per page.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Rows to skip.")]


async def _read_json(state: ServerState, build: Any) -> Response:
    def work() -> tuple[bytes, str]:
        with state.read() as (con, snapshot):
            return encode_json(build(con)), snapshot.id

    body, snapshot = await run_in_threadpool(work)
    return Response(body, media_type="application/json", headers=snapshot_headers(snapshot))


def _page(key: str, rows: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    """One page of a list under `key`; `rows` holds one row past the page when there is more."""
    return {key: rows[:limit], "limit": limit, "offset": offset, "has_more": len(rows) > limit}


def _list_route(
    path: str, summary: str, model: type[BaseModel], *filters: str
) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A paged list: its filters, then limit and offset, are the only parameters it takes."""
    return router.get(
        path,
        summary=summary,
        response_model=model,
        responses=responses(400, 401, 403),
        dependencies=[Depends(known_params(*filters, "limit", "offset"))],
    )


@_list_route("/api/v1/runs", "Recent runs, newest first", RunList)
async def list_runs(
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    limit: Limit = 20,
    offset: Offset = 0,
) -> Response:
    def build(con: Cursor) -> dict[str, Any]:
        rows = run_rows(con, limit=offset + limit + 1)[offset:]
        running = state.jobs.running
        return {
            **_page("runs", rows, limit, offset),
            "running_job": running.to_dict() if running else None,
        }

    return await _read_json(state, build)


@_list_route(
    "/api/v1/files", "The file ledger with per-file reconciliation, newest first", FileList
)
async def list_files(
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    def build(con: Cursor) -> dict[str, Any]:
        rows = file_rows(con, limit=offset + limit + 1)[offset:]
        return _page("files", rows, limit, offset)

    return await _read_json(state, build)


@_list_route(
    "/api/v1/quarantine",
    "Quarantined rows with their file, line, raw values and reason codes",
    QuarantineList,
    "source",
    "reason",
    "file",
    "include_replayed",
)
async def list_quarantine(
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    source: Annotated[str | None, Query(max_length=TEXT_MAX, description="A source.")] = None,
    reason: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="A reason code, e.g. bad_number.")
    ] = None,
    file: Annotated[
        str | None, Query(max_length=TEXT_MAX, description="Files whose name contains this.")
    ] = None,
    include_replayed: Annotated[bool, Query(description="Also rows replayed since.")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    def build(con: Cursor) -> dict[str, Any]:
        rows = quarantine_rows(
            con,
            source=source or None,
            reason=reason or None,
            file=file or None,
            include_replayed=include_replayed,
            limit=limit + 1,
            offset=offset,
        )
        return _page("rows", rows, limit, offset)

    return await _read_json(state, build)


ALERT_STATES = ("all", "active", "open", "acknowledged", "resolved")


def alert_rows(
    con: Cursor, state: str, limit: int, offset: int
) -> tuple[bool, list[dict[str, Any]]]:
    """Monitor events as `salespipe monitor list --json` prints them, newest first."""
    from salespipe.monitor import events
    from salespipe.monitor.events import has_events_table
    from salespipe.monitor.model import ACTIVE, STATES

    if not has_events_table(con):
        return False, []
    states = {"all": STATES, "active": ACTIVE}.get(state, (state,))
    found = events(con, states=states, limit=offset + limit)
    return True, [e.to_dict() for e in found[offset:]]


@_list_route(
    "/api/v1/alerts",
    "Monitor events (anomalies, drift, freshness), newest first",
    AlertList,
    "state",
)
async def list_alerts(
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    event_state: Annotated[
        Literal["all", "active", "open", "acknowledged", "resolved"],
        Query(alias="state", description="all, active (open or acknowledged), or one state."),
    ] = "all",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    def build(con: Cursor) -> dict[str, Any]:
        available, rows = alert_rows(con, event_state, limit + 1, offset)
        return {**_page("alerts", rows, limit, offset), "available": available}

    return await _read_json(state, build)


@router.get(
    "/api/v1/status",
    summary="What `salespipe status --json` prints",
    response_model=Status,
    responses=responses(400, 401, 403),
    dependencies=[Depends(known_params())],
)
async def status(state: StateDep, _auth: Annotated[object, Depends(require_read)]) -> Response:
    return await _read_json(state, lambda con: warehouse_status(con, state.config))
