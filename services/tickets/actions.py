"""Work on tickets: the actions of the state machine (services.tickets.workflow.ACTIONS and
PROVIDE_INFO) run from their rows, deadlines on the official calendar, claim and assign, and the
supervision run (`sla check`). Who may do what is services.policy's; every action is written to
the ticket's history.

An action is applied in four steps, all read from its row: check (role and scope through
services.policy, the status against the row's sources), run the row's effects (EFFECTS below,
the one place they are registered), write the history line, send the row's notices (NOTICES)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services import outbox as search_sync
from services import policy
from services.core import cleantext, roles, statuses
from services.core.clock import local_date, local_today, utcnow
from services.core.errors import Conflict, Forbidden, InvalidTransition, NotFound, Stale, ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.core.transaction import atomic
from services.models import Attachment, Bureau, CoHandler, Request, RequestItem, Ticket, TicketEvent, User
from services.requests import routing, uploads
from services.tickets import deadlines, notify, workdays, workflow
from services.tickets.deadlines import (  # noqa: F401 - the deadlines, re-exported for the workbench's users
    accept_due_for,
    due_state,
    item_due_state,
    pause_of,
    refresh_due_date,
    resume,
)

MAX_MESSAGE = 5000
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
    """Run one staff action on a ticket: check role, scope, status, message and version; write the
    change, its history line and the notices in one transaction."""
    ticket = get_ticket(session, user, number)
    action = workflow.ACTIONS.get(data.action)
    if action is None:
        raise ValidationFailed({"action": _msg(N_("未知的操作：%(action)s"), action=data.action)})
    check(user, ticket, action)  # first, so a refused action says so before the form's problems
    message = cleantext.message(data.message)  # NUL refused, invisible characters removed
    problems: dict[str, str] = {}
    if action.needs_message and not message:
        problems["message"] = _msg(action.prompt)
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
    with atomic(session, on_rollback=lambda: uploads.discard(upload_dir, stored), stale=_msg(STALE)):
        apply(session, user, ticket, action, message, target=target_bureau, calendar=calendar, now=now,
              files=stored)
    return ticket


def check(user: User, ticket: Ticket, action: workflow.Action) -> None:
    """May this user run this row on this ticket now? Who: services.policy (the enterprise's row:
    the enterprise that submitted the request); when: the row's sources."""
    if roles.ENTERPRISE in action.roles:
        if user.role not in action.roles or not policy.is_enterprise_owner(user, ticket.request):
            raise Forbidden(_msg(action.forbidden or N_("您的角色不能执行“%(action)s”"), action=_msg(action.label)))
    else:
        policy.check_action(user, ticket, action.name, action.roles, action.label)
    if ticket.status not in action.sources:
        if action.refused:
            raise InvalidTransition(_msg(action.refused))
        raise InvalidTransition(_msg(N_("办件当前状态为“%(status)s”，不能执行“%(action)s”"),
                                     status=_msg(workflow.label(ticket.status)), action=_msg(action.label)))


def apply(session: Session, user: User, ticket: Ticket, action: workflow.Action, message: str, *,
          target: Bureau | None = None, calendar: workdays.Calendar | None = None, now: datetime | None = None,
          files: Sequence[uploads.Stored] = ()) -> TicketEvent:
    """Apply one row of the table in the caller's transaction: check, run the row's effects, write
    the history line (with the files that came with it), send the row's notices. The input
    (message, bureau, files) has been validated by the caller."""
    check(user, ticket, action)
    calendar = calendar or workdays.Calendar.from_session(session)
    now = now or utcnow()
    request = ticket.request
    before = ticket.status
    holder = ticket.bureau  # the event belongs to the bureau that held the ticket when it happened
    step = Step(session, user, ticket, action, message, target, calendar, now, text=message)
    for name in action.effects:
        EFFECTS[name](step)
    after = action.target_for(before)
    ticket.status = after
    event = TicketEvent(request=request, ticket=ticket, bureau=holder, actor=user, kind=action.event_kind,
                        from_status=before, to_status=after if after != before else None, message=step.text,
                        public=action.public)
    event.created_at = now
    session.add(event)
    for s in files:
        session.add(Attachment(request=request, event=event, uploaded_by=user.id, original_name=s.original_name,
                               stored_name=s.stored_name, mime_type=s.mime_type, size=s.size, sha256=s.sha256))
    search_sync.enqueue(session, "ticket", [ticket.number])
    request.status = workflow.request_status(t.status for t in request.tickets)
    request.updated_at = now
    for name in action.notices:
        NOTICES[name](step)
    return event


# --------------------------------------------------------------------------- the rows' effects and notices
@dataclass
class Step:
    """One action being applied: what its effects and notices work on. `text` is the history
    line (the message unless an effect words it otherwise)."""

    session: Session
    user: User
    ticket: Ticket
    action: workflow.Action
    message: str
    target: Bureau | None   # the bureau named by transfer / co-handle
    calendar: workdays.Calendar
    now: datetime
    text: str


EFFECTS: dict[str, Callable[[Step], None]] = {}
NOTICES: dict[str, Callable[[Step], None]] = {}


def _effect(name: str) -> Callable[[Callable[[Step], None]], Callable[[Step], None]]:
    def register(fn: Callable[[Step], None]) -> Callable[[Step], None]:
        EFFECTS[name] = fn
        return fn
    return register


def _notice(name: str) -> Callable[[Callable[[Step], None]], Callable[[Step], None]]:
    def register(fn: Callable[[Step], None]) -> Callable[[Step], None]:
        NOTICES[name] = fn
        return fn
    return register


@_effect("assign_to_actor")
def _assign_to_actor(step: Step) -> None:
    """Bureau staff accepting an unassigned ticket of their bureau take it on."""
    ticket, user = step.ticket, step.user
    if ticket.assignee_id is None and policy.works_for_holder(user, ticket):
        ticket.assignee_id = user.id


@_effect("start_clock")
def _start_clock(step: Step) -> None:
    """Accepted: the handling deadline counts from now."""
    ticket = step.ticket
    ticket.accepted_at = step.now
    refresh_due_date(step.calendar, ticket)
    assert ticket.due_date is not None  # set from accepted_at
    dues = {i.due_date for i in ticket.items}
    if len(dues) > 1:  # services promised different times: each one's date
        when = "；".join(f"{i.service.name} {i.due_date.isoformat()}" for i in ticket.items if i.due_date)
    else:
        when = ticket.due_date.isoformat()
    step.text = step.message or f"已签收受理，办理期限 {when}"


@_effect("stop_clock")
def _stop_clock(step: Step) -> None:
    """补正 asked for: the clock stops until the enterprise answers (by a set day)."""
    deadlines.stop(step.calendar, step.ticket, local_date(step.now), step.now)


@_effect("resume_clock")
def _resume_clock(step: Step) -> None:
    """The enterprise answered: the working days it took extend the deadline."""
    resume(step.calendar, step.ticket, local_date(step.now))


@_effect("close")
def _close(step: Step) -> None:
    step.ticket.closed_at = step.now


@_effect("move_to_joint_office")
def _move_to_joint_office(step: Step) -> None:
    office = routing.joint_office(step.session)
    step.text = f"退回{office.short_name}：{step.message}"
    step.ticket.bureau = office
    step.ticket.assignee_id = None


@_effect("transfer")
def _transfer(step: Step) -> None:
    """To another bureau, which starts afresh: acceptance deadline from today, no handling clock."""
    ticket, target = step.ticket, step.target
    assert target is not None  # the row needs a bureau
    step.text = f"由{ticket.bureau.short_name}转办至{target.short_name}：{step.message}"
    ticket.bureau = target
    ticket.assignee_id = None
    deadlines.clear(ticket)
    ticket.accept_due = accept_due_for(step.calendar, local_date(step.now))
    ticket.routing_reason = f"{ticket.routing_reason}；转办：{step.message}"


@_effect("add_co_handler")
def _add_co_handler(step: Step) -> None:
    ticket, target = step.ticket, step.target
    assert target is not None  # the row needs a bureau
    if any(c.bureau_id == target.id for c in ticket.co_handlers):
        raise ValidationFailed({"to_bureau": _msg(N_("已请%(bureau)s协办"), bureau=target.short_name)})
    ticket.co_handlers.append(CoHandler(bureau=target, note=step.message))
    step.text = f"请{target.short_name}协办：{step.message}"


@_effect("end_co_handling")
def _end_co_handling(step: Step) -> None:
    """The co-handling bureau has given its opinion: its co-handling ends (services.policy)."""
    user = step.user
    for c in step.ticket.co_handlers:
        if user.bureau_id == c.bureau_id and c.done_at is None:
            c.done_at = step.now
    step.text = f"{user.bureau.short_name if user.bureau else '协办单位'}协办意见：{step.message}"


@_effect("supervise")
def _supervise(step: Step) -> None:
    step.ticket.supervised_at = step.now
    step.text = f"督办：{step.message}"


@_notice("to_enterprise")
def _tell_enterprise(step: Step) -> None:
    ticket, request = step.ticket, step.ticket.request
    notify.notify(step.session, notify.enterprise_users(step.session, request),
                  f"您的申请 {request.number}（{ticket.bureau.short_name}）：{step.action.label}。{step.text}",
                  request=request, ticket=ticket)


@_notice("to_new_holder")
def _tell_new_holder(step: Step) -> None:
    """The staff of the bureau that holds the ticket now (after a transfer or return)."""
    ticket = step.ticket
    notify.notify(step.session, notify.bureau_staff(step.session, ticket.bureau_id, roles.BUREAU_MEMBERS),
                  f"新转来的办件 {ticket.number}：{step.text}", request=ticket.request, ticket=ticket)


@_notice("to_co_handler")
def _tell_co_handler(step: Step) -> None:
    ticket, target = step.ticket, step.target
    assert target is not None  # the row needs a bureau
    notify.notify(step.session, notify.bureau_staff(step.session, target.id),
                  f"请协办办件 {ticket.number}：{step.text}", request=ticket.request, ticket=ticket)


@_notice("to_leads")
def _tell_supervised(step: Step) -> None:
    ticket = step.ticket
    notify.notify(step.session, notify.bureau_staff(step.session, ticket.bureau_id, (roles.LEAD,)),
                  f"办件 {ticket.number} 被督办：{step.text}", request=ticket.request, ticket=ticket)


@_notice("to_holder")
def _tell_info_provided(step: Step) -> None:
    ticket, request = step.ticket, step.ticket.request
    notify.notify(step.session, notify.bureau_staff(step.session, ticket.bureau_id),
                  f"{request.enterprise.name}已补正办件 {ticket.number}", request=request, ticket=ticket)


def unknown_names(rows: Sequence[workflow.Action] = workflow.ROWS) -> list[str]:
    """Effects and notices named by the table but registered nowhere (none, or the import fails)."""
    return sorted({f"{a.name}: effect {e}" for a in rows for e in a.effects if e not in EFFECTS}
                  | {f"{a.name}: notice {n}" for a in rows for n in a.notices if n not in NOTICES})


if unknown_names():  # pragma: no cover - a mistake in the table stops the import
    raise RuntimeError("services.tickets.workflow names unknown effects or notices: " + ", ".join(unknown_names()))


# --------------------------------------------------------------------------- claim and assign
def claim(session: Session, user: User, number: str, expected_version: int | None = None) -> Ticket:
    ticket = get_ticket(session, user, number)
    policy.check_own_bureau(user, ticket, N_("只能认领本单位的办件"))
    if ticket.status in workflow.CLOSED:
        raise InvalidTransition(_msg(N_("办件已结束，不能认领")))
    _check_version(ticket, expected_version)
    if ticket.assignee_id not in (None, user.id) and ticket.assignee is not None:
        raise Conflict(_msg(N_("该办件已由%(name)s认领"),
                             name=ticket.assignee.display_name or ticket.assignee.username))
    with atomic(session, stale=_msg(STALE)):
        ticket.assignee_id = user.id
        session.add(TicketEvent(request=ticket.request, ticket=ticket, actor=user, kind="claim", public=False,
                                message=f"{user.display_name or user.username} 认领"))
    return ticket


def assign(session: Session, user: User, number: str, handler_username: str,
           expected_version: int | None = None) -> Ticket:
    ticket = get_ticket(session, user, number)
    policy.check_assign(user, ticket)
    handler = session.scalar(select(User).where(User.username == handler_username, User.active.is_(True)))
    if handler is None or handler.bureau_id != ticket.bureau_id or handler.role not in roles.BUREAU_STAFF:
        raise ValidationFailed({"assignee": _msg(N_("请选择本单位的办件人员"))})
    _check_version(ticket, expected_version)
    with atomic(session, stale=_msg(STALE)):
        ticket.assignee_id = handler.id
        session.add(TicketEvent(request=ticket.request, ticket=ticket, actor=user, kind="assign", public=False,
                                message=f"分派给 {handler.display_name or handler.username}"))
        notify.notify(session, [handler], f"分派给您的办件 {ticket.number}", request=ticket.request, ticket=ticket)
    return ticket


def bureau_handlers(session: Session, bureau_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.bureau_id == bureau_id, User.role.in_(roles.BUREAU_STAFF),
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
    tickets = session.scalars(select(Ticket).where(Ticket.status.in_(statuses.ordered(statuses.RUNNING)))
                              .options(selectinload(Ticket.request), selectinload(Ticket.bureau))).all()
    sups = notify.supervisors(session)
    with atomic(session):
        for t in tickets:
            if t.status in statuses.HANDLING and t.due_date and t.due_date < today \
                    and t.supervised_at is None:
                t.supervised_at = utcnow()
                text = f"督办：办件已超过办理期限 {t.due_date.isoformat()}，请尽快办结"
                session.add(TicketEvent(request=t.request, ticket=t, kind="supervise", message=text, public=False))
                notify.notify(session, notify.bureau_staff(session, t.bureau_id, (roles.LEAD,)) + sups,
                              f"办件 {t.number}（{t.bureau.short_name}）{text}", request=t.request, ticket=t)
                report.supervised.append(t.number)
            elif t.status in statuses.AWAITING_ACCEPTANCE and t.accept_due and t.accept_due < today \
                    and not any(e.kind == "late_acceptance" and e.ticket_id == t.id for e in t.request.events):
                text = f"超过签收期限 {t.accept_due.isoformat()} 仍未签收"
                session.add(TicketEvent(request=t.request, ticket=t, kind="late_acceptance", message=text,
                                        public=False))
                notify.notify(session, notify.bureau_staff(session, t.bureau_id) + sups, f"办件 {t.number}：{text}",
                              request=t.request, ticket=t)
                report.late_acceptance.append(t.number)
    report.warnings = calendar.warnings()
    return report
