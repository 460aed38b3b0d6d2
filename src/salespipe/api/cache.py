"""Response bodies cached by snapshot id: valid until the next committed load, never by timer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

CacheKey = tuple[str, Hashable]  # (snapshot id, request key)


@dataclass(frozen=True)
class CachedBody:
    body: bytes
    media_type: str
    snapshot: str
    headers: dict[str, str] = field(default_factory=dict)


class ResponseCache:
    """A thread-safe LRU bounded by total bytes; entries of older snapshots are dropped."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024, max_entry: int = 8 * 1024 * 1024):
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self._items: OrderedDict[CacheKey, CachedBody] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        # Striped locks: concurrent misses of one key compute once (single flight).
        self._flights = tuple(threading.Lock() for _ in range(64))

    def flight(self, key: Hashable) -> threading.Lock:
        return self._flights[hash(key) % len(self._flights)]

    def get(self, key: CacheKey, *, count: bool = True) -> CachedBody | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += count
                return None
            self._items.move_to_end(key)
            self.hits += count
            return item

    def put(self, key: CacheKey, item: CachedBody) -> None:
        size = len(item.body)
        if size > self.max_entry:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = item
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= len(evicted.body)

    def retain(self, snapshot: str) -> None:
        """Drop the entries of every other snapshot (they can never be hit again)."""
        with self._lock:
            for key in [k for k in self._items if k[0] != snapshot]:
                self._bytes -= len(self._items.pop(key).body)

    def __len__(self) -> int:
        return len(self._items)
