"""The access policy: who may see and do what. Every page, API endpoint, Open311 endpoint and
command asks here; nothing else decides.

Staff and a ticket
  * county-wide staff (supervisors, admins) see every ticket and may act on each;
  * a bureau's staff see and work the tickets their bureau holds (OWN);
  * a bureau asked to co-handle (协办) sees the ticket while the co-handling is open (CO) and may
    add its opinion; once it has answered, it keeps read-only sight of the ticket's history up
    to its answer (CO_ENDED) and the ticket leaves its queue.
Staff and a request
  * a request opens for staff who may see at least one of its tickets; its timeline shows only
    the events of those tickets (of a CO_ENDED ticket, those up to the end of the co-handling),
    so one bureau's internal notes and routing reasons never reach another bureau;
  * attachments follow the events they came with; materials submitted with the request follow
    the request.
Enterprises see their own requests and the public events of them, nothing of anyone else.
An enterprise's quality file opens for county-wide staff and for staff whose bureau holds or
held one of its tickets (or co-handles one).
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from services.core import roles
from services.core.errors import Forbidden
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import (
    Attachment,
    CoHandler,
    Enterprise,
    Request,
    Ticket,
    TicketEvent,
    User,
)


class Access(enum.IntEnum):
    NONE = 0
    CO_ENDED = 1   # answered its co-handling: the history up to then, read-only
    CO = 2         # co-handling open: sees the ticket, may give its opinion
    OWN = 3        # the ticket's bureau, or county-wide staff: sees all, may act


# --------------------------------------------------------------------------- who is who
def is_active(user: User | None) -> bool:
    return user is not None and bool(user.active)


def is_staff(user: User | None) -> bool:
    return is_active(user) and user is not None and user.role in roles.STAFF


def is_enterprise(user: User | None) -> bool:
    return is_active(user) and user is not None and user.role == roles.ENTERPRISE


def county_wide(user: User | None) -> bool:
    """Supervisors (the joint office) and admins see every bureau's work."""
    return is_staff(user) and user is not None and user.role in roles.COUNTY_WIDE


def _bureau_id(user: User | None) -> int | None:
    """The bureau whose tickets this account works: handlers' and leads' own, nobody else's."""
    if user is None or not is_staff(user) or user.role not in roles.BUREAU_STAFF:
        return None
    return user.bureau_id


# --------------------------------------------------------------------------- tickets
def ticket_access(user: User | None, ticket: Ticket) -> Access:
    if county_wide(user):
        return Access.OWN
    bureau = _bureau_id(user)
    if bureau is None:
        return Access.NONE
    if ticket.bureau_id == bureau:
        return Access.OWN
    mine = [c for c in ticket.co_handlers if c.bureau_id == bureau]
    if any(c.done_at is None for c in mine):
        return Access.CO
    if mine:
        return Access.CO_ENDED
    return Access.NONE


def can_see_ticket(user: User | None, ticket: Ticket) -> bool:
    return ticket_access(user, ticket) is not Access.NONE


def can_act_on_ticket(user: User | None, ticket: Ticket) -> bool:
    """The ticket's own bureau (or county-wide staff): the full set of actions its status allows."""
    return ticket_access(user, ticket) is Access.OWN


def seen_until(user: User | None, ticket: Ticket) -> datetime | None:
    """For a bureau whose co-handling has ended: the moment it ended (history after it is hidden)."""
    return _co_handling_ended(user, ticket) if ticket_access(user, ticket) is Access.CO_ENDED else None


def _co_handling_ended(user: User | None, ticket: Ticket) -> datetime | None:
    ends = [c.done_at for c in ticket.co_handlers if c.bureau_id == _bureau_id(user) and c.done_at is not None]
    return max(ends) if ends else None


def check_action(user: User, ticket: Ticket, action_name: str, action_roles: tuple[str, ...],
                 action_label: str) -> None:
    """Forbidden unless this user may run this action on this ticket (its status is checked by
    the workflow): the role must be in the action's row, and the ticket must be the user's
    bureau's — except 协办意见, which is the co-handling bureau's while its co-handling is open."""
    if user.role not in action_roles:
        raise Forbidden(_msg(N_("您的角色不能执行“%(action)s”"), action=_msg(action_label)))
    access = ticket_access(user, ticket)
    if action_name == "co_reply":  # county-wide staff hold every ticket as their own: never co-handlers
        if access is not Access.CO:
            raise Forbidden(_msg(N_("只有被请求协办的单位可以填写协办意见")))
        return
    if county_wide(user):
        return
    if access is not Access.OWN:
        raise Forbidden(_msg(N_("该办件不属于您的单位，只能查看")))


def may_run(user: User, ticket: Ticket, action_name: str, action_roles: tuple[str, ...]) -> bool:
    """`check_action` as a yes/no, for offering only the actions that would be allowed."""
    try:
        check_action(user, ticket, action_name, action_roles, action_name)
    except Forbidden:
        return False
    return True


def works_for_holder(user: User | None, ticket: Ticket) -> bool:
    """A handler or lead of the bureau that holds the ticket (claims it, takes it on when accepting)."""
    bureau = _bureau_id(user)
    return bureau is not None and ticket.bureau_id == bureau


def check_own_bureau(user: User, ticket: Ticket, message: str) -> None:
    """Bureau staff (handlers, leads) acting on their own bureau's ticket, e.g. to claim it."""
    if not works_for_holder(user, ticket):
        raise Forbidden(_msg(message))


def _assign_refusal(user: User | None, ticket: Ticket) -> str | None:
    """Why this user may not assign the ticket (None: they may): leads their bureau's tickets,
    county-wide staff any."""
    if not is_staff(user) or user is None or user.role not in roles.LEADS:
        return N_("只有部门负责人可以分派办件")
    if not county_wide(user) and ticket.bureau_id != user.bureau_id:
        return N_("只能分派本单位的办件")
    return None


def check_assign(user: User, ticket: Ticket) -> None:
    refusal = _assign_refusal(user, ticket)
    if refusal is not None:
        raise Forbidden(_msg(refusal))


def visibility_branches(user: User) -> list[Any]:
    """Disjoint WHERE clauses whose union is the staff member's queue: their bureau's tickets and
    the ones it is co-handling now (everything for county-wide staff, nothing for others)."""
    if county_wide(user):
        return [true()]
    bureau = _bureau_id(user)
    if bureau is None:
        return [false()]
    co = select(CoHandler.ticket_id).where(CoHandler.bureau_id == bureau, CoHandler.done_at.is_(None))
    return [Ticket.bureau_id == bureau, and_(Ticket.id.in_(co), Ticket.bureau_id != bureau)]


def visible_tickets_clause(user: User) -> Any:
    """A WHERE clause limiting tickets to this staff member's queue."""
    return or_(*visibility_branches(user))


def search_scope(user: User) -> set[int] | None:
    """Bureau ids whose tickets this user may find by full-text search (None: every bureau)."""
    if county_wide(user):
        return None
    bureau = _bureau_id(user)
    return {bureau} if bureau is not None else set()


# --------------------------------------------------------------------------- requests
def can_see_request(user: User | None, request: Request) -> bool:
    if user is None or not is_active(user):
        return False
    if user.role == roles.ENTERPRISE:
        return user.enterprise_id is not None and user.enterprise_id == request.enterprise_id
    return any(can_see_ticket(user, t) for t in request.tickets)


def requests_clause(user: User) -> Any:
    """The SQL form of `can_see_request` (None: no limit)."""
    if not is_active(user):
        return false()
    if user.role == roles.ENTERPRISE:
        return Request.enterprise_id == user.enterprise_id if user.enterprise_id is not None else false()
    if county_wide(user):
        return None
    bureau = _bureau_id(user)
    if bureau is None:
        return false()
    own = select(Ticket.id).where(Ticket.request_id == Request.id, Ticket.bureau_id == bureau)
    co = (select(Ticket.id).join(CoHandler, CoHandler.ticket_id == Ticket.id)
          .where(Ticket.request_id == Request.id, CoHandler.bureau_id == bureau))
    return or_(exists(own), exists(co))


def is_enterprise_owner(user: User | None, request: Request) -> bool:
    """The enterprise that submitted the request (withdraw, 补正, rating)."""
    return is_enterprise(user) and user is not None and user.enterprise_id == request.enterprise_id


def can_see_event(user: User | None, event: TicketEvent, request: Request) -> bool:
    if user is None or not is_active(user):
        return False
    if user.role == roles.ENTERPRISE:
        return bool(event.public) and user.enterprise_id == request.enterprise_id
    if county_wide(user):
        return True
    ticket = event.ticket if event.ticket_id is not None else None
    if ticket is None:  # a request-wide line: public ones to everyone who sees the request
        return bool(event.public) and can_see_request(user, request)
    access = ticket_access(user, ticket)
    if access is Access.CO_ENDED:
        until = _co_handling_ended(user, ticket)
        return until is not None and event.created_at <= until
    return access is not Access.NONE


def visible_events(user: User | None, request: Request) -> list[TicketEvent]:
    """The request's timeline as this user may read it."""
    return [e for e in request.events if can_see_event(user, e, request)]


def can_see_attachment(user: User | None, attachment: Attachment) -> bool:
    request = attachment.request
    if not can_see_request(user, request):
        return False
    if attachment.event is None:  # materials submitted with the request
        return True
    return can_see_event(user, attachment.event, request)


# --------------------------------------------------------------------------- enterprises
def can_see_enterprise_file(session: Session, user: User | None, enterprise: Enterprise) -> bool:
    """County-wide staff; staff of a bureau that holds, held or co-handles one of its tickets."""
    if user is None or not is_staff(user):
        return False
    if county_wide(user):
        return True
    bureau = _bureau_id(user)
    if bureau is None:
        return False
    of_it = select(Ticket.id).join(Request, Ticket.request_id == Request.id).where(
        Request.enterprise_id == enterprise.id)
    holds = of_it.where(Ticket.bureau_id == bureau)
    held = (select(TicketEvent.id).join(Request, TicketEvent.request_id == Request.id)
            .where(Request.enterprise_id == enterprise.id, TicketEvent.bureau_id == bureau))
    co = of_it.join(CoHandler, CoHandler.ticket_id == Ticket.id).where(CoHandler.bureau_id == bureau)
    return bool(session.scalar(select(or_(exists(holds), exists(held), exists(co)))))


def enterprise_file_tickets_clause(user: User) -> Any:
    """Which of an enterprise's tickets its quality file lists for this user: every ticket the
    user may see (including co-handled ones, open or answered)."""
    if county_wide(user):
        return true()
    bureau = _bureau_id(user)
    if bureau is None:
        return false()
    co = select(CoHandler.ticket_id).where(CoHandler.bureau_id == bureau)
    return or_(Ticket.bureau_id == bureau, Ticket.id.in_(co))


# --------------------------------------------------------------------------- dashboards
def dashboard_bureau(user: User | None, requested: str | None) -> str | None:
    """The bureau code whose figures a user may look at: county-wide staff any (or all: None), a
    bureau lead only their own bureau whatever they ask for; anyone else nothing (Forbidden)."""
    if user is None or not is_active(user):
        raise Forbidden(_msg(N_("请先登录")))
    if county_wide(user):
        return requested
    if user.role == roles.LEAD:
        if user.bureau is None:
            raise Forbidden(_msg(N_("您的账号没有所属单位，无法查看本单位统计")))
        return user.bureau.code
    raise Forbidden(_msg(N_("只有联席办督查人员、管理员和部门负责人可以查看统计")))


# --------------------------------------------------------------------------- enterprise actions
def check_enterprise_owner(user: User | None, request: Request, message: str) -> None:
    """Withdraw, answer a 补正 notice, rate: only the enterprise that submitted the request."""
    if not is_enterprise_owner(user, request):
        raise Forbidden(_msg(message))


# --------------------------------------------------------------------------- 差评 follow-ups
def check_follow_up(user: User, ticket: Ticket) -> None:
    """A 差评 follow-up is the ticket's bureau lead's (or county-wide staff's)."""
    if county_wide(user):
        return
    if not (is_staff(user) and user.role == roles.LEAD and user.bureau_id == ticket.bureau_id):
        raise Forbidden(_msg(N_("只有该单位负责人可以处理差评回访")))


def follow_ups_clause(user: User) -> Any:
    """Which tickets' 差评 follow-ups a user works: county-wide all, a lead their bureau's."""
    if county_wide(user):
        return true()
    if is_staff(user) and user.role == roles.LEAD and user.bureau_id is not None:
        return Ticket.bureau_id == user.bureau_id
    return false()


# --------------------------------------------------------------------------- what a page may show
def visible_attachments(user: User | None, request: Request) -> list[Attachment]:
    return [a for a in request.attachments if can_see_attachment(user, a)]


def can_read_routing(user: User | None, ticket: Ticket) -> bool:
    """The routing reason (分办依据) is internal: staff who may see the ticket."""
    return can_see_ticket(user, ticket)


def can_claim(user: User | None, ticket: Ticket) -> bool:
    """Offer 认领 to the holding bureau's handlers and leads who are not its assignee yet."""
    return works_for_holder(user, ticket) and user is not None and ticket.assignee_id != user.id


def can_assign(user: User | None, ticket: Ticket) -> bool:
    return _assign_refusal(user, ticket) is None
