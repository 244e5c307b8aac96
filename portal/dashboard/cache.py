"""How long the statistics pages may show figures computed earlier, and the small in-process
cache in front of the public performance page.

Two levels:

* ``stats_cache`` in the database (``services.stats.cache.cached``): the finished dashboard report
  of a filter, and the public page's figures of a year, keyed by filter and Beijing date and
  shared by every worker and host. The dashboard and its exports keep a report for
  ``DASHBOARD_CACHE_SECONDS`` (default 300 s); the public page its figures for
  ``PERFORMANCE_CACHE_SECONDS`` (default 600 s). 0 turns a cache off. Only results that took at
  least ``STATS_CACHE_MIN_COMPUTE_SECONDS`` (default 0.5 s) to compute are kept: a short range or
  a small bureau always shows the figures of now, a county-wide year (seconds at 1 M tickets)
  is kept. Every page says when its figures were computed ("数据更新于 HH:MM"); the dashboard has
  a button to compute them again, and ``flask --app portal stats refresh`` (cron, a little more
  often than the TTL) keeps the default views computed. Two workers that miss the same entry at
  the same moment both compute it; the later result is kept.
* For the public page, which anyone may load at any rate, each app also keeps the figures in
  memory (``TTLCache``), so that most visits never reach the database. An entry lives only as
  long as the figures are fresh: the stored result's age counts against the TTL, so the page is
  never older than ``PERFORMANCE_CACHE_SECONDS``. The cache lives in ``app.extensions`` — one
  per app object, so test apps (and several apps in one process) never see each other's figures —
  and is guarded by a lock for threaded servers. ``clear()`` empties both levels.

Keying by date means a new day never serves yesterday's "up to today" figures or overdue list.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable

from flask import Flask
from sqlalchemy.orm import Session

from services.stats.cache import clear_cache

DEFAULT_TTL = 600
DEFAULT_DASHBOARD_TTL = 300
DEFAULT_MIN_COMPUTE = 0.5
MAX_ENTRIES = 64
EXTENSION_KEY = "dashboard.performance_cache"
PERFORMANCE_PREFIX = "performance:"


class TTLCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic,
                 on_clear: Callable[[], None] | None = None):
        self.ttl = ttl
        self._clock = clock
        self._on_clear = on_clear
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any],
                       age: Callable[[Any], float] | None = None) -> Any:
        """The value under ``key`` while fresh, else ``compute()``. ``age(value)``: how many
        seconds old a computed value already is (one taken from a shared cache), counted
        against the TTL."""
        now = self._clock()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = compute()  # outside the lock: a slow query does not block other keys
        expires = now + self.ttl - (max(age(value), 0.0) if age is not None else 0.0)
        with self._lock:
            if len(self._data) >= MAX_ENTRIES:
                for k in [k for k, (ends, _) in self._data.items() if ends <= now] or list(self._data)[:1]:
                    self._data.pop(k, None)
            self._data[key] = (expires, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
        if self._on_clear is not None:
            self._on_clear()


def dashboard_cache_seconds(app: Flask) -> float:
    return float(app.config.get("DASHBOARD_CACHE_SECONDS", DEFAULT_DASHBOARD_TTL))


def min_compute_seconds(app: Flask) -> float:
    return float(app.config.get("STATS_CACHE_MIN_COMPUTE_SECONDS", DEFAULT_MIN_COMPUTE))


def performance_cache(app: Flask) -> TTLCache:
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        app = getattr(app, "_get_current_object", lambda: app)()  # current_app: the app itself
        ttl = float(app.config.get("PERFORMANCE_CACHE_SECONDS", DEFAULT_TTL))
        cache = app.extensions.setdefault(EXTENSION_KEY, TTLCache(ttl, on_clear=lambda: _clear_stored(app)))
    return cache


def _clear_stored(app: Flask) -> None:
    """Delete the public page's stored figures, with a session of its own (no app context
    needed, and a request's session is left alone)."""
    session = Session(bind=app.extensions["portal.db"].engine)
    try:
        clear_cache(session, PERFORMANCE_PREFIX)
    finally:
        session.close()
