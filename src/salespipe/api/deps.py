"""What every route shares: the server state, API-key checks, parameter parsing and
cached responses with their snapshot headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Hashable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from salespipe.api.auth import KeyEntry, Scope
from salespipe.api.cache import CachedBody
from salespipe.api.errors import AuthenticationRequired, InvalidParameter, PermissionDenied
from salespipe.api.snapshot import Snapshot
from salespipe.api.state import Cursor, ServerState

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SNAPSHOT_HEADER = "X-Salespipe-Snapshot"
TEXT_MAX = 200  # filter values longer than this cannot match anything real
DATE_SCHEMA: dict[str, Any] = {"format": "date"}  # parsed by parse_date, for clear errors
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from salespipe.yaml `api.keys` (not needed when none is configured).",
)


# The same keys as `Authorization: Bearer <key>`, which Prometheus sends natively.
bearer_header = HTTPBearer(
    auto_error=False, description="An API key as a bearer token (for Prometheus)."
)


async def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.salespipe
    return state


StateDep = Annotated[ServerState, Depends(get_state)]


def _require(scope: Scope) -> Callable[..., Awaitable[KeyEntry | None]]:
    # async: FastAPI runs sync dependencies in the threadpool, a hop per request.
    async def check(
        state: StateDep,
        key: Annotated[str | None, Security(api_key_header)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_header)] = None,
    ) -> KeyEntry | None:
        if not state.keys.configured:
            return None  # no keys: the server only listens on loopback
        if not key and bearer is not None:
            key = bearer.credentials
        if not key:
            raise AuthenticationRequired(
                "this endpoint needs an API key", field="X-API-Key", hint="send X-API-Key: <key>"
            )
        entry = state.keys.authenticate(key)
        if entry is None:
            raise AuthenticationRequired("unknown API key", field="X-API-Key")
        if not entry.allows(scope):
            raise PermissionDenied(
                f"the key '{entry.name}' has scope {entry.scope}; this needs {scope}",
                field="X-API-Key",
                hint="use a key with scope admin",
            )
        return entry

    return check


require_read = _require("read")
require_admin = _require("admin")


def known_params(*names: str) -> Callable[[Request], Awaitable[None]]:
    """Reject query parameters a route does not know (a typo would silently match all),
    and values no warehouse can hold (PostgreSQL text has no NUL character)."""
    allowed = set(names)

    async def check(request: Request) -> None:
        for name, value in request.query_params.multi_items():
            if name not in allowed:
                raise InvalidParameter(
                    f"unknown parameter '{name}'",
                    field=name,
                    hint="parameters of this endpoint: " + ", ".join(sorted(allowed)),
                )
            if "\x00" in value:
                raise InvalidParameter(f"{name}: the value contains a NUL character", field=name)

    return check


def parse_date(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not DATE_RE.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(
            f"{name} {value!r} is not a date", field=name, hint="use YYYY-MM-DD"
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        # Comparison periods reach back as far again: keep them inside the calendar.
        raise InvalidParameter(
            f"{name} {value} is out of range",
            field=name,
            hint=f"use a date from {FIRST_DAY} to {LAST_DAY}",
        )
    return day


def parse_period(date_from: str | None, date_to: str | None) -> tuple[date | None, date | None]:
    start, end = parse_date(date_from, "from"), parse_date(date_to, "to")
    if start and end and start > end:
        raise InvalidParameter(f"from {start} is after to {end}", field="from")
    return start, end


def snapshot_headers(snapshot: str) -> dict[str, str]:
    return {"ETag": f'"{snapshot}"', SNAPSHOT_HEADER: snapshot, "Cache-Control": "no-cache"}


def respond(request: Request, item: CachedBody) -> Response:
    headers = {**snapshot_headers(item.snapshot), **item.headers}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(item.body, media_type=item.media_type, headers=headers)


async def cached_response(
    request: Request,
    state: ServerState,
    key: Hashable,
    build: Callable[[Cursor, Snapshot], CachedBody],
) -> Response:
    """Serve `key` at the current snapshot: a cache hit costs no query at all."""
    item = state.lookup(key)
    if item is None:
        item = await run_in_threadpool(state.cached, key, build)
    return respond(request, item)


def json_body(payload: Any, snapshot: Snapshot) -> CachedBody:
    from salespipe.api.exports import encode_json

    return CachedBody(encode_json(payload), "application/json", snapshot.id)
