"""Statistics of the tickets (办件统计): the supervisor dashboard and the bureau lead view (and
their CSV/XLSX exports) call this module; what each figure means is defined here. No Flask imports.

Population
    Every figure is about the tickets (办件) *submitted* in the chosen date range, counted on the
    Beijing calendar day of ``Ticket.created_at`` (``from`` and ``to`` both included), and, when a
    bureau is chosen, whose responsible bureau is that bureau now (``Ticket.bureau_id``; a
    transferred ticket counts for the bureau it was transferred to). A bundle (一件事) makes one
    ticket per bureau, so it counts once per bureau. Times are stored in UTC (a naive value read
    back from SQLite is UTC, as ``services.core.clock.local_date`` reads it).

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
    Every figure is computed in the database: one pass over the filter's tickets groups them by
    bureau (the totals are the sum of its rows), one by service (``services.stats.metrics``), one
    statement counts the categories, one the months; then the overdue list.

Where things are
    ``sql`` (Beijing dates in SQL, working-day numbers), ``filters`` (``StatsFilter``,
    ``parse_filter``, ``filter_for``), ``metrics`` (``Metrics`` and the passes), this module (the
    report, the overdue list, the cached dashboard report, ``refresh_defaults``), ``cache`` (the
    ``stats_cache`` table), ``tables`` (the page's and the exports' tables), ``performance`` (the
    public page), ``export`` (CSV/XLSX), ``enterprise`` (质量档案).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from time import monotonic
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from services.core.clock import local_today, utcnow
from services.models import Category, Request, RequestItem, Service, Ticket, User, ticket_is_open
from services.stats.cache import CACHE_FORMAT, CACHE_MIN_COMPUTE, cached
from services.stats.filters import StatsFilter, bureau_choices, filter_for, parse_filter, ticket_conditions
from services.stats.metrics import (
    BureauRow,
    Metrics,
    ServiceRow,
    bureau_rows,
    grouped,
    numbers_for,
    reporting_settings,
    service_rows,
)
from services.stats.performance import public_performance
from services.stats.sql import ACCEPT_WAIT, beijing_month, count_if, overdue_condition
from services.tickets import workdays, workflow

OVERDUE_LIMIT = 500

#: ``bench/tickets_bench.py`` times the passes one by one under this name.
_grouped = grouped


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


def report(session: Session, flt: StatsFilter, *, today: date | None = None,
           calendar: workdays.Calendar | None = None, overdue_limit: int = OVERDUE_LIMIT) -> Report:
    """All the figures of the dashboard for one filter (see the module docstring)."""
    computed_at = utcnow()
    today = today or local_today()
    calendar = calendar or workdays.Calendar.from_session(session)
    reporting_settings(session)
    numbers = numbers_for(flt, today, calendar)
    by_bureau = bureau_rows(session, grouped(session, flt, "bureau", today, calendar, numbers))
    totals = Metrics()
    for row in by_bureau:
        totals.add(row.metrics)
    by_service = service_rows(session, grouped(session, flt, "service", today, calendar, numbers))

    category_counts = dict(session.execute(
        select(Service.category_id, func.count(func.distinct(Ticket.id))).select_from(Ticket)
        .join(RequestItem, RequestItem.ticket_id == Ticket.id).join(Service, Service.id == RequestItem.service_id)
        .where(*ticket_conditions(flt)).group_by(Service.category_id)).all())
    by_category = [CountRow(c.code, c.name, int(category_counts.get(c.id, 0)))
                   for c in session.scalars(select(Category).order_by(Category.position, Category.code))]
    month = beijing_month(Ticket.created_at)
    month_counts = {m: (int(n), int(done)) for m, n, done in session.execute(
        select(month, func.count(), count_if(Ticket.status == workflow.COMPLETED))
        .where(*ticket_conditions(flt)).group_by(month))}
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
        select(Ticket).where(*ticket_conditions(flt), ticket_is_open(), overdue_condition(today))
        .options(selectinload(Ticket.bureau), selectinload(Ticket.items).selectinload(RequestItem.service),
                 selectinload(Ticket.request).selectinload(Request.enterprise))
        .order_by(deadline, Ticket.id).limit(limit)).all()
    items = []
    for t in tickets:
        waiting = t.status in ACCEPT_WAIT
        due = t.accept_due if waiting else t.due_date
        assert due is not None  # the overdue condition requires the deadline that applies
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
    ``cache_min_compute`` seconds: see ``services.stats.cache.cached``. ``Report.computed_at`` says when its figures
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
    """Compute now, and keep (``services.stats.cache.cached``), what the pages show without filters: the
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


def _report_payload(rep: Report) -> dict[str, Any]:
    """A report in the form ``stats_cache`` keeps it (JSON; the filter and the day are in its key)."""
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
    """The report ``_report_payload`` kept."""
    return Report(
        filter=flt, today=today, totals=Metrics(**data["totals"]),
        by_bureau=[BureauRow(code, name, Metrics(**m)) for code, name, m in data["by_bureau"]],
        by_service=[ServiceRow(code, name, bureau, category, Metrics(**m))
                    for code, name, bureau, category, m in data["by_service"]],
        by_category=[CountRow(*r) for r in data["by_category"]],
        by_month=[CountRow(*r) for r in data["by_month"]],
        overdue=[OverdueItem(**{**o, "due": date.fromisoformat(o["due"])}) for o in data["overdue"]],
        overdue_limit=data["overdue_limit"], warnings=list(data["warnings"]), computed_at=data["computed_at"])


__all__ = [
    "BureauRow", "CountRow", "Metrics", "OverdueItem", "Report", "ServiceRow", "StatsFilter", "bureau_choices",
    "dashboard_report", "filter_for", "overdue_list", "parse_filter", "public_performance", "refresh_defaults",
    "report",
]
