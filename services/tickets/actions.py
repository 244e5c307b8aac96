"""Staff work on tickets: who may see and do what, the actions of the state machine
(services.tickets.workflow.ACTIONS), deadlines on the official calendar, claim and assign, and the
supervision run (`sla check`). Every action is written to the ticket's history."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from services import outbox as search_sync
from services import policy
from services.core.clock import local_date, local_today, utcnow
from services.core.errors import Conflict, InvalidTransition, NotFound, Stale, ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Attachment, Bureau, CoHandler, Request, RequestItem, Ticket, TicketEvent, User
from services.requests import routing, uploads
from services.tickets import notify, workdays, workflow

ACCEPT_WITHIN_DAYS = 2          # 签收 within 2 working days of submission
TRIAGE_TIME_LIMIT_DAYS = 5      # a free-text need at the joint office
MAX_MESSAGE = 5000


# What an action that needs a message asks for when it has none.
MESSAGE_NEEDED = {
    "reject": N_("不予受理必须说明理由"),
    "return": N_("退回必须说明理由"),
    "transfer": N_("转办必须说明理由"),
    "request_info": N_("请一次性列明需要补正的全部材料"),
    "complete": N_("请填写办结结果"),
}
STALE = N_("该办件刚刚已被他人更新，您的操作没有保存。请查看最新状态后再操作。")


# --------------------------------------------------------------------------- reading
def get_ticket(session: Session, user: User, number: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == (number or "").strip())
                            .options(selectinload(Ticket.request).selectinload(Request.events),
                                     selectinload(Ticket.items).selectinload(RequestItem.service),
                                     selectinload(Ticket.co_handlers), selectinload(Ticket.bureau)))
    if ticket is None or not policy.can_see_ticket(user, ticket):
        raise NotFound(_msg(N_("没有找到这个办件")))
    return ticket


# --------------------------------------------------------------------------- deadlines
def promised_days(ticket: Ticket) -> int:
    days = [i.service.time_limit_days for i in ticket.items]
    return max(days) if days else TRIAGE_TIME_LIMIT_DAYS


def accept_due_for(calendar: workdays.Calendar, submitted: date) -> date:
    return calendar.add_workdays(submitted, ACCEPT_WITHIN_DAYS)


def refresh_due_date(calendar: workdays.Calendar, ticket: Ticket) -> None:
    if ticket.accepted_at is not None:
        ticket.due_date = workdays.due_date(calendar, local_date(ticket.accepted_at), promised_days(ticket),
                                            ticket.paused_days)


def due_state(calendar: workdays.Calendar, ticket: Ticket, today: date | None = None) -> str:
    """overdue / due_soon / on_time for the deadline that applies now (acceptance, then handling)."""
    today = today or local_today()
    if ticket.status in workflow.CLOSED or ticket.status == workflow.NEED_INFO:
        return "on_time"  # closed, or the clock is stopped
    due = ticket.accept_due if ticket.status in (workflow.SUBMITTED, workflow.RETURNED) else ticket.due_date
    return workdays.status_of(calendar, due, today, done=False)


def resume(calendar: workdays.Calendar, ticket: Ticket, today: date | None = None) -> None:
    """The enterprise answered a 补正 notice: the working days it took extend the deadline."""
    if ticket.paused_at is not None:
        ticket.paused_days += calendar.workdays_between(local_date(ticket.paused_at), today or local_today())
        ticket.paused_at = None
    refresh_due_date(calendar, ticket)


# --------------------------------------------------------------------------- actions
@dataclass
class ActionInput:
    action: str
    message: str = ""
    to_bureau: str | None = None
    expected_version: int | None = None
    files: tuple[uploads.Incoming, ...] = ()


def _check_version(ticket: Ticket, expected: int | None) -> None:
    if expected is not None and expected != ticket.version:
        raise Stale(_msg(STALE))


def perform(session: Session, user: User, number: str, data: ActionInput, *, upload_dir: str = "",
            calendar: workdays.Calendar | None = None, now: datetime | None = None) -> Ticket:
    """Run one action on a ticket: check role, scope, status, message and version; write the
    change, its history line and the notices in one transaction."""
    ticket = get_ticket(session, user, number)
    action = workflow.ACTIONS.get(data.action)
    if action is None:
        raise ValidationFailed({"action": _msg(N_("未知的操作：%(action)s"), action=data.action)})
    policy.check_action(user, ticket, action.name, action.roles, action.label)
    if ticket.status not in action.sources:
        raise InvalidTransition(_msg(N_("办件当前状态为“%(status)s”，不能执行“%(action)s”"),
                                      status=_msg(workflow.label(ticket.status)), action=_msg(action.label)))
    message = (data.message or "").strip()
    problems: dict[str, str] = {}
    if action.needs_message and not message:
        problems["message"] = _msg(MESSAGE_NEEDED.get(action.name, N_("请填写内容")))
    if len(message) > MAX_MESSAGE:
        problems["message"] = _msg(N_("不能超过 %(max)d 个字"), max=MAX_MESSAGE)
    target_bureau = None
    if action.needs_bureau:
        target_bureau = session.scalar(select(Bureau).where(Bureau.code == (data.to_bureau or "")))
        if target_bureau is None:
            problems["to_bureau"] = _msg(N_("请选择要转办或协办的单位"))
        elif target_bureau.id == ticket.bureau_id:
            problems["to_bureau"] = _msg(N_("不能转给本单位"))
    if problems:
        raise ValidationFailed(problems)
    _check_version(ticket, data.expected_version)
    checked = uploads.check(list(data.files)) if data.files else []
    calendar = calendar or workdays.Calendar.from_session(session)
    now = now or utcnow()
    stored = uploads.store(upload_dir, checked) if checked else []
    try:
        event = _apply(session, user, ticket, action, message, target_bureau, calendar, now)
        for s in stored:
            session.add(Attachment(request=ticket.request, event=event, uploaded_by=user.id,
                                   original_name=s.original_name, stored_name=s.stored_name, mime_type=s.mime_type,
                                   size=s.size, sha256=s.sha256))
        session.commit()
    except StaleDataError:
        session.rollback()
        uploads.discard(upload_dir, stored)
        raise Stale(_msg(STALE)) from None
    except BaseException:
        session.rollback()
        uploads.discard(upload_dir, stored)
        raise
    return ticket


def _apply(session: Session, user: User, ticket: Ticket, action: workflow.Action, message: str,
           target: Bureau | None, calendar: workdays.Calendar, now: datetime) -> TicketEvent:
    request = ticket.request
    before = ticket.status
    holder = ticket.bureau  # the event belongs to the bureau that held the ticket when it happened
    after = action.target or before
    text = message
    today = local_date(now)
    if action.name == "accept":
        ticket.accepted_at = now
        if ticket.assignee_id is None and user.role in ("handler", "lead") and user.bureau_id == ticket.bureau_id:
            ticket.assignee_id = user.id
        ticket.status = after
        refresh_due_date(calendar, ticket)
        text = message or f"已签收受理，办理期限 {ticket.due_date.isoformat()}"
    elif action.name == "request_info":
        ticket.paused_at = now
    elif action.name == "reply" and before == workflow.ACCEPTED:
        after = workflow.IN_PROGRESS
    elif action.name in ("complete", "reject"):
        ticket.closed_at = now
    elif action.name == "return":
        office = routing.joint_office(session)
        text = f"退回{office.short_name}：{message}"
        ticket.bureau = office
        ticket.assignee_id = None
    elif action.name == "transfer":
        text = f"由{ticket.bureau.short_name}转办至{target.short_name}：{message}"
        ticket.bureau = target
        ticket.assignee_id = None
        ticket.accepted_at = None
        ticket.due_date = None
        ticket.paused_at = None
        ticket.paused_days = 0
        ticket.accept_due = accept_due_for(calendar, today)
        ticket.routing_reason = f"{ticket.routing_reason}；转办：{message}"
    elif action.name == "co_handle":
        if any(c.bureau_id == target.id for c in ticket.co_handlers):
            raise ValidationFailed({"to_bureau": _msg(N_("已请%(bureau)s协办"), bureau=target.short_name)})
        ticket.co_handlers.append(CoHandler(bureau=target, note=message))
        text = f"请{target.short_name}协办：{message}"
    elif action.name == "co_reply":
        for c in ticket.co_handlers:
            if user.bureau_id == c.bureau_id and c.done_at is None:
                c.done_at = now
        text = f"{user.bureau.short_name if user.bureau else '协办单位'}协办意见：{message}"
    elif action.name == "supervise":
        ticket.supervised_at = now
        text = f"督办：{message}"
    ticket.status = after
    event = TicketEvent(request=request, ticket=ticket, bureau=holder, actor=user, kind=action.name, from_status=before,
                        to_status=after if after != before else None, message=text, public=action.public)
    event.created_at = now
    session.add(event)
    search_sync.enqueue(session, "ticket", [ticket.number])
    request.status = workflow.request_status(t.status for t in request.tickets)
    request.updated_at = now
    _notify(session, ticket, action, text)
    return event


def _notify(session: Session, ticket: Ticket, action: workflow.Action, text: str) -> None:
    request = ticket.request
    if action.public and action.name not in ("transfer",):
        notify.notify(session, notify.enterprise_users(session, request),
                      f"您的申请 {request.number}（{ticket.bureau.short_name}）：{action.label}。{text}",
                      request=request, ticket=ticket)
    if action.name in ("transfer", "return"):
        notify.notify(session, notify.bureau_staff(session, ticket.bureau_id, ("handler", "lead", "supervisor")),
                      f"新转来的办件 {ticket.number}：{text}", request=request, ticket=ticket)
    if action.name == "co_handle":
        target = ticket.co_handlers[-1].bureau_id
        notify.notify(session, notify.bureau_staff(session, target), f"请协办办件 {ticket.number}：{text}",
                      request=request, ticket=ticket)
    if action.name == "supervise":
        notify.notify(session, notify.bureau_staff(session, ticket.bureau_id, ("lead",)),
                      f"办件 {ticket.number} 被督办：{text}", request=request, ticket=ticket)


# --------------------------------------------------------------------------- claim and assign
def claim(session: Session, user: User, number: str, expected_version: int | None = None) -> Ticket:
    ticket = get_ticket(session, user, number)
    policy.check_own_bureau(user, ticket, N_("只能认领本单位的办件"))
    if ticket.status in workflow.CLOSED:
        raise InvalidTransition(_msg(N_("办件已结束，不能认领")))
    _check_version(ticket, expected_version)
    if ticket.assignee_id not in (None, user.id):
        raise Conflict(_msg(N_("该办件已由%(name)s认领"),
                             name=ticket.assignee.display_name or ticket.assignee.username))
    ticket.assignee_id = user.id
    session.add(TicketEvent(request=ticket.request, ticket=ticket, actor=user, kind="claim", public=False,
                            message=f"{user.display_name or user.username} 认领"))
    _commit(session)
    return ticket


def assign(session: Session, user: User, number: str, handler_username: str,
           expected_version: int | None = None) -> Ticket:
    ticket = get_ticket(session, user, number)
    policy.check_assign(user, ticket)
    handler = session.scalar(select(User).where(User.username == handler_username, User.active.is_(True)))
    if handler is None or handler.bureau_id != ticket.bureau_id or handler.role not in ("handler", "lead"):
        raise ValidationFailed({"assignee": _msg(N_("请选择本单位的办件人员"))})
    _check_version(ticket, expected_version)
    ticket.assignee_id = handler.id
    session.add(TicketEvent(request=ticket.request, ticket=ticket, actor=user, kind="assign", public=False,
                            message=f"分派给 {handler.display_name or handler.username}"))
    notify.notify(session, [handler], f"分派给您的办件 {ticket.number}", request=ticket.request, ticket=ticket)
    _commit(session)
    return ticket


def _commit(session: Session) -> None:
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Stale(_msg(STALE)) from None


def bureau_handlers(session: Session, bureau_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.bureau_id == bureau_id, User.role.in_(("handler", "lead")),
                                                   User.active.is_(True)).order_by(User.username)))


# --------------------------------------------------------------------------- supervision
@dataclass
class SlaReport:
    supervised: list[str]
    late_acceptance: list[str]
    warnings: list[str]


def sla_check(session: Session, calendar: workdays.Calendar | None = None, today: date | None = None) -> SlaReport:
    """Escalate overdue tickets to the joint office (督办) once, and flag late acceptance once.
    Safe to run as often as cron likes."""
    calendar = calendar or workdays.Calendar.from_session(session)
    today = today or local_today()
    report = SlaReport([], [], [])
    open_statuses = (workflow.SUBMITTED, workflow.ACCEPTED, workflow.IN_PROGRESS, workflow.RETURNED)
    tickets = session.scalars(select(Ticket).where(Ticket.status.in_(open_statuses))
                              .options(selectinload(Ticket.request), selectinload(Ticket.bureau))).all()
    sups = notify.supervisors(session)
    for t in tickets:
        if t.status in (workflow.ACCEPTED, workflow.IN_PROGRESS) and t.due_date and t.due_date < today \
                and t.supervised_at is None:
            t.supervised_at = utcnow()
            text = f"督办：办件已超过办理期限 {t.due_date.isoformat()}，请尽快办结"
            session.add(TicketEvent(request=t.request, ticket=t, kind="supervise", message=text, public=False))
            notify.notify(session, notify.bureau_staff(session, t.bureau_id, ("lead",)) + sups,
                          f"办件 {t.number}（{t.bureau.short_name}）{text}", request=t.request, ticket=t)
            report.supervised.append(t.number)
        elif t.status in (workflow.SUBMITTED, workflow.RETURNED) and t.accept_due and t.accept_due < today \
                and not any(e.kind == "late_acceptance" and e.ticket_id == t.id for e in t.request.events):
            text = f"超过签收期限 {t.accept_due.isoformat()} 仍未签收"
            session.add(TicketEvent(request=t.request, ticket=t, kind="late_acceptance", message=text, public=False))
            notify.notify(session, notify.bureau_staff(session, t.bureau_id) + sups, f"办件 {t.number}：{text}",
                          request=t.request, ticket=t)
            report.late_acceptance.append(t.number)
    session.commit()
    report.warnings = calendar.warnings()
    return report
