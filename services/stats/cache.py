"""Finished statistics kept in the ``stats_cache`` table, shared by every worker and host.

``dashboard_report`` and ``public_performance`` can keep a finished result there for
``cache_seconds``, keyed by filter and Beijing date (``cached``). Only results that took a while
to compute are kept, so cheap figures are always those of now. A result carries
``computed_at``, which the pages show ("数据更新于 HH:MM"); ``refresh=True`` computes it again at
once, and ``services.stats.reports.refresh_defaults`` (``flask --app portal stats refresh``, for
cron) does so for the pages' default views.

The cache is a help, never a condition: a read or write that fails logs a warning and the value
is computed instead. Writes commit through ``services.core.transaction.atomic``. What a value
looks like in the table is for its module to say (``encode``/``decode``); this one only keeps
them. No Flask imports.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from time import monotonic
from typing import Any, Callable, TypeVar, cast

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.transaction import atomic
from services.models import StatsCache

CACHE_FORMAT = 1                  # part of every key: bump it when a stored form changes
CACHE_KEEP = timedelta(days=2)    # older rows are deleted whenever a result is stored
CACHE_MIN_COMPUTE = 0.5           # seconds: results computed faster are not stored

log = logging.getLogger(__name__)

_T = TypeVar("_T")


def _utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive UTC back)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def cached(session: Session, key: str, seconds: float, compute: Callable[[], _T],
           encode: Callable[[_T], dict[str, Any]], decode: Callable[[dict[str, Any]], _T], *,
           refresh: bool = False, min_compute: float = CACHE_MIN_COMPUTE, now: datetime | None = None) -> _T:
    """The value stored under ``key`` if it was computed less than ``seconds`` ago, else
    ``compute()``, stored under ``key`` when it took at least ``min_compute`` seconds (cheap
    figures are always computed afresh). The value has a ``computed_at`` (aware UTC), which
    ``decode`` receives as ``data["computed_at"]``. ``seconds`` <= 0: no cache at all;
    ``refresh``: compute now whatever is stored. Storing commits the session.

    The cache is a help, never a condition: if its table cannot be read or written (a database
    not yet migrated, a read-only replica), the value is computed and a warning logged."""
    if seconds <= 0:
        return compute()
    now = now or utcnow()
    if not refresh:
        try:
            row = session.execute(select(StatsCache.payload, StatsCache.computed_at)
                                  .where(StatsCache.key == key)).first()
        except SQLAlchemyError:
            log.warning("statistics cache: cannot read %s", key, exc_info=True)
            session.rollback()
            row = None
        if row is not None and now - _utc(row.computed_at) < timedelta(seconds=seconds):
            try:
                return decode({**row.payload, "computed_at": _utc(row.computed_at)})
            except (KeyError, TypeError, ValueError):  # not the form this code writes: compute again
                log.warning("statistics cache: unreadable entry %s", key, exc_info=True)
    started = monotonic()
    value = compute()
    if monotonic() - started >= min_compute:
        _store(session, key, encode(value), value.computed_at)  # type: ignore[attr-defined]
    elif refresh:  # an earlier, slower computation must not be shown again
        _forget(session, key)
    return value


def _store(session: Session, key: str, payload: dict[str, Any], computed_at: datetime) -> None:
    """Keep ``payload`` under ``key`` and drop entries older than ``CACHE_KEEP``; a failure is logged."""
    dialect = session.get_bind().dialect.name
    values = {"key": key, "computed_at": computed_at, "payload": payload}
    try:
        with atomic(session):
            if dialect in ("postgresql", "sqlite"):
                insert = (postgresql if dialect == "postgresql" else sqlite).insert(StatsCache).values(values)
                # Two workers may compute the same figures at once: the later computation wins.
                session.execute(insert.on_conflict_do_update(
                    index_elements=[StatsCache.key], set_={"computed_at": insert.excluded.computed_at,
                                                          "payload": insert.excluded.payload},
                    where=StatsCache.computed_at <= insert.excluded.computed_at))
            else:  # pragma: no cover - other databases
                session.execute(delete(StatsCache).where(StatsCache.key == key))
                session.add(StatsCache(**values))
            session.execute(delete(StatsCache).where(StatsCache.computed_at < computed_at - CACHE_KEEP))
    except SQLAlchemyError:  # atomic has rolled back
        log.warning("statistics cache: cannot store %s", key, exc_info=True)


def _forget(session: Session, key: str) -> None:
    """Drop the entry under ``key``; a failure is logged."""
    try:
        with atomic(session):
            session.execute(delete(StatsCache).where(StatsCache.key == key))
    except SQLAlchemyError:  # atomic has rolled back
        log.warning("statistics cache: cannot delete %s", key, exc_info=True)


def clear_cache(session: Session, prefix: str = "") -> int:
    """Delete the stored results whose key starts with ``prefix`` (all by default); commits."""
    with atomic(session):
        result = cast(CursorResult, session.execute(
            delete(StatsCache).where(StatsCache.key.startswith(prefix, autoescape=True))))
    return result.rowcount or 0
