"""Repeated reads served straight from the snapshot cache, in front of FastAPI.

Routing, dependency injection and parameter validation cost most of a request's CPU.
A GET of a cacheable route that already answered 200 at the current snapshot (same path
and query string) is answered here, after the same key check, without them. On an
engine where other processes commit, "current" is read from the warehouse first. Anything
else (a first request, an error, If-None-Match, a streamed page) goes through FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from salespipe.api.cache import CachedBody
from salespipe.api.metrics import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from salespipe.api.state import ServerState

ROUTE_LABEL = "salespipe.route"  # read by the metrics middleware
CACHED_ROUTES = {"/api/v1/kpis": "/api/v1/kpis", "/api/v1/marts": "/api/v1/marts"}
MART_PREFIX = "/api/v1/marts/"
KEPT_HEADERS = (b"content-type", b"content-disposition")


def route_of(path: str) -> str | None:
    """The template of a cacheable route, or None."""
    if path in CACHED_ROUTES:
        return CACHED_ROUTES[path]
    name = path.removeprefix(MART_PREFIX)
    if name != path and name and "/" not in name:
        return "/api/v1/marts/{name}"
    return None


class SnapshotCacheMiddleware:
    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    def _authorized(self, headers: dict[bytes, bytes]) -> bool:
        keys = self.state.keys
        if not keys.configured:
            return True
        presented = headers.get(b"x-api-key")
        if presented is None:
            auth = headers.get(b"authorization", b"")
            if auth[:7].lower() != b"bearer ":
                return False
            presented = auth[7:].strip()
        return keys.authenticate(presented.decode("latin-1")) is not None  # any scope reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = route_of(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"if-none-match" in headers or not self._authorized(headers):
            await self.app(scope, receive, send)  # FastAPI answers 304s and auth errors
            return
        key = ("raw", scope["path"], scope["query_string"])
        tracker = self.state.tracker
        # Where other processes commit too, the snapshot is read first (a worker thread).
        current = (
            tracker.current if tracker.sees_every_commit else await run_in_threadpool(tracker.sync)
        )
        item = self.state.cache.get((current.id, key))
        if item is not None:
            scope[ROUTE_LABEL] = route
            await _send_cached(send, item)
            return
        await self.app(scope, receive, self._recorder(key, send))

    def _recorder(self, key: tuple[str, str, bytes], send: Send) -> Send:
        """Wrap `send` to keep a whole 200 answer that carries a snapshot id."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def record(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    _keep(start, chunks)
            await send(message)

        def _keep(start: Message, chunks: list[bytes]) -> None:
            if start["status"] != 200:
                return
            found = dict(start.get("headers", []))
            snapshot = found.get(b"x-salespipe-snapshot")
            if snapshot is None or b"content-length" not in found:
                return  # not cacheable, or streamed
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            extra = {
                k.decode(): v.decode("latin-1")
                for k, v in found.items()
                if k in KEPT_HEADERS and k != b"content-type"
            }
            media_type = found.get(b"content-type", b"application/json").decode("latin-1")
            self.state.cache.put(
                (snapshot.decode(), key), CachedBody(body, media_type, snapshot.decode(), extra)
            )

        return record


async def _send_cached(send: Send, item: CachedBody) -> None:
    etag = f'"{item.snapshot}"'.encode()
    headers = [
        (b"content-type", item.media_type.encode("latin-1")),
        (b"content-length", str(len(item.body)).encode()),
        (b"etag", etag),
        (b"x-salespipe-snapshot", item.snapshot.encode()),
        (b"cache-control", b"no-cache"),
        *((k.encode(), v.encode("latin-1")) for k, v in item.headers.items()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": item.body, "more_body": False})
