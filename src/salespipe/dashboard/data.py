# mypy: disable-error-code="import-untyped"
"""What pages read: the API's answers cached by snapshot id, as pandas frames.

One cache per process, shared by every open dashboard: an entry is valid for exactly
one committed snapshot, so a load that commits makes the next read go to the API and
no timer ever decides freshness.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from salespipe.dashboard.client import ApiClient, ApiRequestError, DashboardError, MartRows
from salespipe.dashboard.filters import Filters, MartParams, Period, kpi_params, mart_params

T = TypeVar("T")
# Prefetches of every session share a few threads: the API is one local server.
_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="salespipe-prefetch")


def snapshot_order(snapshot: str) -> tuple[int, ...]:
    """Snapshot ids are `<file_id>.<refresh time>`: comparable as integers."""
    try:
        return tuple(int(part) for part in snapshot.split("."))
    except ValueError:
        return ()


def weight(value: Any) -> int:
    """A cheap estimate of an answer's memory (exact sizes would walk every object)."""
    if isinstance(value, pd.DataFrame):
        return 200 + 96 * len(value) * max(1, len(value.columns))
    return 4096


class SnapshotCache:
    """A thread-safe LRU of API answers keyed by (API, snapshot id, request...).

    Entries are futures: a request in flight (a prefetch, another session) is waited
    for, never sent twice. When an API's snapshot advances, the entries of its older
    snapshots are dropped: they can only be asked for by a run already under way.
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[Any, ...], Future[Any]] = OrderedDict()
        self._sizes: dict[tuple[Any, ...], int] = {}
        self._bytes = 0
        self._newest: dict[Any, tuple[int, ...]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_build(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """The answer for `key` = (api, snapshot, request...): cached, in flight, or built."""
        with self._lock:
            self._advance(key[0], str(key[1]))
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
                future: Future[Any] = Future()
                self._items[key] = future
        if found is not None:
            value: T = found.result()
            return value
        try:
            result = build()  # outside the lock: other requests go on meanwhile
        except BaseException as exc:
            with self._lock:
                if self._items.get(key) is future:
                    del self._items[key]  # errors are not cached
            future.set_exception(exc)
            raise
        future.set_result(result)
        with self._lock:
            if self._items.get(key) is future:
                self._sizes[key] = weight(result)
                self._bytes += self._sizes[key]
                self._evict()
        return result

    def _advance(self, api: Any, snapshot: str) -> None:
        order = snapshot_order(snapshot)
        if order <= self._newest.get(api, ()):
            return
        self._newest[api] = order
        for key in [k for k in self._items if k[0] == api and k[1] != snapshot]:
            self._drop(key)

    def _drop(self, key: tuple[Any, ...]) -> None:
        self._items.pop(key, None)
        self._bytes -= self._sizes.pop(key, 0)

    def _evict(self) -> None:
        """Least recently used first, never an answer still in flight."""
        for key in list(self._items):
            if len(self._items) <= self.max_entries and self._bytes <= self.max_bytes:
                return
            if self._items[key].done():
                self._drop(key)

    def prefetch(self, key: tuple[Any, ...], build: Callable[[], Any]) -> None:
        """Start building `key` in the background; a later get waits for it."""
        with self._lock:
            if key in self._items:
                return
        _EXECUTOR.submit(self._quiet_build, key, build)

    def _quiet_build(self, key: tuple[Any, ...], build: Callable[[], Any]) -> None:
        try:
            self.get_or_build(key, build)
        except Exception:  # reported by the page that reads it, not here
            return

    def __len__(self) -> int:
        return len(self._items)


CACHE = SnapshotCache()


class MartUnavailable(DashboardError):
    """A mart has no table: skipped for lack of a field, or not built yet."""

    def __init__(self, name: str, status: str, note: str | None) -> None:
        super().__init__(f"{name} is {status}" + (f": {note}" if note else ""))
        self.name = name
        self.status = status
        self.note = note


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow -> pandas keeping exact values: Decimal money, date objects, nullable ints."""
    mapping = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}
    return table.to_pandas(types_mapper=mapping.get)


@dataclass
class DataSource:
    """The API at one snapshot: every read of a page run sees the same cache generation."""

    client: ApiClient
    snapshot: str
    cache: SnapshotCache = field(default_factory=lambda: CACHE)

    def _cached(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        return self.cache.get_or_build((self.client.base_url, self.snapshot, *key), build)

    def catalog(self) -> dict[str, dict[str, Any]]:
        entries = self._cached(("catalog",), self.client.catalog)
        return {e["name"]: e for e in entries}

    def mart_entry(self, name: str) -> dict[str, Any]:
        entry = self.catalog().get(name)
        if entry is None:
            raise MartUnavailable(name, "unknown to this API", "upgrade salespipe serve")
        return entry

    def available(self, name: str) -> bool:
        entry = self.catalog().get(name)
        return bool(entry and entry.get("available"))

    def require(self, name: str) -> dict[str, Any]:
        entry = self.mart_entry(name)
        if not entry.get("available"):
            raise MartUnavailable(name, str(entry.get("status")), entry.get("note"))
        return entry

    def params_for(
        self, name: str, filters: Filters, period: Period, *, dated: bool = True
    ) -> MartParams:
        return mart_params(filters, period, self.require(name)["filters"], dated=dated)

    def _mart_request(
        self, name: str, params: dict[str, str] | None, columns: tuple[str, ...] | None = None
    ) -> tuple[tuple[Any, ...], Callable[[], pd.DataFrame]]:
        frozen = tuple(sorted((params or {}).items()))

        def build() -> pd.DataFrame:
            rows: MartRows = self.client.mart_rows(name, dict(frozen))
            # Only the columns asked for become Python objects (Decimal money is costly).
            return to_frame(rows.table.select(list(columns)) if columns else rows.table)

        key = (self.client.base_url, self.snapshot, "mart", name, frozen)
        return (*key, columns) if columns else key, build

    def mart(
        self,
        name: str,
        params: dict[str, str] | None = None,
        *,
        columns: tuple[str, ...] | None = None,
    ) -> pd.DataFrame:
        """Every row of a built mart for the parameters (only `columns`, when given), as the
        API returns them.

        The frame is shared by every reader of this snapshot: read it, never change it.
        """
        self.require(name)
        key, build = self._mart_request(name, params, columns)
        return self.cache.get_or_build(key, build)

    def mart_total(self, name: str, params: dict[str, str] | None = None) -> int:
        """How many rows of the mart match the parameters (one row is fetched to know)."""
        self.require(name)
        frozen = tuple(sorted((params or {}).items()))

        def build() -> int:
            page = self.client.mart_page(name, {**dict(frozen), "limit": 1})
            return int(page["total"])

        return self._cached(("total", name, frozen), build)

    def prefetch_mart(self, name: str, params: dict[str, str] | None = None) -> None:
        if self.available(name):
            self.cache.prefetch(*self._mart_request(name, params))

    def mart_edge(self, name: str, column: str, last: bool) -> Any:
        """The smallest (or largest) value of a column: one row, ordered by the API."""
        order = ("-" if last else "") + column

        def build() -> Any:
            page = self.client.mart_page(name, {"order_by": order, "limit": 1})
            return page["rows"][0][column] if page["rows"] else None

        return self._cached(("edge", name, order), build)

    def bounds(self) -> tuple[date | None, date | None]:
        """First and last business day with sales (from sales_daily)."""
        if not self.available("sales_daily"):
            return None, None
        first = self.mart_edge("sales_daily", "sale_date", last=False)
        last = self.mart_edge("sales_daily", "sale_date", last=True)
        if first is None or last is None:
            return None, None
        return date.fromisoformat(first), date.fromisoformat(last)

    def _kpi_request(
        self, filters: Filters, period: Period, compare: str | None
    ) -> tuple[tuple[Any, ...], Callable[[], dict[str, Any]]]:
        params = kpi_params(filters, period, compare)
        frozen = tuple(sorted((k, str(v)) for k, v in params.items()))
        key = (self.client.base_url, self.snapshot, "kpis", frozen)
        return key, lambda: self.client.kpis(dict(frozen))

    def kpis(self, filters: Filters, period: Period, compare: str | None) -> dict[str, Any]:
        return self.cache.get_or_build(*self._kpi_request(filters, period, compare))

    def prefetch_kpis(self, filters: Filters, period: Period, compare: str | None) -> None:
        self.cache.prefetch(*self._kpi_request(filters, period, compare))

    def ledger(self, what: str, limit: int) -> dict[str, Any]:
        fetch: dict[str, Callable[[int], dict[str, Any]]] = {
            "runs": self.client.runs,
            "files": self.client.files,
            "quarantine": self.client.quarantine,
            "alerts": self.client.alerts,
        }
        # The ledger moves with every load, and a load advances the snapshot.
        return self._cached(("ledger", what, limit), lambda: fetch[what](limit))


def is_not_built(exc: DashboardError) -> bool:
    return isinstance(exc, MartUnavailable) or (
        isinstance(exc, ApiRequestError) and exc.error == "NotFound"
    )
