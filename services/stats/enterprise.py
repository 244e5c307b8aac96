"""质量档案: one enterprise's quality file for staff — its profile, its requests and tickets, the
services it used and its ratings.

Scope (``services.policy``): the file opens for supervisors and admins and for staff whose bureau
holds, held or co-handles one of the enterprise's tickets; they see the tickets they may see, and
so only the requests, services and ratings of those tickets. Enterprise accounts may not open it.
No Flask imports.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services import policy
from services.accounts import reference
from services.core.errors import Forbidden, NotFound
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Enterprise, Rating, Request, RequestItem, Service, Ticket, User
from services.stats.metrics import ratio
from services.tickets import ratings, workflow

TICKET_LIMIT = 500


def _label(choices: tuple[tuple[str, str], ...], key: str) -> str:
    """A reference label (an N_ msgid) as a services.core.texts.Text for the page language; an unknown
    key is data and stays as it is."""
    found = dict(choices).get(key)
    return _msg(found) if found else key


@dataclass
class RatingEntry:
    ticket_number: str
    bureau: str
    round: int
    score: int
    comment: str
    created_at: datetime
    follow_up_note: str
    latest: bool


@dataclass
class TicketEntry:
    ticket: Ticket
    services: list[Service]
    latest_score: int | None


@dataclass
class RequestEntry:
    request: Request
    tickets: list[TicketEntry]


@dataclass
class ServiceUse:
    service: Service
    tickets: int
    completed: int
    last_used: datetime


@dataclass
class EnterpriseFile:
    enterprise: Enterprise
    township: str
    industry: str                   # services.core.texts.Text (shown with `tr`) or the stored key if unknown
    size: str
    requests: list[RequestEntry]
    tickets: list[TicketEntry]
    services: list[ServiceUse]
    ratings: list[RatingEntry]
    scope: str                      # "all" or the bureau's short name
    total_tickets: int              # visible tickets, before the display limit
    truncated: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def satisfaction(self) -> float | None:
        latest = [r.score for r in self.ratings if r.latest]
        return ratio(sum(latest), len(latest), 2)


def enterprise_file(session: Session, user: User, uscc: str, *, limit: int = TICKET_LIMIT) -> EnterpriseFile:
    """The quality file of the enterprise with this 统一社会信用代码, as ``user`` may see it."""
    if not policy.is_staff(user):
        raise Forbidden(_msg(N_("只有工作人员可以查看企业质量档案")))
    code = (uscc or "").strip().upper()
    enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == code)) if len(code) == 18 else None
    if enterprise is None or not policy.can_see_enterprise_file(session, user, enterprise):
        raise NotFound(_msg(N_("没有找到这家企业")))
    where = (Request.enterprise_id == enterprise.id, policy.enterprise_file_tickets_clause(user))
    total = session.scalar(select(func.count(Ticket.id)).join(Request, Ticket.request_id == Request.id)
                           .where(*where)) or 0
    rows = session.scalars(
        select(Ticket).join(Request, Ticket.request_id == Request.id).where(*where)
        .options(selectinload(Ticket.bureau), selectinload(Ticket.request),
                 selectinload(Ticket.items).selectinload(RequestItem.service).selectinload(Service.category))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)).all()
    ids = [t.id for t in rows]
    rating_rows = session.scalars(select(Rating).where(Rating.ticket_id.in_(ids))
                                  .order_by(Rating.created_at, Rating.id)).all() if ids else []
    latest_round: dict[int, int] = {}
    for r in rating_rows:
        latest_round[r.ticket_id] = max(latest_round.get(r.ticket_id, 0), r.round)
    latest_score = {r.ticket_id: r.score for r in rating_rows if r.round == latest_round[r.ticket_id]}
    by_id = {t.id: t for t in rows}

    entries = [TicketEntry(t, [i.service for i in t.items], latest_score.get(t.id)) for t in rows]
    grouped: OrderedDict[int, RequestEntry] = OrderedDict()
    for e in entries:
        grouped.setdefault(e.ticket.request_id, RequestEntry(e.ticket.request, [])).tickets.append(e)
    for entry in grouped.values():
        entry.tickets.sort(key=lambda e: e.ticket.id)

    uses: dict[int, ServiceUse] = {}
    for e in entries:
        for s in e.services:
            use = uses.get(s.id)
            if use is None:
                use = uses[s.id] = ServiceUse(s, 0, 0, e.ticket.created_at)
            use.tickets += 1
            use.completed += e.ticket.status == workflow.COMPLETED
            use.last_used = max(use.last_used, e.ticket.created_at)

    rating_entries = [RatingEntry(by_id[r.ticket_id].number, by_id[r.ticket_id].bureau.short_name, r.round, r.score,
                                  r.comment, r.created_at, r.follow_up_note, r.round == latest_round[r.ticket_id])
                      for r in rating_rows]
    counts = {
        "requests": len(grouped),
        "tickets": total,
        "completed": sum(1 for t in rows if t.status == workflow.COMPLETED),
        "open": sum(1 for t in rows if t.status not in workflow.CLOSED),
        "rated": len(latest_score),
        "bad": sum(1 for s in latest_score.values() if s in ratings.BAD),
    }
    scope = "all" if policy.county_wide(user) else (user.bureau.short_name if user.bureau else "")
    return EnterpriseFile(
        enterprise=enterprise, township=enterprise.township,
        industry=_label(reference.INDUSTRIES, enterprise.industry),
        size=_label(reference.SIZES, enterprise.size), requests=list(grouped.values()), tickets=entries,
        services=sorted(uses.values(), key=lambda u: (-u.tickets, u.service.code)), ratings=rating_entries,
        scope=scope, total_tickets=total, truncated=total > len(rows), counts=counts)
