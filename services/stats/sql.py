"""SQL building blocks of the statistics: Beijing dates and months of UTC timestamps, working-day
numbers looked up in SQL, and the conditions every pass shares (overdue, latest rating).

Times are stored in UTC (a naive value read back from SQLite is UTC); Beijing time is UTC+8 all
year (``services.core.clock.BEIJING``), so a fixed offset gives its calendar day. No Flask imports.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, literal, not_, or_
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Date, Integer, String

from services.models import Rating, Ticket
from services.tickets import workdays, workflow

ACCEPT_WAIT = workflow.ordered(workflow.AWAITING_ACCEPTANCE)     # the acceptance deadline applies
NOT_HANDLING = workflow.ordered(workflow.CLOSED | workflow.AWAITING_ACCEPTANCE | {workflow.NEED_INFO})


class beijing_date(FunctionElement):  # noqa: N801 - reads like a SQL function
    """The Beijing calendar date of a UTC timestamp column."""

    type = String()
    name = "beijing_date"
    inherit_cache = True


class beijing_month(FunctionElement):  # noqa: N801
    """'YYYY-MM' of a UTC timestamp column in Beijing time."""

    type = String()
    name = "beijing_month"
    inherit_cache = True


@compiles(beijing_date, "sqlite")
def _bd_sqlite(element, compiler, **kw):
    return "date(%s, '+8 hours')" % compiler.process(element.clauses, **kw)


@compiles(beijing_date, "postgresql")
def _bd_pg(element, compiler, **kw):
    # Beijing time is UTC+8 all year (services.core.clock.BEIJING; the SQLite form says the same);
    # a fixed offset is also much cheaper per row than a time zone lookup.
    return "CAST((%s AT TIME ZONE 'UTC') + INTERVAL '8 hours' AS DATE)" % compiler.process(element.clauses, **kw)


@compiles(beijing_date)
def _bd_default(element, compiler, **kw):  # pragma: no cover - other databases
    return "CAST((%s + INTERVAL '8' HOUR) AS DATE)" % compiler.process(element.clauses, **kw)


@compiles(beijing_month, "sqlite")
def _bm_sqlite(element, compiler, **kw):
    return "strftime('%%Y-%%m', %s, '+8 hours')" % compiler.process(element.clauses, **kw)


@compiles(beijing_month, "postgresql")
def _bm_pg(element, compiler, **kw):
    return "to_char((%s AT TIME ZONE 'UTC') + INTERVAL '8 hours', 'YYYY-MM')" % compiler.process(
        element.clauses, **kw)


@compiles(beijing_month)
def _bm_default(element, compiler, **kw):  # pragma: no cover - other databases
    return "SUBSTRING(CAST((%s + INTERVAL '8' HOUR) AS VARCHAR(30)) FROM 1 FOR 7)" % compiler.process(
        element.clauses, **kw)


class workday_number(FunctionElement):  # noqa: N801
    """W(day) from a ``WorkdayNumbers`` table: the working days from its first day up to ``day``;
    NULL for a day outside the table. Arguments: the day, the table's first day, its numbers
    (an INTEGER[] on PostgreSQL, a JSON array on SQLite)."""

    type = Integer()
    name = "workday_number"
    inherit_cache = True


@compiles(workday_number, "postgresql")
def _wn_pg(element, compiler, **kw):
    day, first, numbers = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({numbers} AS INTEGER[]))[({day}) - CAST({first} AS DATE) + 1]"


@compiles(workday_number, "sqlite")
def _wn_sqlite(element, compiler, **kw):
    day, first, numbers = (compiler.process(c, **kw) for c in element.clauses)
    return (f"CASE WHEN {day} >= {first} THEN json_extract({numbers}, '$[' || "
            f"CAST(julianday({day}) - julianday({first}) AS INTEGER) || ']') END")


@compiles(workday_number)
def _wn_default(element, compiler, **kw):  # pragma: no cover - other databases
    raise CompileError("workday_number is written for PostgreSQL and SQLite only")


class WorkdayNumbers:
    """W(d) for every day from ``first`` to ``last``: the working days in [first, d] on the
    calendar, so that ``Calendar.workdays_between(a, b)`` = W(b) − W(a) for a, b in the range."""

    def __init__(self, calendar: workdays.Calendar, first: date, last: date):
        self._calendar = calendar
        self._fill(first, last)

    def _fill(self, first: date, last: date) -> None:
        self.first, self.last = first, max(first, last)
        self.numbers: list[int] = []
        count, day = 0, self.first
        while day <= self.last:
            count += self._calendar.is_workday(day)
            self.numbers.append(count)
            day += timedelta(days=1)

    def widen(self, low: date, high: date) -> None:
        """Cover ``low`` to ``high`` as well."""
        self._fill(min(self.first, low), max(self.last, high))

    def covers(self, low: date | None, high: date | None) -> bool:
        """Whether ``low`` to ``high`` lie in the table (no days at all: yes)."""
        return low is None or high is None or (self.first <= low and high <= self.last)

    def params(self, dialect: str) -> tuple:
        """(first day, numbers) as bound parameters for ``workday_number`` on this dialect."""
        if dialect == "postgresql":
            return literal(self.first, Date()), literal(self.numbers, postgresql.ARRAY(Integer()))
        return literal(self.first, Date()), literal(json.dumps(self.numbers), String())


def as_date(value: Any) -> date:
    """A day as the database gives it back (a date, a datetime or ISO text)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def count_if(condition):
    """``count(*) FILTER (WHERE condition)``."""
    return func.count().filter(condition)


def overdue_condition(today: date):
    """The rule of ``services.tickets.actions.due_state``: waiting for acceptance past
    ``accept_due``, or being handled (need-info excepted: its clock stands) past ``due_date``."""
    accept_late = and_(Ticket.status.in_(ACCEPT_WAIT), Ticket.accept_due.isnot(None), Ticket.accept_due < today)
    handle_late = and_(Ticket.status.notin_(NOT_HANDLING), Ticket.due_date.isnot(None), Ticket.due_date < today)
    return or_(accept_late, handle_late)


def latest_rating():
    """The ON clause that joins a ticket's latest rating (the highest round) and no other."""
    later = aliased(Rating)
    return and_(Rating.ticket_id == Ticket.id,
                not_(exists().where(later.ticket_id == Rating.ticket_id, later.round > Rating.round)))
