"""The staff queue: a bureau's tickets with filters, most urgent first, keyset pagination."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session, joinedload, selectinload

from services import policy
from services.core import statuses
from services.core.clock import BEIJING, local_today
from services.core.errors import ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import (
    Bureau,
    CoHandler,
    Request,
    RequestItem,
    Service,
    Ticket,
    User,
    ticket_deadline,
    ticket_is_open,
)
from services.tickets import workdays, workflow
from services.tickets.actions import due_state

#: Counting stops here: "超过 10000 件" is as useful as an exact figure and costs a bounded scan.
COUNT_CAP = 10_000


@dataclass
class QueueFilter:
    status: str | None = None        # a ticket status, "open" (default) or "all"
    service: str | None = None       # a service code
    mine: bool = False
    unassigned: bool = False
    due: str | None = None           # "soon" (≤ 1 working day) or "overdue"
    submitted_from: date | None = None
    submitted_to: date | None = None
    bureau: str | None = None        # supervisors may narrow to one bureau
    numbers: list[str] | None = None  # restrict to these ticket numbers (full-text search results)


@dataclass
class QueuePage:
    tickets: list[Ticket]
    next_cursor: str | None
    total: int                       # at most COUNT_CAP ...
    total_capped: bool = False       # ... and True when there are more
    due_states: dict[int, str] = field(default_factory=dict)


def parse_cursor(cursor: str | None) -> tuple[date, int] | None:
    if not cursor:
        return None
    try:
        day, ticket_id = cursor.split("_", 1)
        return date.fromisoformat(day), int(ticket_id)
    except ValueError:
        raise ValidationFailed({"after": _msg(N_("翻页参数无效，请回到第一页"))}) from None


def queue(session: Session, user: User, f: QueueFilter, *, after: str | None = None, limit: int = 50,
          calendar: workdays.Calendar | None = None, today: date | None = None) -> QueuePage:
    calendar = calendar or workdays.Calendar.from_session(session)
    today = today or local_today()
    deadline = ticket_deadline()
    conditions = []
    if f.status in (None, "", "open"):
        conditions.append(ticket_is_open())
    elif f.status != "all":
        if f.status not in workflow.LABELS:
            raise ValidationFailed({"status": _msg(N_("未知的状态"))})
        conditions.append(Ticket.status == f.status)
    if f.service:
        conditions.append(Ticket.id.in_(select(RequestItem.ticket_id).join(Service)
                                        .where(Service.code == f.service)))
    if f.mine:
        conditions.append(Ticket.assignee_id == user.id)
    if f.unassigned:
        conditions.append(Ticket.assignee_id.is_(None))
    if f.bureau:
        conditions.append(Ticket.bureau_id.in_(select(Bureau.id).where(Bureau.code == f.bureau)))
    if f.due in ("soon", "overdue"):
        active = Ticket.status.in_(statuses.ordered(statuses.RUNNING))  # the clock runs
        if f.due == "overdue":
            conditions += [active, deadline < today]
        else:
            # due today or within one working day: the deadline is not after the next working day
            conditions += [active, deadline >= today, deadline <= calendar.add_workdays(today, 1)]
    elif f.due:
        raise ValidationFailed({"due": _msg(N_("期限筛选只能是 soon 或 overdue"))})
    if f.submitted_from and f.submitted_to and f.submitted_from > f.submitted_to:
        raise ValidationFailed({"submitted_from": _msg(N_("开始日期不能晚于结束日期"))})
    if f.submitted_from:
        conditions.append(Ticket.created_at >= _start_of(f.submitted_from))
    if f.submitted_to:
        conditions.append(Ticket.created_at < _start_of(f.submitted_to + timedelta(days=1)))
    if f.numbers is not None:
        conditions.append(Ticket.number.in_(f.numbers or ["-"]))
    cursor = parse_cursor(after)
    total = 0
    keys: set[tuple[date, int]] = set()
    # One ordered, limited query per visibility branch (own bureau / co-handled), merged here:
    # each is an index range scan on (bureau, deadline, id), where one query with "bureau OR
    # co-handled" would read and sort every matching ticket.
    for branch in policy.visibility_branches(user):
        where = and_(branch, *conditions)
        if total <= COUNT_CAP:  # count up to one past the cap, over all branches together
            total += session.scalar(select(func.count()).select_from(
                select(Ticket.id).where(where).limit(COUNT_CAP + 1 - total).subquery())) or 0
        page = select(deadline, Ticket.id).where(where)
        if cursor:
            page = page.where(tuple_(deadline, Ticket.id) > tuple_(*cursor))
        keys.update(tuple(row) for row in session.execute(page.order_by(deadline, Ticket.id).limit(limit + 1)))
    ordered = sorted(keys)[:limit + 1]
    more = len(ordered) > limit
    ordered = ordered[:limit]
    position = {ticket_id: n for n, (_d, ticket_id) in enumerate(ordered)}
    rows = sorted(session.scalars(
        select(Ticket).where(Ticket.id.in_(list(position)))
        .options(joinedload(Ticket.request).joinedload(Request.enterprise),
                 joinedload(Ticket.bureau), joinedload(Ticket.assignee),
                 selectinload(Ticket.items).joinedload(RequestItem.service),
                 selectinload(Ticket.co_handlers).joinedload(CoHandler.bureau))), key=lambda t: position[t.id]) \
        if position else []
    next_cursor = f"{ordered[-1][0].isoformat()}_{ordered[-1][1]}" if more and ordered else None
    return QueuePage(rows, next_cursor, min(total, COUNT_CAP), total > COUNT_CAP,
                     {t.id: due_state(calendar, t, today) for t in rows})


def _start_of(day: date) -> datetime:
    """Midnight in Beijing as a UTC time, the way created_at is stored."""
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(timezone.utc)
