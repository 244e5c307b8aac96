"""The staff queue: a bureau's tickets with filters, most urgent first, keyset pagination."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session, selectinload

from services import workdays, workflow
from services.errors import ValidationFailed
from services.models import Bureau, Request, RequestItem, Service, Ticket, User
from services.tickets import BEIJING, due_state, local_today, visible_tickets_clause

FAR = date(9999, 12, 31)
OPEN_STATUSES = (workflow.SUBMITTED, workflow.ACCEPTED, workflow.IN_PROGRESS, workflow.NEED_INFO,
                 workflow.RETURNED)


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
    total: int
    due_states: dict[int, str] = field(default_factory=dict)


def deadline_column():
    """The date that matters now: acceptance deadline until accepted, then the handling deadline."""
    return func.coalesce(Ticket.due_date, Ticket.accept_due, literal(FAR))


def parse_cursor(cursor: str | None) -> tuple[date, int] | None:
    if not cursor:
        return None
    try:
        day, ticket_id = cursor.split("_", 1)
        return date.fromisoformat(day), int(ticket_id)
    except ValueError:
        raise ValidationFailed({"after": "翻页参数无效，请回到第一页"}) from None


def queue(session: Session, user: User, f: QueueFilter, *, after: str | None = None, limit: int = 50,
          calendar: workdays.Calendar | None = None, today: date | None = None) -> QueuePage:
    calendar = calendar or workdays.Calendar.from_session(session)
    today = today or local_today()
    deadline = deadline_column()
    conditions = [visible_tickets_clause(user)]
    if f.status in (None, "", "open"):
        conditions.append(Ticket.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        if f.status not in workflow.LABELS:
            raise ValidationFailed({"status": "未知的状态"})
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
        active = Ticket.status.in_((workflow.SUBMITTED, workflow.ACCEPTED, workflow.IN_PROGRESS, workflow.RETURNED))
        if f.due == "overdue":
            conditions += [active, deadline < today]
        else:
            # due today or within one working day: the deadline is not after the next working day
            conditions += [active, deadline >= today, deadline <= calendar.add_workdays(today, 1)]
    elif f.due:
        raise ValidationFailed({"due": "期限筛选只能是 soon 或 overdue"})
    if f.submitted_from and f.submitted_to and f.submitted_from > f.submitted_to:
        raise ValidationFailed({"submitted_from": "开始日期不能晚于结束日期"})
    if f.submitted_from:
        conditions.append(Ticket.created_at >= _start_of(f.submitted_from))
    if f.submitted_to:
        conditions.append(Ticket.created_at < _start_of(f.submitted_to + timedelta(days=1)))
    if f.numbers is not None:
        conditions.append(Ticket.number.in_(f.numbers or ["-"]))
    where = and_(*conditions)
    total = session.scalar(select(func.count(Ticket.id)).where(where)) or 0
    query = select(Ticket).where(where)
    cursor = parse_cursor(after)
    if cursor:
        query = query.where(or_(deadline > cursor[0], and_(deadline == cursor[0], Ticket.id > cursor[1])))
    rows = list(session.scalars(
        query.options(selectinload(Ticket.request).selectinload(Request.enterprise),
                      selectinload(Ticket.items).selectinload(RequestItem.service),
                      selectinload(Ticket.bureau), selectinload(Ticket.assignee))
        .order_by(deadline, Ticket.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = f"{(last.due_date or last.accept_due or FAR).isoformat()}_{last.id}"
    return QueuePage(rows, next_cursor, total, {t.id: due_state(calendar, t, today) for t in rows})


def _start_of(day: date) -> datetime:
    """Midnight in Beijing as a UTC time, the way created_at is stored."""
    return datetime.combine(day, time.min, tzinfo=BEIJING).astimezone(timezone.utc)
