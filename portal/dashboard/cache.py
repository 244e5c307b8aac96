"""A small in-process cache for the public performance page.

Choice: the figures of /performance are the same for every visitor and change slowly, so each
app keeps the computed ``PublicPerformance`` (plain frozen data, no ORM objects) for
``PERFORMANCE_CACHE_SECONDS`` (default 600 s = 10 minutes) under the key (year, Beijing date).
Keying by date means a new day never serves yesterday's "up to today" figures. The cache lives in
``app.extensions`` — one per app object, so test apps (and several apps in one process) never see
each other's figures — and is guarded by a lock for threaded servers. With several worker
processes each keeps its own copy; at worst a worker shows figures up to 10 minutes old, which is
fine for a statistics page (a cache table would add a migration and writes for no real gain).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable

from flask import Flask

DEFAULT_TTL = 600
MAX_ENTRIES = 64
EXTENSION_KEY = "dashboard.performance_cache"


class TTLCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        now = self._clock()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = compute()  # outside the lock: a slow query does not block other keys
        with self._lock:
            if len(self._data) >= MAX_ENTRIES:
                for k in [k for k, (expires, _) in self._data.items() if expires <= now] or list(self._data)[:1]:
                    self._data.pop(k, None)
            self._data[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def performance_cache(app: Flask) -> TTLCache:
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        cache = app.extensions.setdefault(EXTENSION_KEY,
                                          TTLCache(float(app.config.get("PERFORMANCE_CACHE_SECONDS", DEFAULT_TTL))))
    return cache
