"""Working-day calendar for statutory deadlines (承诺时限, counted in 工作日).

The official PRC calendar comes from the ``chinesecalendar`` package: statutory holidays
(法定节假日) and the make-up working days (调休上班) the State Council announces each year.
Admins can override any day (``HolidayOverride`` rows); an override always wins. For years
the library does not know yet, the calendar falls back to Monday–Friday and records a
warning (once per year) instead of failing, so a deadline can always be computed.

No Flask imports: pages, the API and the CLI all use these functions.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache

import chinese_calendar
from sqlalchemy import delete, select

from services.core.errors import ValidationFailed
from services.core.transaction import atomic
from services.models import HolidayOverride

__all__ = [
    "DUE_SOON",
    "ON_TIME",
    "OVERDUE",
    "Calendar",
    "UncoveredYear",
    "covered_years",
    "delete_override",
    "due_date",
    "list_overrides",
    "set_override",
    "status_of",
]

OVERDUE = "overdue"
DUE_SOON = "due_soon"
ON_TIME = "on_time"

NOTE_MAX_LENGTH = 100  # holiday_override.note is String(100)

_ONE_DAY = timedelta(days=1)


class UncoveredYear(UserWarning):
    """A date fell in a year the official calendar library does not cover.

    Never raised by the calendar: it is recorded as a message in ``Calendar.warnings()``
    and the year is computed Monday–Friday.
    """

    def __init__(self, year: int):
        self.year = year
        super().__init__(uncovered_message(year))


def uncovered_message(year: int) -> str:
    return f"{year} 年的法定节假日尚未收录，按周一至周五计算工作日，请管理员在节假日设置中补充。"


def _as_date(day: date | datetime) -> date:
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    raise TypeError(f"expected a date, got {type(day).__name__}")


@cache
def _library_day(day: date) -> bool | None:
    """The library's verdict for one day, or None when its year is not covered.

    The library's data never changes while the process runs, so this is cached globally.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def covered_years() -> range:
    """The years the installed chinesecalendar knows (e.g. range(2004, 2027) for 2004–2026)."""
    days = chinese_calendar.holidays.keys()
    return range(min(days).year, max(days).year + 1)


class Calendar:
    """Working days on the official PRC calendar (chinesecalendar: statutory holidays and 调休
    make-up working days), with admin overrides winning."""

    def __init__(self, overrides: Mapping[date, bool] | None = None):
        self._overrides: dict[date, bool] = {
            _as_date(day): bool(flag) for day, flag in (overrides or {}).items()
        }
        self._cache: dict[date, bool] = {}
        self._uncovered: dict[int, str] = {}

    @classmethod
    def from_session(cls, session) -> Calendar:
        """A calendar with every HolidayOverride row of the database."""
        rows = session.execute(select(HolidayOverride.day, HolidayOverride.is_workday)).all()
        return cls({day: is_workday for day, is_workday in rows})

    @property
    def overrides(self) -> dict[date, bool]:
        return dict(self._overrides)

    # ------------------------------------------------------------------ single days
    def is_workday(self, day: date) -> bool:
        day = _as_date(day)
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self._overrides:
            result = self._overrides[day]
        else:
            verdict = _library_day(day)
            if verdict is None:
                if day.year not in self._uncovered:
                    self._uncovered[day.year] = uncovered_message(day.year)
                result = day.weekday() < 5
            else:
                result = verdict
        self._cache[day] = result
        return result

    def is_holiday(self, day: date) -> bool:
        return not self.is_workday(day)

    # ------------------------------------------------------------------ spans
    def next_workday(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day."""
        day = _as_date(day)
        while not self.is_workday(day):
            day += _ONE_DAY
        return day

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (``start`` itself never counts).

        n == 0 gives ``start`` if it is a working day, else the next working day.
        A negative n counts backwards: the |n|-th working day before ``start``.
        """
        start = _as_date(start)
        n = int(n)
        if n == 0:
            return self.next_workday(start)
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        day = start
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 when end <= start."""
        start, end = _as_date(start), _as_date(end)
        count = 0
        day = start + _ONE_DAY
        while day <= end:
            if self.is_workday(day):
                count += 1
            day += _ONE_DAY
        return count

    # ------------------------------------------------------------------ diagnostics
    def warnings(self) -> list[str]:
        """Chinese messages, one per uncovered year that was used without an override."""
        return [self._uncovered[year] for year in sorted(self._uncovered)]

    def uncovered_years(self) -> list[int]:
        return sorted(self._uncovered)


# ---------------------------------------------------------------------- deadlines
def due_date(calendar: Calendar, accepted: date, working_days: int, paused_days: int = 0) -> date:
    """Acceptance + promised working days, extended by the working days the clock was
    stopped (补正). With 0 working days the deadline is the acceptance day itself (or the
    next working day if it was accepted on a day off)."""
    if working_days < 0 or paused_days < 0:
        raise ValueError("working_days and paused_days must not be negative")
    return calendar.add_workdays(accepted, int(working_days) + int(paused_days))


def status_of(calendar: Calendar, due: date | None, today: date, done: bool) -> str:
    """"overdue" once ``today`` is past ``due``; "due_soon" when at most one working day is
    left (due today included); else "on_time". Finished tickets and tickets without a
    deadline are "on_time"."""
    if done or due is None:
        return ON_TIME
    due, today = _as_date(due), _as_date(today)
    if today > due:
        return OVERDUE
    if calendar.workdays_between(today, due) <= 1:
        return DUE_SOON
    return ON_TIME


# ---------------------------------------------------------------------- admin overrides
def set_override(session, day: date, is_workday: bool, note: str = "") -> HolidayOverride:
    """Create or update the override for ``day``; commits."""
    day = _as_date(day)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed({"note": f"说明不能超过 {NOTE_MAX_LENGTH} 个字。"})
    with atomic(session):  # with whatever the caller added to the session (an audit row)
        row = session.execute(select(HolidayOverride).where(HolidayOverride.day == day)).scalar_one_or_none()
        if row is None:
            row = HolidayOverride(day=day, is_workday=bool(is_workday), note=note)
            session.add(row)
        else:
            row.is_workday = bool(is_workday)
            row.note = note
    return row


def delete_override(session, day: date) -> None:
    """Remove the override for ``day`` (no-op when there is none); commits."""
    with atomic(session):
        session.execute(delete(HolidayOverride).where(HolidayOverride.day == _as_date(day)))


def list_overrides(session, year: int | None = None) -> list[HolidayOverride]:
    """All overrides by day, or those of one year."""
    stmt = select(HolidayOverride).order_by(HolidayOverride.day)
    if year is not None:
        stmt = stmt.where(
            HolidayOverride.day >= date(year, 1, 1), HolidayOverride.day <= date(year, 12, 31)
        )
    return list(session.execute(stmt).scalars())
