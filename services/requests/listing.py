"""Lists of requests with the filters GeoReport v2 asks for (ids, service codes, open/closed, a
date range), for any signed-in caller: `GET /open311/v2/requests`.

The scope is `services.policy.requests_clause`, and every row is checked with
`policy.can_see_request` again before it is returned, so a list never shows more than the request pages would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, selectinload

from services import policy
from services.models import Request, RequestItem, Service, Ticket, User
from services.tickets import workflow


@dataclass
class Filters:
    numbers: list[str] = field(default_factory=list)  # when given, the others are ignored (spec)
    service_codes: list[str] = field(default_factory=list)
    status: set[str] = field(default_factory=set)  # {"open"}, {"closed"} or both/empty = all
    start: datetime | None = None  # inclusive, aware
    end: datetime | None = None  # inclusive, aware
    end_exclusive: datetime | None = None  # for a date-only end_date: the next midnight
    limit: int = 50
    offset: int = 0


def _open_ticket():
    return exists(select(Ticket.id).where(Ticket.request_id == Request.id,
                                          Ticket.status.not_in(workflow.CLOSED)))


def _any_ticket():
    return exists(select(Ticket.id).where(Ticket.request_id == Request.id))


def visible_requests(session: Session, user: User, f: Filters) -> list[Request]:
    """Most recent first."""
    query = select(Request)
    scope = policy.requests_clause(user)
    if scope is not None:
        query = query.where(scope)
    if f.numbers:
        query = query.where(Request.number.in_(f.numbers))
    else:
        if f.service_codes:
            asked = (select(RequestItem.id).join(Service, RequestItem.service_id == Service.id)
                     .where(RequestItem.request_id == Request.id, Service.code.in_(f.service_codes)))
            query = query.where(exists(asked))
        if f.status == {"open"}:
            query = query.where(_open_ticket())
        elif f.status == {"closed"}:
            query = query.where(and_(_any_ticket(), ~_open_ticket()))
        if f.start is not None:
            query = query.where(Request.created_at >= f.start)
        if f.end is not None:
            query = query.where(Request.created_at <= f.end)
        if f.end_exclusive is not None:
            query = query.where(Request.created_at < f.end_exclusive)
    rows = session.scalars(query.options(selectinload(Request.tickets).selectinload(Ticket.bureau),
                                         selectinload(Request.items).selectinload(RequestItem.service),
                                         selectinload(Request.events))
                           .order_by(Request.created_at.desc(), Request.id.desc())
                           .offset(f.offset).limit(f.limit))
    return [r for r in rows if policy.can_see_request(user, r)]
