"""A small typed HTTP client of the REST API: the dashboard's only way to the data.

JSON is parsed with exact decimals; mart rows travel as Parquet so that money stays
DECIMAL and dates stay dates. Stdlib HTTP only: the API may run on another machine.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from salespipe.errors import SalespipeError

API_KEY_HEADER = "X-API-Key"
SNAPSHOT_HEADER = "X-Salespipe-Snapshot"
PAGE_ROWS = 10_000  # the API's largest page
MAX_ROWS = 200_000  # the most rows of one mart the dashboard reads for a chart


class DashboardError(SalespipeError):
    """The dashboard cannot show something; the message says what to do."""


class ApiUnavailable(DashboardError):
    """Nothing answers at the API's address."""


class ApiRequestError(DashboardError):
    """The API answered with its error shape (`error` names the class, e.g. NotFound)."""

    def __init__(self, status: int, data: dict[str, Any]) -> None:
        super().__init__(
            str(data.get("message") or f"the API answered {status}"),
            hint=data.get("hint"),
            field=data.get("field"),
            key=data.get("key"),
        )
        self.status = status
        self.error = str(data.get("error") or "")


@dataclass(frozen=True)
class MartRows:
    """The rows of a mart for some filters, as the API sent them, and their snapshot."""

    name: str
    table: pa.Table
    snapshot: str | None
    truncated: bool  # more rows matched than the dashboard fetched


def _query(params: dict[str, Any] | None) -> str:
    pairs = [(k, str(v)) for k, v in (params or {}).items() if v is not None and v != ""]
    return ("?" + urllib.parse.urlencode(pairs)) if pairs else ""


class ApiClient:
    """GET requests to one API server; an API key is sent when one is given."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[bytes, str | None]:
        """The body and snapshot id of a GET; API errors and silence become typed errors."""
        url = self.base_url + path + _query(params)
        request = urllib.request.Request(url, method="GET")
        if self.api_key:
            request.add_header(API_KEY_HEADER, self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                return resp.read(), resp.headers.get(SNAPSHOT_HEADER)
        except urllib.error.HTTPError as exc:
            try:
                data = json.loads(exc.read())
            except ValueError:
                data = None
            if not isinstance(data, dict):
                data = {"message": f"the API answered {exc.code} to GET {path}"}
            raise ApiRequestError(exc.code, data) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiUnavailable(
                f"the API at {self.base_url} does not answer ({reason})",
                hint="start it with `salespipe serve`, or pass --api with its address",
            ) from None

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        body, _ = self.get(path, params)
        return json.loads(body, parse_float=Decimal)

    def snapshot(self) -> str:
        """The committed snapshot the server reads now (cheap: one small read)."""
        return str(self.ready()["snapshot"])

    def ready(self) -> dict[str, Any]:
        """/ready: the snapshot, whether a run is in progress, the reporting currency."""
        data: dict[str, Any] = self.get_json("/ready")
        return data

    def kpis(self, params: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = self.get_json("/api/v1/kpis", params)
        return data

    def catalog(self) -> list[dict[str, Any]]:
        data = self.get_json("/api/v1/marts")
        marts: list[dict[str, Any]] = data["marts"]
        return marts

    def mart_page(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = self.get_json(f"/api/v1/marts/{urllib.parse.quote(name)}", params)
        return data

    def mart_rows(self, name: str, params: dict[str, Any], max_rows: int = MAX_ROWS) -> MartRows:
        """Every row of a mart for the filters (page by page, as Parquet), up to max_rows."""
        import pyarrow.parquet as pq

        path = f"/api/v1/marts/{urllib.parse.quote(name)}"
        tables: list[pa.Table] = []
        snapshot: str | None = None
        offset = 0
        truncated = False
        while True:
            page_params = {**params, "format": "parquet", "limit": PAGE_ROWS, "offset": offset}
            body, page_snapshot = self.get(path, page_params)
            snapshot = snapshot or page_snapshot
            table = pq.read_table(io.BytesIO(body))
            tables.append(table)
            offset += table.num_rows
            if table.num_rows < PAGE_ROWS:
                break
            if offset >= max_rows:
                truncated = True
                break
        whole = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        return MartRows(name, whole, snapshot, truncated)

    def runs(self, limit: int = 50) -> dict[str, Any]:
        data: dict[str, Any] = self.get_json("/api/v1/runs", {"limit": limit})
        return data

    def files(self, limit: int = 500) -> dict[str, Any]:
        data: dict[str, Any] = self.get_json("/api/v1/files", {"limit": limit})
        return data

    def quarantine(self, limit: int = 500) -> dict[str, Any]:
        data: dict[str, Any] = self.get_json("/api/v1/quarantine", {"limit": limit})
        return data

    def alerts(self, limit: int = 200) -> dict[str, Any]:
        data: dict[str, Any] = self.get_json("/api/v1/alerts", {"limit": limit})
        return data
