"""How CLI commands reach a running server: find it, submit runs, read through it.

While `salespipe serve` owns the warehouse, DuckDB's lock shuts other processes out,
so `run` submits to the server (and waits for the result) and `kpi`/`status` read
through its API. Stdlib only: the CLI works without the `api` extra.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from salespipe import errors
from salespipe.api.discovery import ServerInfo, discovery_path, read_discovery
from salespipe.config.model import Config
from salespipe.errors import SalespipeError, WarehouseError

API_KEY_HEADER = "X-API-Key"


def error_from_dict(data: dict[str, Any], status: int | None = None) -> SalespipeError:
    """Rebuild a core error from the API's error shape, keeping its class where known
    (a bad parameter stays a usage error: exit status 2, as without a server)."""
    cls = getattr(errors, str(data.get("error")), None)
    if not (isinstance(cls, type) and issubclass(cls, SalespipeError)) or cls is (
        errors.MissingExtraError
    ):
        cls = errors.UsageError if status == 400 else SalespipeError
    exc = cls(
        str(data.get("message", "the server reported an error")),
        hint=data.get("hint"),
        file=data.get("file"),
        line=data.get("line"),
        key=data.get("key"),
        field=data.get("field"),
    )
    return exc


class ServerClient:
    """A small JSON client for one running server, authenticated by its local token."""

    def __init__(self, info: ServerInfo) -> None:
        self.info = info

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = 30.0,
    ) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        url = self.info.url + path + (f"?{query}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header(API_KEY_HEADER, self.info.token)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read())
            except ValueError:
                payload = {}
            if isinstance(payload, dict) and "message" in payload:
                raise error_from_dict(payload, exc.code) from None
            raise WarehouseError(
                f"the server at {self.info.url} answered {exc.code} to {method} {path}"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise WarehouseError(
                f"the server at {self.info.url} (PID {self.info.pid}) does not answer: {exc}",
                hint="stop it, or wait until it has started",
            ) from None

    def healthy(self) -> bool:
        try:
            self.request("GET", "/health", timeout=5.0)
        except SalespipeError:
            return False
        return True

    def run(self, source: str | None, command: str = "run") -> dict[str, Any]:
        """Submit a run (or a quarantine replay) and wait for it; the result is what
        `run --json` (or `quarantine replay --json`) prints."""
        job: dict[str, Any] = self.request(
            "POST",
            "/api/v1/runs",
            {"wait": "true"},
            {"source": source, "command": command},
            timeout=None,
        )
        if job.get("error"):
            raise error_from_dict(job["error"])
        result: dict[str, Any] = job["result"]
        return result

    def kpis(self, params: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = self.request("GET", "/api/v1/kpis", params)
        return data

    def quarantine(self, params: dict[str, Any], limit: int | None) -> list[dict[str, Any]]:
        """Quarantined rows as `quarantine list --json` prints them, page by page."""
        rows: list[dict[str, Any]] = []
        page = 10_000 if limit is None else min(limit, 10_000)
        while limit is None or len(rows) < limit:
            data = self.request(
                "GET",
                "/api/v1/quarantine",
                {
                    **{k: v for k, v in params.items() if v is not None},
                    "limit": page,
                    "offset": len(rows),
                },
            )
            rows += data["rows"]
            if not data["has_more"]:
                break
        return rows if limit is None else rows[:limit]

    def marts(self) -> list[dict[str, Any]]:
        """`marts list --json`: the catalog without the API's extra keys."""
        extra = ("columns", "filters", "available")
        data = self.request("GET", "/api/v1/marts")
        return [{k: v for k, v in m.items() if k not in extra} for m in data["marts"]]

    def mart_rows(
        self, name: str, limit: int | None
    ) -> tuple[list[str], list[dict[str, Any]], int]:
        """A mart's columns, rows in grain order (money in cents) and its row count."""
        rows: list[dict[str, Any]] = []
        total = 0
        columns: list[str] = []
        page = 10_000 if limit is None else max(1, min(limit, 10_000))
        while limit is None or len(rows) < limit:
            data = self.request(
                "GET", f"/api/v1/marts/{name}", {"limit": page, "offset": len(rows)}
            )
            columns = [c["name"] for c in data["columns"]]
            total = int(data["total"])
            rows += data["rows"]
            if not data["rows"] or len(rows) >= total:
                break
        return columns, rows if limit is None else rows[:limit], total

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = self.request("GET", "/api/v1/status")
        return data


def find_server(config: Config) -> ServerClient | None:
    """The server that owns this config's warehouse, if one runs and answers."""
    from salespipe.warehouse import warehouse_path

    if not config.warehouse.startswith("duckdb://"):
        return None  # PostgreSQL takes many writers and readers: the CLI opens it itself
    info = read_discovery(discovery_path(warehouse_path(config)))
    if info is None:
        return None
    client = ServerClient(info)
    # A live pid that does not answer is a reused pid after a crash: open the file directly.
    return client if client.healthy() else None
