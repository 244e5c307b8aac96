"""Submitting a request: one service, a bundle (一件事一次办) or a free-text need — checking it and
deciding its routing (`prepare`, also the preview), then writing the request with one ticket per
responsible bureau, its events and attachments (`submit`).

A submission either lands whole — request, tickets, events, attachments — or not at all:
files are written first and removed again if the transaction fails. The same idempotency key
twice (a double click, a resent form, the API retrying) gives the request made the first time.
"""
from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services import outbox as search_sync
from services.accounts.users import normalise_email, normalise_mobile
from services.catalog.documents import public_services_query
from services.core import cleantext
from services.core.clock import local_date, local_today
from services.core.errors import ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.core.transaction import atomic
from services.models import Attachment, Bundle, Enterprise, Request, RequestItem, Service, Ticket, TicketEvent, User
from services.requests import routing, uploads
from services.requests.fields import MAX_DESCRIPTION, validate_attributes
from services.requests.reading import get_bundle, require_enterprise
from services.tickets import notify, workdays, workflow
from services.tickets.actions import accept_due_for

MIN_NEED_DESCRIPTION = 10
QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


# --------------------------------------------------------------------------- submission
@dataclass
class Submission:
    services: list[str] = field(default_factory=list)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    contact_email: str = ""
    idempotency_key: str = ""
    bundle: str | None = None
    files: list[uploads.Incoming] = field(default_factory=list)


@dataclass
class PreparedItem:
    service: Service
    values: dict[str, Any]
    decision: routing.Decision


@dataclass
class Prepared:
    kind: str
    bundle: Bundle | None
    items: list[PreparedItem]
    description: str
    contact_name: str
    contact_mobile: str
    contact_email: str
    need_decision: routing.Decision | None = None

    def tickets(self) -> list[tuple[routing.Decision, list[PreparedItem]]]:
        """Items grouped by the bureau that will handle them (one ticket each)."""
        groups: OrderedDict[int, tuple[routing.Decision, list[PreparedItem]]] = OrderedDict()
        for item in self.items:
            groups.setdefault(item.decision.bureau.id, (item.decision, []))[1].append(item)
        if self.need_decision is not None:
            groups.setdefault(self.need_decision.bureau.id, (self.need_decision, []))
        return list(groups.values())


def load_services(session: Session, codes: list[str]) -> list[Service]:
    """Public, online services in the order asked; ValidationFailed names the bad codes."""
    codes = list(OrderedDict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        raise ValidationFailed({"services": _msg(N_("请至少选择一项服务"))})
    found = {s.code: s for s in session.scalars(
        public_services_query().where(Service.code.in_(codes)).options(selectinload(Service.fields)))}
    problems: dict[str, str] = {}
    missing = [c for c in codes if c not in found]
    if missing:
        problems["services"] = _msg(N_("没有这些服务：%(codes)s"), codes=missing)
    offline = [found[c].name for c in codes if c in found and not found[c].online]
    if offline:
        problems["services"] = _msg(N_("以下服务需要到窗口办理，不能网上申请：%(names)s"), names=offline)
    if problems:
        raise ValidationFailed(problems)
    return [found[c] for c in codes]


def _contact(user: User, e: Enterprise, sub: Submission, problems: dict[str, str]) -> tuple[str, str, str]:
    name = cleantext.name(sub.contact_name or e.contact_name or user.display_name, 50)
    if not name:
        problems["contact_name"] = _msg(N_("请填写联系人"))
    mobile = normalise_mobile(sub.contact_mobile or e.mobile, problems, "contact_mobile")
    email = normalise_email(sub.contact_email or e.email or user.email, problems, "contact_email", required=False)
    return name, mobile, email


def prepare(session: Session, user: User, sub: Submission, *, need: bool = False) -> Prepared:
    """Validate a submission and decide its routing, without writing anything (used for the preview)."""
    e = require_enterprise(user)
    problems: dict[str, str] = {}
    nul = cleantext.nul_problems({"description": sub.description, "contact_name": sub.contact_name,
                                  "contact_mobile": sub.contact_mobile, "contact_email": sub.contact_email})
    description = cleantext.text(sub.description)
    if len(description) > MAX_DESCRIPTION:
        problems["description"] = _msg(N_("情况说明不能超过 %(max)s 个字"), max=MAX_DESCRIPTION)
    bundle = None
    services: list[Service] = []
    if need:
        if len(description) < MIN_NEED_DESCRIPTION:
            problems["description"] = _msg(N_("请用至少 %(min)s 个字描述您遇到的问题或需求"),
                                              min=MIN_NEED_DESCRIPTION)
    else:
        if sub.bundle:
            bundle = get_bundle(session, sub.bundle)
            codes = [i.service.code for i in bundle.items]
        else:
            codes = sub.services
        try:
            services = load_services(session, codes)
        except ValidationFailed as exc:
            problems.update(exc.fields)
    name, mobile, email = _contact(user, e, sub, problems)
    applicant = routing.Applicant(e.township, e.industry, e.size, description)
    rules = routing.active_rules(session)
    items: list[PreparedItem] = []
    for s in services:
        values, field_problems = validate_attributes(s, (sub.attributes or {}).get(s.code),
                                                     prefix=f"attributes.{s.code}.")
        problems.update(field_problems)
        items.append(PreparedItem(s, values, routing.route(session, applicant, s, values, rules)))
    problems.update(nul)
    if problems:
        raise ValidationFailed(problems)
    kind = "need" if need else ("bundle" if bundle or len(items) > 1 else "service")
    need_decision = routing.route(session, applicant, None, {}, rules) if need else None
    return Prepared(kind, bundle, items, description, name, mobile, email, need_decision)


def _check_idempotency_key(key: str) -> str:
    key = (key or "").strip()
    if not key:
        return secrets.token_hex(16)
    if not IDEMPOTENCY_RE.match(key):
        raise ValidationFailed({"idempotency_key": _msg(N_("idempotency_key 应为 8–64 位字母、数字或 _.:-"))})
    return key


def _existing(session: Session, user: User, key: str) -> Request | None:
    return session.scalar(select(Request).where(Request.user_id == user.id, Request.idempotency_key == key))


def submit(session: Session, user: User, sub: Submission, upload_dir: str, *, need: bool = False
           ) -> tuple[Request, bool]:
    """Create the request with one ticket per bureau. Returns (request, created); a repeated
    idempotency key returns the request made the first time."""
    enterprise = require_enterprise(user)
    key = _check_idempotency_key(sub.idempotency_key)
    earlier = _existing(session, user, key)
    if earlier is not None:
        return earlier, False
    prepared = prepare(session, user, sub, need=need)
    stored = uploads.store(upload_dir, uploads.check(sub.files))
    try:
        with atomic(session, on_rollback=lambda: uploads.discard(upload_dir, stored)):
            request = _write(session, user, enterprise, prepared, key, stored)
    except IntegrityError:  # rolled back and the files removed
        earlier = _existing(session, user, key)
        if earlier is not None:  # the same form arrived twice at once
            return earlier, False
        raise
    return request, True


def _new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(6))


def _write(session: Session, user: User, enterprise: Enterprise, p: Prepared, key: str,
           stored: list[uploads.Stored]) -> Request:
    request = Request(number="pending-" + secrets.token_hex(8), kind=p.kind, enterprise=enterprise, user=user,
                      bundle=p.bundle, description=p.description, contact_name=p.contact_name,
                      contact_mobile=p.contact_mobile, contact_email=p.contact_email, status=workflow.SUBMITTED,
                      query_code=_new_query_code(), idempotency_key=key)
    session.add(request)
    session.flush()
    request.number = f"LX{local_date(request.created_at):%Y%m%d}{request.id:06d}"  # the Beijing date

    calendar = workdays.Calendar.from_session(session)
    accept_due = accept_due_for(calendar, local_today())
    for n, (decision, items) in enumerate(p.tickets(), 1):
        ticket = Ticket(number=f"{request.number}-{n}", request=request, bureau=decision.bureau,
                        status=workflow.SUBMITTED, routing_rule=decision.rule, accept_due=accept_due,
                        routing_reason="；".join(OrderedDict.fromkeys(i.decision.reason for i in items))
                        or decision.reason)
        session.add(ticket)
        notify.notify(session, notify.bureau_staff(session, decision.bureau.id),
                      f"新办件：{enterprise.name}申请{'、'.join(i.service.name for i in items) or '分办'}",
                      request=request, ticket=ticket, email=False)
        for item in items:
            session.add(RequestItem(request=request, service=item.service, ticket=ticket, attributes=item.values))
        session.add(TicketEvent(request=request, ticket=ticket, actor=user, kind="submitted",
                                to_status=workflow.SUBMITTED, message=f"提交至{decision.bureau.short_name}"))
        session.add(TicketEvent(request=request, ticket=ticket, kind="routed", public=False,
                                message=ticket.routing_reason))
    for s in stored:
        session.add(Attachment(request=request, uploaded_by=user.id, original_name=s.original_name,
                               stored_name=s.stored_name, mime_type=s.mime_type, size=s.size, sha256=s.sha256))
    session.flush()
    search_sync.enqueue(session, "ticket", [t.number for t in request.tickets])
    return request
