"""The one clock: the current moment in UTC, and dates in Beijing time (UTC+8 all year).

Every layer asks this module for "now" and "today"; tests set the time with `clock.frozen(...)`
(tests/conftest.py's `clock` fixture) instead of patching the modules that use it.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_fixed: datetime | None = None


def utcnow() -> datetime:
    """The current moment, timezone-aware in UTC."""
    return _fixed if _fixed is not None else datetime.now(timezone.utc)


def local_today() -> date:
    """Today's date in Beijing."""
    return utcnow().astimezone(BEIJING).date()


def local_date(moment: datetime) -> date:
    """The Beijing date of a moment (a naive moment is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).date()


def start_of_day(day: date) -> datetime:
    """Midnight of a Beijing day as a UTC moment, the way moments are stored."""
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(timezone.utc)


def set_now(moment: datetime | None) -> None:
    """Fix the clock at `moment` (aware, or naive UTC); None lets it run again."""
    global _fixed
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    _fixed = moment.astimezone(timezone.utc) if moment is not None else None


@contextmanager
def frozen(moment: datetime | date) -> Iterator[None]:
    """The clock stands at `moment` inside the block (a date means 10:00 Beijing time that day)."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(10, 0), tzinfo=BEIJING)
    before = _fixed
    set_now(moment)
    try:
        yield
    finally:
        set_now(before)
