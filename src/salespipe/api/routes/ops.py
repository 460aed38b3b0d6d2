"""Operations: liveness, readiness, Prometheus metrics, and running loads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from salespipe.api.deps import StateDep, known_params, require_admin, require_read
from salespipe.api.errors import NotFound, responses
from salespipe.api.exports import encode_json
from salespipe.api.metrics import CONTENT_TYPE, ApiMetrics
from salespipe.api.models import Health, Ready, RunJob, RunRequest
from salespipe.errors import WarehouseError
from salespipe.marts.errors import database_errors

router = APIRouter()


@router.get("/health", tags=["operations"], summary="Liveness", response_model=Health)
async def health() -> Response:
    """Answers as long as the process serves HTTP; no warehouse access, no key."""
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/ready",
    tags=["operations"],
    summary="Readiness: the warehouse answers",
    response_model=Ready,
    responses=responses(503),
)
async def ready(state: StateDep) -> Response:
    def check() -> dict[str, Any]:
        try:
            with state.read() as (_, snapshot):
                return {
                    "status": "ready",
                    "snapshot": snapshot.id,
                    "run_in_progress": state.jobs.running is not None,
                    "currency": state.config.currency.upper(),
                }
        except database_errors() as exc:
            raise WarehouseError(f"the warehouse does not answer: {exc}") from None

    return Response(encode_json(await run_in_threadpool(check)), media_type="application/json")


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE: {}}}, **responses(401, 403)},
    response_class=Response,
)
async def metrics(request: Request, _auth: Annotated[object, Depends(require_read)]) -> Response:
    """Requests and latency per route, rows loaded and quarantined, the last run's
    status and age, in the Prometheus text format."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(await run_in_threadpool(registry.render), media_type=CONTENT_TYPE)


def _job_response(
    job: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        encode_json(job), status_code=status, media_type="application/json", headers=headers
    )


@router.post(
    "/api/v1/runs",
    tags=["ledger"],
    summary="Start a run (admin)",
    status_code=202,
    response_model=RunJob,
    responses={
        200: {"model": RunJob, "description": "The finished run (with wait=true)."},
        **responses(400, 401, 403, 409),
    },
    dependencies=[Depends(known_params("wait"))],
)
async def start_run(
    state: StateDep,
    _auth: Annotated[object, Depends(require_admin)],
    request_body: Annotated[RunRequest | None, Body()] = None,
    wait: Annotated[
        bool, Query(description="Answer when the run is done (200) instead of at once (202).")
    ] = False,
) -> Response:
    """Load every new landed file, one run at a time (409 while one runs). The run is the
    server's: it goes on if the client disconnects. `result` is what `salespipe run
    --json` prints."""
    source = request_body.source if request_body else None
    command = request_body.command if request_body else "run"
    job = await run_in_threadpool(state.jobs.submit, source, command)
    location = {"Location": f"/api/v1/runs/jobs/{job.job_id}"}
    if not wait:
        return _job_response(job.to_dict(), 202, location)
    await run_in_threadpool(job.done.wait)
    return _job_response(job.to_dict(), 200, location)


@router.get(
    "/api/v1/runs/jobs/{job_id}",
    tags=["ledger"],
    summary="A run submitted to this server",
    response_model=RunJob,
    responses=responses(401, 403, 404),
    dependencies=[Depends(known_params())],
)
async def get_job(
    state: StateDep,
    _auth: Annotated[object, Depends(require_read)],
    job_id: Annotated[str, Path(max_length=64, description="job_id from POST /api/v1/runs.")],
) -> Response:
    job = state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no run job '{job_id}' on this server", field="job_id")
    return _job_response(job.to_dict(), 200)
