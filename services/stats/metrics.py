"""The metrics of a group of tickets (``Metrics``) and the passes that compute them in the
database; the figures are defined in ``services.stats.reports``' docstring. No Flask imports.

One pass over the filter's tickets per dimension: one statement groups them by bureau (the
totals are the sum of its rows), one by service. The counts of a pass are
``count(*) FILTER (WHERE …)`` columns of the same statement, and the latest rating of each
ticket is joined in. The working-day means never load tickets: with W(d) = the working days
from a first day up to d (``WorkdayNumbers``, from ``workdays.Calendar`` in Python, sent along
as an array), the handling days of a ticket are W(completion day) − W(accept day) − paused
days, summed in SQL. The array covers the filter's days up to today; should a ticket's day
fall outside it (a clock running ahead, say), the pass notices and runs again on a wider one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session, selectinload

from services.models import Bureau, Rating, RequestItem, Service, Ticket
from services.stats.filters import StatsFilter, ticket_conditions
from services.stats.sql import (
    WorkdayNumbers,
    as_date,
    beijing_date,
    count_if,
    latest_rating,
    overdue_condition,
    workday_number,
)
from services.tickets import ratings, workdays, workflow


def ratio(part: int, whole: int, digits: int, scale: int = 1) -> float | None:
    """part × scale / whole rounded half up (8.25 → 8.3, as people round), or None when whole is 0."""
    if not whole:
        return None
    exact = Decimal(part * scale) / Decimal(whole)
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _pct(part: int, whole: int) -> float | None:
    return ratio(part, whole, 1, 100)


@dataclass
class Metrics:
    """Counts and sums for one group of tickets; the rates and means are derived properties."""

    received: int = 0
    completed: int = 0
    rejected: int = 0
    withdrawn: int = 0
    open: int = 0
    overdue: int = 0
    due_counted: int = 0
    on_time: int = 0
    handled: int = 0
    handling_days: int = 0
    accepted: int = 0
    acceptance_days: int = 0
    rated: int = 0
    score_total: int = 0
    bad: int = 0

    def add(self, other: Metrics) -> Metrics:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    @property
    def on_time_rate(self) -> float | None:
        """Percent, one decimal; None without completed tickets that had a due date."""
        return _pct(self.on_time, self.due_counted)

    @property
    def avg_handling_days(self) -> float | None:
        return ratio(max(self.handling_days, 0), self.handled, 1)

    @property
    def avg_acceptance_days(self) -> float | None:
        return ratio(self.acceptance_days, self.accepted, 1)

    @property
    def satisfaction(self) -> float | None:
        return ratio(self.score_total, self.rated, 2)

    @property
    def bad_rate(self) -> float | None:
        return _pct(self.bad, self.rated)


#: The Metrics fields each pass computes, in the order of its columns.
PASS_FIELDS = ("received", "completed", "rejected", "withdrawn", "open", "overdue", "due_counted", "on_time",
               "handled", "handling_days", "accepted", "acceptance_days", "rated", "score_total", "bad")


def _pass_columns(today: date, numbers: WorkdayNumbers, dialect: str) -> list:
    """The aggregate columns of one pass: PASS_FIELDS, then the first and last day that the
    working-day sums looked up (to check that ``numbers`` covered them)."""
    first, table = numbers.params(dialect)

    def w(day):
        return workday_number(day, first, table)

    completed = Ticket.status == workflow.COMPLETED
    created_day, accept_day, close_day = (beijing_date(Ticket.created_at), beijing_date(Ticket.accepted_at),
                                          beijing_date(Ticket.closed_at))
    with_due = and_(completed, Ticket.due_date.isnot(None), Ticket.closed_at.isnot(None))
    handled = and_(completed, Ticket.accepted_at.isnot(None), Ticket.closed_at.isnot(None),
                   Ticket.closed_at >= Ticket.accepted_at)
    accepted = and_(Ticket.accepted_at.isnot(None), Ticket.accepted_at >= Ticket.created_at)
    return [
        func.count(),
        count_if(completed),
        count_if(Ticket.status == workflow.REJECTED),
        count_if(Ticket.status == workflow.WITHDRAWN),
        count_if(Ticket.status.notin_(workflow.CLOSED)),
        count_if(overdue_condition(today)),
        count_if(with_due),
        count_if(and_(with_due, close_day <= Ticket.due_date)),
        count_if(handled),
        func.sum(w(close_day) - w(accept_day) - func.coalesce(Ticket.paused_days, 0)).filter(handled),
        count_if(accepted),
        func.sum(w(accept_day) - w(created_day)).filter(accepted),
        func.count(Rating.id),
        func.sum(Rating.score),
        count_if(Rating.score.in_(ratings.BAD)),
        func.min(created_day).filter(accepted),
        func.min(accept_day).filter(or_(accepted, handled)),
        func.max(accept_day).filter(or_(accepted, handled)),
        func.max(close_day).filter(handled),
    ]


@dataclass
class _Pass:
    """The rows of one pass: Metrics per key, and the span of days the working-day sums used."""

    rows: list[tuple[tuple, Metrics]]
    low: date | None
    high: date | None


def _run_pass(session: Session, flt: StatsFilter, today: date, numbers: WorkdayNumbers, keys: tuple,
              by_service: bool) -> _Pass:
    dialect = session.get_bind().dialect.name
    q = select(*keys, *_pass_columns(today, numbers, dialect)).select_from(Ticket)
    if by_service:
        q = q.join(RequestItem, RequestItem.ticket_id == Ticket.id)
    q = q.outerjoin(Rating, latest_rating()).where(*ticket_conditions(flt)).group_by(*keys)
    rows: list[tuple[tuple, Metrics]] = []
    days: list[date] = []
    n = len(keys)
    for row in session.execute(q):
        values = row[n:n + len(PASS_FIELDS)]
        rows.append((tuple(row[:n]), Metrics(**{f: int(v or 0) for f, v in zip(PASS_FIELDS, values)})))
        days.extend(as_date(d) for d in row[n + len(PASS_FIELDS):] if d is not None)
    return _Pass(rows, min(days, default=None), max(days, default=None))


def _metrics_pass(session: Session, flt: StatsFilter, today: date, calendar: workdays.Calendar,
                  numbers: WorkdayNumbers, keys: tuple, by_service: bool = False) -> list[tuple[tuple, Metrics]]:
    """Metrics of the filter's tickets grouped by ``keys`` (columns of Ticket, or of RequestItem
    with ``by_service``: a ticket then counts once for each of its services), in one statement."""
    result = _run_pass(session, flt, today, numbers, keys, by_service)
    low, high = result.low, result.high           # the tickets' days: the same in a second run
    if low is None or high is None:               # no working-day sums at all
        return result.rows
    if not numbers.covers(low, high):             # a day beyond the table: once more, wider
        numbers.widen(low, high)
        result = _run_pass(session, flt, today, numbers, keys, by_service)
    # The calendar notes the years it had to guess (Calendar.warnings): exactly the days used.
    day = low
    while day <= high:
        calendar.is_workday(day)
        day += timedelta(days=1)
    return result.rows


def reporting_settings(session: Session) -> None:
    """PostgreSQL, for this transaction only: no JIT (it compiles these one-pass aggregates for
    longer than they then run, ~0.5 s a statement at 1 M tickets), and plans made for the actual
    dates (a prepared statement's generic plan does not know how many tickets a range holds)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def numbers_for(flt: StatsFilter, today: date, calendar: workdays.Calendar) -> WorkdayNumbers:
    """W for the filter's days up to today (a private calendar copy, so that only the days the
    figures really use leave a warning behind)."""
    return WorkdayNumbers(workdays.Calendar(calendar.overrides), flt.date_from, max(flt.date_to, today))


def grouped(session: Session, flt: StatsFilter, dimension: str, today: date,
             calendar: workdays.Calendar, numbers: WorkdayNumbers | None = None) -> dict[int, Metrics]:
    """Metrics per bureau (``dimension="bureau"``) or per service (``"service"``)."""
    if numbers is None:  # called on its own
        reporting_settings(session)
        numbers = numbers_for(flt, today, calendar)
    if dimension == "bureau":
        rows = _metrics_pass(session, flt, today, calendar, numbers, (Ticket.bureau_id,))
    elif dimension == "service":
        rows = _metrics_pass(session, flt, today, calendar, numbers, (RequestItem.service_id,), by_service=True)
    else:  # pragma: no cover - programming error
        raise ValueError(dimension)
    return {key[0]: m for key, m in rows}


@dataclass(frozen=True)
class BureauRow:
    code: str
    name: str
    metrics: Metrics


@dataclass(frozen=True)
class ServiceRow:
    code: str
    name: str
    bureau: str
    category: str
    metrics: Metrics


def bureau_rows(session: Session, by_id: dict[int, Metrics]) -> list[BureauRow]:
    """The rows of ``grouped(..., "bureau")``, in the directory order."""
    if not by_id:
        return []
    bureaus = session.scalars(select(Bureau).where(Bureau.id.in_(list(by_id)))
                              .order_by(Bureau.position, Bureau.code)).all()
    return [BureauRow(b.code, b.short_name, by_id[b.id]) for b in bureaus]


def service_rows(session: Session, by_id: dict[int, Metrics]) -> list[ServiceRow]:
    """The rows of ``grouped(..., "service")``, most received first."""
    if not by_id:
        return []
    services = session.scalars(select(Service).where(Service.id.in_(list(by_id)))
                               .options(selectinload(Service.bureau), selectinload(Service.category))).all()
    rows = [ServiceRow(s.code, s.name, s.bureau.short_name, s.category.name, by_id[s.id]) for s in services]
    rows.sort(key=lambda r: (-r.metrics.received, r.code))
    return rows

