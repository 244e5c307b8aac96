"""Requests as their readers see them: a request (for its enterprise and the staff who may
handle it, services.policy decides), the enterprise's list, an attachment, the published
一件事 bundles and the public progress lookup (number + query code, status and bureaus only).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services import policy
from services.core.errors import Forbidden, NotFound
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Attachment, Bundle, BundleService, Enterprise, Request, RequestItem, Ticket, User


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


# --------------------------------------------------------------------------- public lookup
@dataclass
class PublicProgress:
    number: str
    status: str
    tickets: list[tuple[str, str]]  # (bureau name, status)


def lookup_progress(session: Session, number: str, query_code: str) -> PublicProgress:
    """Status and bureaus only, for anyone holding the number and its query code."""
    request = session.scalar(select(Request).where(Request.number == (number or "").strip().upper())
                             .options(selectinload(Request.tickets).selectinload(Ticket.bureau)))
    code = (query_code or "").strip().upper()
    if request is None or not hmac.compare_digest(request.query_code.encode(), code.encode()):
        raise NotFound(_msg(N_("申请编号或查询码不正确")))
    return PublicProgress(request.number, request.status,
                          [(t.bureau.name, t.status) for t in request.tickets])
