"""Statistics of the tickets (办件统计): the supervisor dashboard, the bureau lead view, the public
performance page (政务公开) and their CSV/XLSX exports all call this module. No Flask imports.

Population
    Every figure is about the tickets (办件) *submitted* in the chosen date range, counted on the
    Beijing calendar day of ``Ticket.created_at`` (``from`` and ``to`` both included), and, when a
    bureau is chosen, whose responsible bureau is that bureau now (``Ticket.bureau_id``; a
    transferred ticket counts for the bureau it was transferred to). A bundle (一件事) makes one
    ticket per bureau, so it counts once per bureau. Times are stored in UTC (a naive value read
    back from SQLite is UTC, as in ``services.tickets.actions.local_date``).

Volumes
    ``received`` all tickets of the population; ``completed`` 办结 (status ``completed``),
    ``rejected`` 不予受理, ``withdrawn`` 企业撤回; ``open`` (backlog, 在办) every ticket whose status
    is not closed (``services.tickets.workflow.CLOSED``), need-info (补正) included. By service: a ticket
    counts once for each service it asks for (a ticket's services are distinct); free-text needs
    (我有需求) have no service and appear in no service or category row. By category: a ticket
    counts once for each distinct category of its services. By month: Beijing month of submission.

Overdue (超期)
    The rule of ``services.tickets.actions.due_state``: a ticket waiting for acceptance (``submitted``,
    ``returned``) is overdue when ``accept_due`` < today; a ticket being handled (any other open
    status except ``need_info``, whose clock is stopped) when ``due_date`` < today. Today is the
    Beijing date. The overdue list holds these tickets, most overdue first.

On-time rate (按时办结率)
    on_time / due_counted × 100, where due_counted = tickets with status ``completed`` that have a
    ``due_date`` and a ``closed_at``, and on_time = those whose Beijing date of ``closed_at`` is on
    or before ``due_date`` (the due date already includes the 补正 extension). Rejected and
    withdrawn tickets are not counted. None when due_counted is 0. One decimal.

Average handling time (平均办理用时, working days)
    Over tickets with status ``completed`` that have ``accepted_at`` and ``closed_at``: the working
    days in (accept day, completion day] on the official calendar (``workdays.Calendar``: holidays,
    调休 make-up days and admin overrides; ``Calendar.workdays_between``), minus ``paused_days``
    (the working days the clock stood still for 补正). Beijing dates. Mean, one decimal.

Average time to acceptance (平均签收用时, working days)
    Over tickets with ``accepted_at`` (any status): working days in (submission day, accept day].
    0 means accepted on the day of submission (or on the following days off). Mean, one decimal.

Satisfaction (满意度) and 差评率
    Only the latest rating of each ticket counts (the highest ``Rating.round``: a round-2 re-rating
    after a 差评 follow-up replaces round 1). satisfaction = mean of those scores (two decimals);
    bad_rate = share of rated tickets whose latest score is 1–2 (``ratings.BAD``) × 100, one decimal.

Efficiency
    Every figure is computed in the database, one pass over the filter's tickets per dimension:
    one statement groups them by bureau (the totals are the sum of its rows), one by service, one
    counts the categories, one the months; then the overdue list. The counts of a pass are
    ``count(*) FILTER (WHERE …)`` columns of the same statement, and the latest rating of each
    ticket is joined in. The working-day means never load tickets: with W(d) = the working days
    from a first day up to d (``WorkdayNumbers``, from ``workdays.Calendar`` in Python, sent along
    as an array), the handling days of a ticket are W(completion day) − W(accept day) − paused
    days, summed in SQL. The array covers the filter's days up to today; should a ticket's day
    fall outside it (a clock running ahead, say), the pass notices and runs again on a wider one.

Caching
    ``dashboard_report`` and ``public_performance`` can keep a finished result in the
    ``stats_cache`` table for ``cache_seconds``, keyed by filter and Beijing date, shared by every
    worker and host (``cached``). Only results that took a while to compute are kept, so cheap
    figures are always those of now. A result carries ``computed_at``, which the pages show
    ("数据更新于 HH:MM"); ``refresh=True`` computes it again at once, and ``refresh_defaults``
    (``flask --app portal stats refresh``, for cron) does so for the pages' default views.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from time import monotonic
from typing import Any, Callable, TypeVar

from sqlalchemy import and_, case, delete, exists, func, literal, not_, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import CompileError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Date, Integer, String

from services import policy
from services.core.clock import BEIJING, local_today
from services.core.errors import ValidationFailed
from services.models import (
    Bureau,
    Category,
    Rating,
    Request,
    RequestItem,
    Service,
    StatsCache,
    Ticket,
    User,
    ticket_is_open,
)
from services.tickets import ratings, workdays, workflow

MAX_SPAN_YEARS = 5
DEFAULT_MONTHS = 12
OVERDUE_LIMIT = 500
PUBLIC_YEARS = 5          # the public page offers this year and the four before
MIN_YEAR, MAX_YEAR = 2000, 2099
CACHE_FORMAT = 1                  # part of every key: bump it when a stored form changes
CACHE_KEEP = timedelta(days=2)    # older rows are deleted whenever a result is stored
CACHE_MIN_COMPUTE = 0.5           # seconds: results computed faster are not stored

ACCEPT_WAIT = (workflow.SUBMITTED, workflow.RETURNED)            # the acceptance deadline applies
NOT_HANDLING = tuple(workflow.CLOSED) + ACCEPT_WAIT + (workflow.NEED_INFO,)

log = logging.getLogger(__name__)


# =========================================================================== SQL helpers
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
    # Beijing time is UTC+8 all year (as services.tickets.actions.BEIJING and the SQLite form say);
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
        self.first, self.last = first, max(first, last)
        self.numbers: list[int] = []
        count, day = 0, self.first
        while day <= self.last:
            count += calendar.is_workday(day)
            self.numbers.append(count)
            day += timedelta(days=1)

    def widen(self, low: date, high: date) -> None:
        """Cover ``low`` to ``high`` as well."""
        self.__init__(self._calendar, min(self.first, low), max(self.last, high))

    def covers(self, low: date | None, high: date | None) -> bool:
        return low is None or (self.first <= low and high <= self.last)

    def params(self, dialect: str) -> tuple:
        """(first day, numbers) as bound parameters for ``workday_number`` on this dialect."""
        if dialect == "postgresql":
            return literal(self.first, Date()), literal(self.numbers, postgresql.ARRAY(Integer()))
        return literal(self.first, Date()), literal(json.dumps(self.numbers), String())


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _count_if(condition):
    return func.count().filter(condition)


def _utc_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(timezone.utc)


# =========================================================================== filters
@dataclass(frozen=True)
class StatsFilter:
    """Tickets submitted from ``date_from`` to ``date_to`` (Beijing dates, both included),
    optionally of one bureau."""

    date_from: date
    date_to: date
    bureau_id: int | None = None
    bureau_code: str | None = None
    bureau_name: str | None = None

    @property
    def start(self) -> datetime:
        return _utc_start(self.date_from)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound (UTC)."""
        return _utc_start(self.date_to + timedelta(days=1))

    def as_args(self) -> dict[str, str]:
        args = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.bureau_code:
            args["bureau"] = self.bureau_code
        return args

    def describe(self) -> str:
        return f"{self.date_from.isoformat()} 至 {self.date_to.isoformat()} · {self.bureau_name or '全部单位'}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_from(to: date, months: int = DEFAULT_MONTHS) -> date:
    """The first day of the month ``months - 1`` months before ``to``'s month (12 whole months)."""
    index = to.year * 12 + (to.month - 1) - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _parse_day(raw: str | date | None, field: str, label: str, errors: dict[str, str]) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = f"{label}格式不对，请按 2026-01-31 的格式填写"
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors[field] = f"{label}应在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间"
        return None
    return day


def parse_filter(session: Session, date_from: str | date | None = None, date_to: str | date | None = None,
                 bureau: str | None = None, *, today: date | None = None) -> StatsFilter:
    """Check the filters of the statistics pages and exports.

    Empty dates default to the last 12 whole months up to today. Raises ValidationFailed with a
    Chinese message under ``from``, ``to`` and/or ``bureau`` for an unreadable date, a start after
    the end, a range over 5 years, or an unknown bureau code.
    """
    today = today or local_today()
    errors: dict[str, str] = {}
    start = _parse_day(date_from, "from", "开始日期", errors)
    end = _parse_day(date_to, "to", "结束日期", errors)
    bureau_row = None
    code = (bureau or "").strip()
    if code:
        bureau_row = session.scalar(select(Bureau).where(Bureau.code == code[:32]))
        if bureau_row is None:
            shown = code if len(code) <= 32 else code[:32] + "…"
            errors["bureau"] = f"没有编码为“{shown}”的单位，请从列表中选择"
    if "from" not in errors and "to" not in errors:
        end = end or (today if start is None or start <= today else start)
        start = start or default_from(end)
        if start > end:
            errors["from"] = "开始日期不能晚于结束日期"
        elif end >= _add_years(start, MAX_SPAN_YEARS):
            where = "to" if date_to not in (None, "") else "from"
            errors[where] = f"统计区间不能超过 {MAX_SPAN_YEARS} 年，请缩短日期范围"
    if errors:
        raise ValidationFailed(errors, "筛选条件有误：" + "；".join(errors.values()))
    assert start is not None and end is not None
    if bureau_row is None:
        return StatsFilter(start, end)
    return StatsFilter(start, end, bureau_row.id, bureau_row.code, bureau_row.short_name)


def filter_for(session: Session, user: User, date_from: str | date | None = None,
               date_to: str | date | None = None, bureau: str | None = None, *,
               today: date | None = None) -> StatsFilter:
    """``parse_filter`` within what ``user`` may see (``services.policy.dashboard_bureau``)."""
    return parse_filter(session, date_from, date_to, policy.dashboard_bureau(user, bureau), today=today)


def bureau_choices(session: Session) -> list[tuple[str, str]]:
    """(code, short name) of every bureau, in the directory order, for the filter form."""
    return [(b.code, b.short_name) for b in session.scalars(select(Bureau).order_by(Bureau.position, Bureau.code))]


# =========================================================================== metrics
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


def _overdue_condition(today: date):
    accept_late = and_(Ticket.status.in_(ACCEPT_WAIT), Ticket.accept_due.isnot(None), Ticket.accept_due < today)
    handle_late = and_(Ticket.status.notin_(NOT_HANDLING), Ticket.due_date.isnot(None), Ticket.due_date < today)
    return or_(accept_late, handle_late)


def _conditions(flt: StatsFilter) -> list:
    conditions = [Ticket.created_at >= flt.start, Ticket.created_at < flt.end]
    if flt.bureau_id is not None:
        conditions.append(Ticket.bureau_id == flt.bureau_id)
    return conditions


#: The Metrics fields each pass computes, in the order of its columns.
PASS_FIELDS = ("received", "completed", "rejected", "withdrawn", "open", "overdue", "due_counted", "on_time",
               "handled", "handling_days", "accepted", "acceptance_days", "rated", "score_total", "bad")


def _latest_rating():
    """The ON clause that joins a ticket's latest rating (the highest round) and no other."""
    later = aliased(Rating)
    return and_(Rating.ticket_id == Ticket.id,
                not_(exists().where(later.ticket_id == Rating.ticket_id, later.round > Rating.round)))


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
        _count_if(completed),
        _count_if(Ticket.status == workflow.REJECTED),
        _count_if(Ticket.status == workflow.WITHDRAWN),
        _count_if(Ticket.status.notin_(workflow.CLOSED)),
        _count_if(_overdue_condition(today)),
        _count_if(with_due),
        _count_if(and_(with_due, close_day <= Ticket.due_date)),
        _count_if(handled),
        func.sum(w(close_day) - w(accept_day) - func.coalesce(Ticket.paused_days, 0)).filter(handled),
        _count_if(accepted),
        func.sum(w(accept_day) - w(created_day)).filter(accepted),
        func.count(Rating.id),
        func.sum(Rating.score),
        _count_if(Rating.score.in_(ratings.BAD)),
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
    q = q.outerjoin(Rating, _latest_rating()).where(*_conditions(flt)).group_by(*keys)
    rows, days = [], []
    n = len(keys)
    for row in session.execute(q):
        values = row[n:n + len(PASS_FIELDS)]
        rows.append((tuple(row[:n]), Metrics(**{f: int(v or 0) for f, v in zip(PASS_FIELDS, values)})))
        days.extend(_as_date(d) for d in row[n + len(PASS_FIELDS):] if d is not None)
    return _Pass(rows, min(days, default=None), max(days, default=None))


def _metrics_pass(session: Session, flt: StatsFilter, today: date, calendar: workdays.Calendar,
                  numbers: WorkdayNumbers, keys: tuple, by_service: bool = False) -> list[tuple[tuple, Metrics]]:
    """Metrics of the filter's tickets grouped by ``keys`` (columns of Ticket, or of RequestItem
    with ``by_service``: a ticket then counts once for each of its services), in one statement."""
    result = _run_pass(session, flt, today, numbers, keys, by_service)
    if not numbers.covers(result.low, result.high):  # a day beyond the table: once more, wider
        numbers.widen(result.low, result.high)
        result = _run_pass(session, flt, today, numbers, keys, by_service)
    if result.low is not None:
        # The calendar notes the years it had to guess (Calendar.warnings): exactly the days used.
        day = result.low
        while day <= result.high:
            calendar.is_workday(day)
            day += timedelta(days=1)
    return result.rows


def _reporting_settings(session: Session) -> None:
    """PostgreSQL, for this transaction only: no JIT (it compiles these one-pass aggregates for
    longer than they then run, ~0.5 s a statement at 1 M tickets), and plans made for the actual
    dates (a prepared statement's generic plan does not know how many tickets a range holds)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _numbers_for(flt: StatsFilter, today: date, calendar: workdays.Calendar) -> WorkdayNumbers:
    """W for the filter's days up to today (a private calendar copy, so that only the days the
    figures really use leave a warning behind)."""
    return WorkdayNumbers(workdays.Calendar(calendar.overrides), flt.date_from, max(flt.date_to, today))


def _grouped(session: Session, flt: StatsFilter, dimension: str, today: date,
             calendar: workdays.Calendar, numbers: WorkdayNumbers | None = None) -> dict[int, Metrics]:
    """Metrics per bureau (``dimension="bureau"``) or per service (``"service"``)."""
    if numbers is None:  # called on its own
        _reporting_settings(session)
        numbers = _numbers_for(flt, today, calendar)
    if dimension == "bureau":
        rows = _metrics_pass(session, flt, today, calendar, numbers, (Ticket.bureau_id,))
    elif dimension == "service":
        rows = _metrics_pass(session, flt, today, calendar, numbers, (RequestItem.service_id,), by_service=True)
    else:  # pragma: no cover - programming error
        raise ValueError(dimension)
    return {key[0]: m for key, m in rows}


# =========================================================================== the report
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


@dataclass(frozen=True)
class CountRow:
    key: str
    label: str
    received: int
    completed: int = 0


@dataclass(frozen=True)
class OverdueItem:
    number: str
    bureau: str
    enterprise: str
    services: str
    status: str
    status_label: str
    deadline_kind: str          # 签收 or 办理
    due: date
    workdays_late: int
    supervised: bool


@dataclass
class Report:
    filter: StatsFilter
    today: date
    totals: Metrics
    by_bureau: list[BureauRow]
    by_service: list[ServiceRow]
    by_category: list[CountRow]
    by_month: list[CountRow]
    overdue: list[OverdueItem]
    overdue_limit: int
    warnings: list[str] = field(default_factory=list)
    computed_at: datetime | None = None     # when the figures were computed (UTC)

    @property
    def overdue_total(self) -> int:
        return self.totals.overdue


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _bureau_rows(session: Session, grouped: dict[int, Metrics]) -> list[BureauRow]:
    if not grouped:
        return []
    bureaus = session.scalars(select(Bureau).where(Bureau.id.in_(list(grouped)))
                              .order_by(Bureau.position, Bureau.code)).all()
    return [BureauRow(b.code, b.short_name, grouped[b.id]) for b in bureaus]


def _service_rows(session: Session, grouped: dict[int, Metrics]) -> list[ServiceRow]:
    if not grouped:
        return []
    services = session.scalars(select(Service).where(Service.id.in_(list(grouped)))
                               .options(selectinload(Service.bureau), selectinload(Service.category))).all()
    rows = [ServiceRow(s.code, s.name, s.bureau.short_name, s.category.name, grouped[s.id]) for s in services]
    rows.sort(key=lambda r: (-r.metrics.received, r.code))
    return rows


def report(session: Session, flt: StatsFilter, *, today: date | None = None,
           calendar: workdays.Calendar | None = None, overdue_limit: int = OVERDUE_LIMIT) -> Report:
    """All the figures of the dashboard for one filter (see the module docstring)."""
    computed_at = datetime.now(timezone.utc)
    today = today or local_today()
    calendar = calendar or workdays.Calendar.from_session(session)
    _reporting_settings(session)
    numbers = _numbers_for(flt, today, calendar)
    by_bureau = _bureau_rows(session, _grouped(session, flt, "bureau", today, calendar, numbers))
    totals = Metrics()
    for row in by_bureau:
        totals.add(row.metrics)
    by_service = _service_rows(session, _grouped(session, flt, "service", today, calendar, numbers))

    category_counts = dict(session.execute(
        select(Service.category_id, func.count(func.distinct(Ticket.id))).select_from(Ticket)
        .join(RequestItem, RequestItem.ticket_id == Ticket.id).join(Service, Service.id == RequestItem.service_id)
        .where(*_conditions(flt)).group_by(Service.category_id)).all())
    by_category = [CountRow(c.code, c.name, int(category_counts.get(c.id, 0)))
                   for c in session.scalars(select(Category).order_by(Category.position, Category.code))]
    month = beijing_month(Ticket.created_at)
    month_counts = {m: (int(n), int(done)) for m, n, done in session.execute(
        select(month, func.count(), _count_if(Ticket.status == workflow.COMPLETED))
        .where(*_conditions(flt)).group_by(month))}
    by_month = [CountRow(m, f"{m[:4]}年{int(m[5:])}月", *month_counts.get(m, (0, 0)))
                for m in _months(flt.date_from, flt.date_to)]

    overdue = overdue_list(session, flt, today=today, calendar=calendar, limit=overdue_limit)
    return Report(flt, today, totals, by_bureau, by_service, by_category, by_month, overdue, overdue_limit,
                  calendar.warnings(), computed_at)


def overdue_list(session: Session, flt: StatsFilter, *, today: date | None = None,
                 calendar: workdays.Calendar | None = None, limit: int = OVERDUE_LIMIT) -> list[OverdueItem]:
    """Open tickets of the filter past their acceptance or handling deadline, most overdue first."""
    today = today or local_today()
    calendar = calendar or workdays.Calendar.from_session(session)
    deadline = case((Ticket.status.in_(ACCEPT_WAIT), Ticket.accept_due), else_=Ticket.due_date)
    tickets = session.scalars(
        # ticket_is_open() is implied by the overdue condition; it lets the partial open-ticket
        # index narrow the scan to the few open tickets instead of the period's all.
        select(Ticket).where(*_conditions(flt), ticket_is_open(), _overdue_condition(today))
        .options(selectinload(Ticket.bureau), selectinload(Ticket.items).selectinload(RequestItem.service),
                 selectinload(Ticket.request).selectinload(Request.enterprise))
        .order_by(deadline, Ticket.id).limit(limit)).all()
    items = []
    for t in tickets:
        waiting = t.status in ACCEPT_WAIT
        due = t.accept_due if waiting else t.due_date
        items.append(OverdueItem(
            number=t.number, bureau=t.bureau.short_name, enterprise=t.request.enterprise.name,
            services="、".join(i.service.name for i in t.items) or "我有需求（待分办）", status=t.status,
            status_label=workflow.label(t.status), deadline_kind="签收" if waiting else "办理", due=due,
            workdays_late=calendar.workdays_between(due, today), supervised=t.supervised_at is not None))
    return items


def dashboard_report(session: Session, user: User, date_from: str | date | None = None,
                     date_to: str | date | None = None, bureau: str | None = None, *,
                     today: date | None = None, calendar: workdays.Calendar | None = None,
                     cache_seconds: float = 0, refresh: bool = False,
                     cache_min_compute: float = CACHE_MIN_COMPUTE) -> Report:
    """The dashboard of ``user``: checks role and scope (``services.policy.dashboard_bureau``), then the filters.

    With ``cache_seconds`` > 0 a report of the same filter computed less than that long ago
    (by any worker) is returned from ``stats_cache``; otherwise, or with ``refresh``, the report
    is computed, and stored there (which commits the session) if that took at least
    ``cache_min_compute`` seconds: see ``cached``. ``Report.computed_at`` says when its figures
    were computed."""
    flt = filter_for(session, user, date_from, date_to, bureau, today=today)
    return _cached_report(session, flt, today or local_today(), calendar, cache_seconds, refresh, cache_min_compute)


def _cached_report(session: Session, flt: StatsFilter, today: date, calendar: workdays.Calendar | None,
                   seconds: float, refresh: bool, min_compute: float) -> Report:
    key = f"report:v{CACHE_FORMAT}:{flt.date_from}:{flt.date_to}:{flt.bureau_code or '-'}:{today}:{OVERDUE_LIMIT}"
    return cached(session, key, seconds, lambda: report(session, flt, today=today, calendar=calendar),
                  _report_payload, lambda data: _report_from(data, flt, today), refresh=refresh,
                  min_compute=min_compute)


def refresh_defaults(session: Session, *, bureaus: bool = False, dashboard_seconds: float,
                     performance_seconds: float, min_compute: float = CACHE_MIN_COMPUTE,
                     today: date | None = None) -> list[tuple[str, float]]:
    """Compute now, and keep (see ``cached``), what the pages show without filters: the
    dashboard's last 12 months for all bureaus, with ``bureaus`` also each bureau's own view, and
    the public page of this year. Run from cron a little more often than the pages keep their
    figures, nobody waits for these. Returns (what, seconds it took)."""
    today = today or local_today()
    done = []
    codes = [None] + ([code for code, _ in bureau_choices(session)] if bureaus else [])
    for code in codes:
        started = monotonic()
        flt = parse_filter(session, bureau=code, today=today)
        _cached_report(session, flt, today, None, dashboard_seconds, True, min_compute)
        done.append((flt.describe(), monotonic() - started))
    started = monotonic()
    public_performance(session, today.year, today=today, cache_seconds=performance_seconds,
                       refresh=True, cache_min_compute=min_compute)
    done.append((f"政务公开 {today.year} 年", monotonic() - started))
    return done


# =========================================================================== cached results

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
    ``refresh``: compute now whatever is stored.

    The cache is a help, never a condition: if its table cannot be read or written (a database
    not yet migrated, a read-only replica), the value is computed and a warning logged."""
    if seconds <= 0:
        return compute()
    now = now or datetime.now(timezone.utc)
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
    dialect = session.get_bind().dialect.name
    values = {"key": key, "computed_at": computed_at, "payload": payload}
    try:
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
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.warning("statistics cache: cannot store %s", key, exc_info=True)


def _forget(session: Session, key: str) -> None:
    try:
        session.execute(delete(StatsCache).where(StatsCache.key == key))
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.warning("statistics cache: cannot delete %s", key, exc_info=True)


def clear_cache(session: Session, prefix: str = "") -> int:
    """Delete the stored results whose key starts with ``prefix`` (all by default); commits."""
    result = session.execute(delete(StatsCache).where(StatsCache.key.startswith(prefix, autoescape=True)))
    session.commit()
    return result.rowcount or 0


def _report_payload(rep: Report) -> dict[str, Any]:
    return {
        "totals": asdict(rep.totals),
        "by_bureau": [[r.code, r.name, asdict(r.metrics)] for r in rep.by_bureau],
        "by_service": [[r.code, r.name, r.bureau, r.category, asdict(r.metrics)] for r in rep.by_service],
        "by_category": [[r.key, r.label, r.received, r.completed] for r in rep.by_category],
        "by_month": [[r.key, r.label, r.received, r.completed] for r in rep.by_month],
        "overdue": [{**asdict(o), "due": o.due.isoformat()} for o in rep.overdue],
        "overdue_limit": rep.overdue_limit,
        "warnings": list(rep.warnings),
    }


def _report_from(data: dict[str, Any], flt: StatsFilter, today: date) -> Report:
    return Report(
        filter=flt, today=today, totals=Metrics(**data["totals"]),
        by_bureau=[BureauRow(code, name, Metrics(**m)) for code, name, m in data["by_bureau"]],
        by_service=[ServiceRow(code, name, bureau, category, Metrics(**m))
                    for code, name, bureau, category, m in data["by_service"]],
        by_category=[CountRow(*r) for r in data["by_category"]],
        by_month=[CountRow(*r) for r in data["by_month"]],
        overdue=[OverdueItem(**{**o, "due": date.fromisoformat(o["due"])}) for o in data["overdue"]],
        overdue_limit=data["overdue_limit"], warnings=list(data["warnings"]), computed_at=data["computed_at"])


# =========================================================================== tables (page = exports)
@dataclass(frozen=True)
class Table:
    """One table as shown on the page and written to the CSV and XLSX exports: the same cells."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


METRIC_COLUMNS = ("办件量", "已办结", "在办", "超期未办结", "按时办结率（%）", "平均办理用时（工作日）",
                  "平均签收用时（工作日）", "满意度（分）", "差评率（%）", "评价数")


def _metric_cells(m: Metrics) -> tuple:
    return (m.received, m.completed, m.open, m.overdue, m.on_time_rate, m.avg_handling_days,
            m.avg_acceptance_days, m.satisfaction, m.bad_rate, m.rated)


def headline(m: Metrics) -> list[tuple[str, Any, str]]:
    """(label, value, unit) of the headline figures."""
    return [
        ("办件总量", m.received, "件"),
        ("已办结", m.completed, "件"),
        ("不予受理", m.rejected, "件"),
        ("企业撤回", m.withdrawn, "件"),
        ("在办（积压）", m.open, "件"),
        ("超期未办结", m.overdue, "件"),
        ("按时办结率", m.on_time_rate, "%"),
        ("平均办理用时", m.avg_handling_days, "工作日"),
        ("平均签收用时", m.avg_acceptance_days, "工作日"),
        ("满意度", m.satisfaction, "分（满分 5 分）"),
        ("差评率", m.bad_rate, "%"),
        ("评价数", m.rated, "件"),
    ]


def report_tables(rep: Report) -> list[Table]:
    """The figures of a report as tables, in page order. The page, the CSV and the XLSX all use these."""
    shown = len(rep.overdue)
    overdue_note = (f"共 {rep.overdue_total} 件，列出超期最久的 {shown} 件" if rep.overdue_total > shown
                    else f"共 {rep.overdue_total} 件")
    return [
        Table("summary", "总体指标", ("指标", "数值", "单位"), tuple(headline(rep.totals))),
        Table("bureau", "按单位统计", ("单位",) + METRIC_COLUMNS,
              tuple((r.name,) + _metric_cells(r.metrics) for r in rep.by_bureau)),
        Table("month", "按月统计（按提交月份）", ("月份", "办件量", "已办结"),
              tuple((r.key, r.received, r.completed) for r in rep.by_month)),
        Table("category", "按服务类别统计", ("服务类别", "办件量"),
              tuple((r.label, r.received) for r in rep.by_category),
              "一个办件涉及多个类别时，每个类别各计一次；“我有需求”类办件不计入。"),
        Table("service", "按服务事项统计", ("服务编码", "服务事项", "责任单位") + METRIC_COLUMNS,
              tuple((r.code, r.name, r.bureau) + _metric_cells(r.metrics) for r in rep.by_service),
              "一个办件含多项服务时，每项服务各计一次；“我有需求”类办件不计入。"),
        Table("overdue", "超期未办结办件", ("办件编号", "承办单位", "申请企业", "服务事项", "状态", "期限类型",
                                       "期限", "超期（工作日）", "已督办"),
              tuple((o.number, o.bureau, o.enterprise, o.services, o.status_label, o.deadline_kind,
                     o.due.isoformat(), o.workdays_late, "是" if o.supervised else "否") for o in rep.overdue),
              overdue_note),
    ]


# =========================================================================== public performance
@dataclass(frozen=True)
class PerformanceRow:
    """Public figures of one bureau or service: no enterprise data."""

    name: str
    bureau: str
    received: int
    completed: int
    on_time_rate: float | None
    avg_handling_days: float | None
    satisfaction: float | None
    rated: int


@dataclass(frozen=True)
class PublicPerformance:
    year: int
    date_from: date
    date_to: date
    totals: PerformanceRow
    bureaus: tuple[PerformanceRow, ...]
    services: tuple[PerformanceRow, ...]
    years: tuple[int, ...]
    computed_at: datetime | None = None     # when the figures were computed (UTC)


def _public_row(name: str, bureau: str, m: Metrics) -> PerformanceRow:
    return PerformanceRow(name, bureau, m.received, m.completed, m.on_time_rate, m.avg_handling_days,
                          m.satisfaction, m.rated)


def public_years(today: date | None = None) -> tuple[int, ...]:
    today = today or local_today()
    return tuple(range(today.year, today.year - PUBLIC_YEARS, -1))


def parse_year(raw: str | int | None, today: date | None = None) -> int:
    """The year of the public page: this year by default, else one of ``public_years``."""
    years = public_years(today)
    text = str(raw if raw is not None else "").strip()
    if not text:
        return years[0]
    if not text.isdigit() or int(text) not in years:
        raise ValidationFailed({"year": f"年份应为 {years[-1]} 至 {years[0]} 年之间"},
                               f"年份应为 {years[-1]} 至 {years[0]} 年之间")
    return int(text)


def public_performance(session: Session, year: str | int | None = None, *, today: date | None = None,
                       calendar: workdays.Calendar | None = None, cache_seconds: float = 0,
                       refresh: bool = False, cache_min_compute: float = CACHE_MIN_COMPUTE) -> PublicPerformance:
    """政务公开: per bureau and per service, the tickets submitted in ``year`` (up to today):
    received, completed, on-time rate, average handling working days, satisfaction. Only
    aggregates over catalog entries: never an enterprise, a request or a ticket number.
    ``cache_seconds``, ``refresh`` and ``cache_min_compute`` as for ``dashboard_report``."""
    today = today or local_today()
    y = parse_year(year, today)
    return cached(session, f"performance:v{CACHE_FORMAT}:{y}:{today}", cache_seconds,
                  lambda: _public_performance(session, y, today, calendar), _performance_payload,
                  _performance_from, refresh=refresh, min_compute=cache_min_compute)


def _public_performance(session: Session, y: int, today: date,
                        calendar: workdays.Calendar | None) -> PublicPerformance:
    computed_at = datetime.now(timezone.utc)
    calendar = calendar or workdays.Calendar.from_session(session)
    _reporting_settings(session)
    flt = StatsFilter(date(y, 1, 1), min(date(y, 12, 31), today))
    numbers = _numbers_for(flt, today, calendar)
    bureaus = _bureau_rows(session, _grouped(session, flt, "bureau", today, calendar, numbers))
    totals = Metrics()
    for row in bureaus:
        totals.add(row.metrics)
    services = _service_rows(session, _grouped(session, flt, "service", today, calendar, numbers))
    return PublicPerformance(
        year=y, date_from=flt.date_from, date_to=flt.date_to, totals=_public_row("全县合计", "", totals),
        bureaus=tuple(_public_row(b.name, b.name, b.metrics) for b in bureaus),
        services=tuple(_public_row(s.name, s.bureau, s.metrics) for s in services),
        years=public_years(today), computed_at=computed_at)


def _performance_payload(data: PublicPerformance) -> dict[str, Any]:
    def rows(items):
        return [asdict(r) for r in items]

    return {"year": data.year, "date_from": data.date_from.isoformat(), "date_to": data.date_to.isoformat(),
            "totals": asdict(data.totals), "bureaus": rows(data.bureaus), "services": rows(data.services),
            "years": list(data.years)}


def _performance_from(data: dict[str, Any]) -> PublicPerformance:
    return PublicPerformance(
        year=data["year"], date_from=date.fromisoformat(data["date_from"]), date_to=date.fromisoformat(data["date_to"]),
        totals=PerformanceRow(**data["totals"]), bureaus=tuple(PerformanceRow(**r) for r in data["bureaus"]),
        services=tuple(PerformanceRow(**r) for r in data["services"]), years=tuple(data["years"]),
        computed_at=data["computed_at"])


__all__ = [
    "BureauRow", "CountRow", "Metrics", "OverdueItem", "PerformanceRow", "PublicPerformance", "Report",
    "ServiceRow", "StatsFilter", "Table", "WorkdayNumbers", "bureau_choices", "cached",
    "clear_cache", "dashboard_report", "refresh_defaults",
    "default_from", "filter_for", "headline", "overdue_list", "parse_filter", "parse_year", "public_performance",
    "public_years", "ratio", "report", "report_tables",
]
