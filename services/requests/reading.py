"""Requests as their readers see them: a request (for its enterprise and the staff who may
handle it, services.policy decides), the enterprise's list, an attachment, the published
一件事 bundles, where each ticket stands and the public progress lookup (number + query code:
services, statuses, dates and the next step; nothing personal).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services import policy
from services.core import cleantext, statuses
from services.core.errors import Forbidden, NotFound
from services.core.texts import N_, Text
from services.core.texts import Text as _msg
from services.models import (
    Attachment,
    Bundle,
    BundleService,
    Enterprise,
    Request,
    RequestItem,
    Ticket,
    TicketEvent,
    User,
)


def require_enterprise(user: User) -> Enterprise:
    """Only an enterprise account submits requests and has a list of its own: its enterprise."""
    if not policy.is_enterprise(user) or user.enterprise is None:
        raise Forbidden(_msg(N_("只有企业账号可以提交申请")))
    return user.enterprise


def get_request(session: Session, user: User | None, number: str) -> Request:
    """The request if this user may see it; NotFound otherwise (never a hint that it exists)."""
    request = session.scalar(select(Request).where(Request.number == (number or "").strip())
                             .options(selectinload(Request.tickets).selectinload(Ticket.bureau),
                                      selectinload(Request.tickets).selectinload(Ticket.co_handlers),
                                      selectinload(Request.items).selectinload(RequestItem.service),
                                      selectinload(Request.events), selectinload(Request.attachments)))
    if request is None or not policy.can_see_request(user, request):
        raise NotFound(_msg(N_("没有找到这个申请")))
    return request


def my_requests(session: Session, user: User, status: str | None = None, page: int = 1,
                per_page: int = 20) -> tuple[list[Request], int]:
    require_enterprise(user)
    query = select(Request).where(Request.enterprise_id == user.enterprise_id)
    if status:
        query = query.where(Request.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.options(selectinload(Request.tickets).selectinload(Ticket.bureau),
                                         selectinload(Request.items).selectinload(RequestItem.service))
                           .order_by(Request.id.desc()).offset((max(page, 1) - 1) * per_page).limit(per_page))
    return list(rows), total


def get_attachment(session: Session, user: User | None, attachment_id: int) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not policy.can_see_attachment(user, attachment):
        raise NotFound(_msg(N_("没有找到这个附件")))
    return attachment


def get_bundle(session: Session, code: str) -> Bundle:
    bundle = session.scalar(select(Bundle).where(Bundle.code == code, Bundle.published.is_(True))
                            .options(selectinload(Bundle.items).selectinload(BundleService.service)))
    if bundle is None:
        raise NotFound(_msg(N_("没有这个一件事套餐：%(code)s"), code=code))
    return bundle


def list_bundles(session: Session) -> list[Bundle]:
    return list(session.scalars(select(Bundle).where(Bundle.published.is_(True))
                                .options(selectinload(Bundle.items).selectinload(BundleService.service))
                                .order_by(Bundle.position, Bundle.code)))


# --------------------------------------------------------------------------- where a ticket stands
#: What the applicant should do next, by the ticket's status (shown on the request page and to the
#: public progress lookup). `%(date)s` is the deadline that applies (签收, 补正 or 办理期限).
NEXT_STEPS: dict[str, str] = {
    statuses.SUBMITTED: N_("等待承办部门签收（签收期限 %(date)s），您无需操作。"),
    statuses.RETURNED: N_("已退回联席办重新分办（签收期限 %(date)s），您无需操作。"),
    statuses.ACCEPTED: N_("已受理，正在办理（办理期限 %(date)s），您无需操作。"),
    statuses.IN_PROGRESS: N_("正在办理（办理期限 %(date)s），您无需操作；如有需要承办部门会联系您。"),
    statuses.NEED_INFO: N_("请按承办部门的要求提交补正材料（补正期限 %(date)s），补正期间办理计时暂停。"),
    statuses.COMPLETED: N_("已办结，可以查看办理结果并对本次服务作出评价。"),
    statuses.REJECTED: N_("不予受理，理由见办理记录；补齐条件后可以重新申请。"),
    statuses.WITHDRAWN: N_("申请已撤回。如需办理，请重新提交申请。"),
    statuses.TRANSFERRED: N_("已转交其他部门办理，您无需操作。"),
}


@dataclass(frozen=True)
class TicketStanding:
    """A ticket as its applicant (or anyone with the query code) reads it: no names, no contacts."""

    number: str
    bureau: str
    services: list[tuple[str, date | None]]   # (service name, its own handling deadline)
    status: str
    status_since: datetime                    # when the ticket reached its status
    deadline: date | None                     # the date that applies now (签收, 补正 or 办理期限)
    paused: bool                              # the clock is stopped for 补正
    next_step: Text


def standing_of(ticket: Ticket, events: list[TicketEvent]) -> TicketStanding:
    """Where the ticket stands, from its row and its public history lines (oldest first)."""
    changes = [e.created_at for e in events if e.ticket_id == ticket.id and e.to_status]
    if ticket.status in statuses.AWAITING_ACCEPTANCE:
        deadline = ticket.accept_due
    elif ticket.status == statuses.NEED_INFO:
        deadline = ticket.info_due
    elif ticket.status in statuses.CLOSED:
        deadline = None
    else:
        deadline = ticket.due_date
    step = NEXT_STEPS.get(ticket.status, "")
    return TicketStanding(
        number=ticket.number, bureau=ticket.bureau.name,
        services=[(i.service.name, i.due_date) for i in ticket.items], status=ticket.status,
        status_since=changes[-1] if changes else ticket.created_at, deadline=deadline,
        paused=ticket.status == statuses.NEED_INFO,
        next_step=_msg(step, date=deadline.isoformat() if deadline else "—"))


def info_requests(request: Request) -> dict[int, TicketEvent]:
    """For each ticket waiting for 补正: the bureau's notice saying what to provide (the latest)."""
    waiting = {t.id for t in request.tickets if t.status == statuses.NEED_INFO}
    found: dict[int, TicketEvent] = {}
    for e in request.events:
        if e.ticket_id in waiting and e.public and e.to_status == statuses.NEED_INFO:
            found[e.ticket_id] = e
    return found


# --------------------------------------------------------------------------- public lookup
@dataclass
class PublicProgress:
    number: str
    status: str
    submitted_at: datetime
    tickets: list[TicketStanding]


def lookup_progress(session: Session, number: str, query_code: str) -> PublicProgress:
    """Where each ticket stands, for anyone holding the number and its query code: services,
    bureaus, statuses, dates and the next step — nothing personal (no names, contacts, texts)."""
    if cleantext.has_nul(number) or cleantext.has_nul(query_code):  # no such number (PostgreSQL cannot compare it)
        raise NotFound(_msg(N_("申请编号或查询码不正确")))
    request = session.scalar(select(Request).where(Request.number == (number or "").strip().upper())
                             .options(selectinload(Request.tickets).selectinload(Ticket.bureau),
                                      selectinload(Request.tickets).selectinload(Ticket.items)
                                      .selectinload(RequestItem.service),
                                      selectinload(Request.events)))
    code = (query_code or "").strip().upper()
    if request is None or not hmac.compare_digest(request.query_code.encode(), code.encode()):
        raise NotFound(_msg(N_("申请编号或查询码不正确")))
    public = [e for e in request.events if e.public]
    return PublicProgress(request.number, request.status, request.created_at,
                          [standing_of(t, public) for t in request.tickets])
