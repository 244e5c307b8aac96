"""Requests: submission of one service, a bundle (一件事一次办) or a free-text need, with
request-field validation, attachments and routing; the enterprise's list and request page;
withdrawal and answers to 补正; the public progress lookup.

A submission either lands whole — request, tickets, events, attachments — or not at all:
files are written first and removed again if the transaction fails.
"""
from __future__ import annotations

import hmac
import math
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services import outbox as search_sync
from services import policy
from services.accounts.users import normalise_email, normalise_mobile
from services.catalog.records import public_services_query
from services.core.clock import utcnow
from services.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import (
    Attachment,
    Bundle,
    BundleService,
    Request,
    RequestItem,
    Service,
    ServiceField,
    Ticket,
    TicketEvent,
    User,
)
from services.requests import routing, uploads
from services.tickets import notify, workdays, workflow

MAX_DESCRIPTION = 5000
MAX_STRING = 200
MIN_NEED_DESCRIPTION = 10
QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


REQUIRED = N_("此项为必填项")
NOT_A_NUMBER = N_("应为数字")
CHOOSE_FROM_LIST = N_("请从列表中选择")


# --------------------------------------------------------------------------- request fields
def _clean_value(f: ServiceField, raw: Any) -> tuple[Any, str | None]:
    """(value, problem) for one field; value None means 'not given'."""
    if raw is None or raw == "" or raw == []:
        return None, (_msg(REQUIRED) if f.required else None)
    keys = {v["key"] for v in f.values or []}
    if f.datatype in ("string", "text"):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            return None, _msg(N_("应为文字"))
        text = str(raw).strip()
        limit = MAX_STRING if f.datatype == "string" else MAX_DESCRIPTION
        if len(text) > limit:
            return None, _msg(N_("不能超过 %(max)d 个字"), max=limit)
        return (text or None), (_msg(REQUIRED) if f.required and not text else None)
    if f.datatype == "number":
        try:
            number = float(str(raw).strip().replace(",", "")) if not isinstance(raw, bool) else math.nan
        except ValueError:
            return None, _msg(NOT_A_NUMBER)
        if not math.isfinite(number) or abs(number) > 1e12:
            return None, _msg(NOT_A_NUMBER)
        return (int(number) if number.is_integer() else number), None
    if f.datatype == "datetime":
        text = str(raw).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return date.fromisoformat(text).isoformat(), None
            return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(timespec="minutes"), None
        except ValueError:
            return None, _msg(N_("应为日期，如 2026-12-01"))
    if f.datatype == "singlevaluelist":
        if not isinstance(raw, str) or raw not in keys:
            return None, _msg(CHOOSE_FROM_LIST)
        return raw, None
    if f.datatype == "multivaluelist":
        values = [raw] if isinstance(raw, str) else raw
        if not isinstance(values, list) or not all(isinstance(v, str) and v in keys for v in values):
            return None, _msg(CHOOSE_FROM_LIST)
        return list(OrderedDict.fromkeys(values)), None
    return None, _msg(N_("未知的字段类型"))


def validate_attributes(service: Service, raw: dict[str, Any] | None, prefix: str = "") -> tuple[dict, dict]:
    """Clean values for a service's request fields and the problems keyed by field code."""
    raw = raw or {}
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if not isinstance(raw, dict):
        return {}, {prefix.rstrip("."): _msg(N_("应为对象"))}
    known = {f.code for f in service.fields}
    for key in raw:
        if key not in known:
            problems[f"{prefix}{key}"] = _msg(N_("该服务没有这个字段"))
    for f in service.fields:
        value, problem = _clean_value(f, raw.get(f.code))
        if problem:
            problems[f"{prefix}{f.code}"] = _msg(N_("%(label)s：%(message)s"), label=f.label, message=problem)
        elif value is not None:
            values[f.code] = value
    return values, problems


def display_value(f: ServiceField, value: Any) -> str:
    names = {v["key"]: v["name"] for v in f.values or []}
    if isinstance(value, list):
        return "、".join(names.get(v, v) for v in value)
    return names.get(value, str(value)) if value is not None else ""


@dataclass
class FieldGroup:
    """A request field as the form shows it: once, even when several services of a bundle ask it."""

    name: str
    field: ServiceField
    services: list[Service]


def field_groups(services: list[Service]) -> list[FieldGroup]:
    groups: OrderedDict[tuple, FieldGroup] = OrderedDict()
    for s in services:
        for f in s.fields:
            key = (f.code, f.datatype, f.label, tuple(v["key"] for v in f.values or []))
            if key in groups:
                groups[key].services.append(s)
            else:
                groups[key] = FieldGroup("", f, [s])
    used: set[str] = set()
    for g in groups.values():
        name = f"f_{g.field.code}"
        if name in used:  # same code, different meaning in another service: keep them apart
            name = f"f_{g.services[0].code}_{g.field.code}"
        used.add(name)
        g.name = name
    return list(groups.values())


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


def _require_enterprise(user: User) -> None:
    if user.role != "enterprise" or user.enterprise is None:
        raise Forbidden(_msg(N_("只有企业账号可以提交申请")))


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


def load_services(session: Session, codes: list[str]) -> list[Service]:
    """Public, online services in the order asked; ValidationFailed names the bad codes."""
    codes = list(OrderedDict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if not codes:
        raise ValidationFailed({"services": _msg(N_("请至少选择一项服务"))})
    found = {s.code: s for s in session.scalars(
        public_services_query().where(Service.code.in_(codes)).options(selectinload(Service.fields)))}
    problems = {}
    missing = [c for c in codes if c not in found]
    if missing:
        problems["services"] = _msg(N_("没有这些服务：%(codes)s"), codes=missing)
    offline = [found[c].name for c in codes if c in found and not found[c].online]
    if offline:
        problems["services"] = _msg(N_("以下服务需要到窗口办理，不能网上申请：%(names)s"), names=offline)
    if problems:
        raise ValidationFailed(problems)
    return [found[c] for c in codes]


def _contact(user: User, sub: Submission, problems: dict[str, str]) -> tuple[str, str, str]:
    e = user.enterprise
    name = (sub.contact_name or e.contact_name or user.display_name).strip()[:50]
    if not name:
        problems["contact_name"] = _msg(N_("请填写联系人"))
    mobile = normalise_mobile(sub.contact_mobile or e.mobile, problems, "contact_mobile")
    email = normalise_email(sub.contact_email or e.email or user.email, problems, "contact_email", required=False)
    return name, mobile, email


def prepare(session: Session, user: User, sub: Submission, *, need: bool = False) -> Prepared:
    """Validate a submission and decide its routing, without writing anything (used for the preview)."""
    _require_enterprise(user)
    problems: dict[str, str] = {}
    description = (sub.description or "").strip()
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
    name, mobile, email = _contact(user, sub, problems)
    e = user.enterprise
    applicant = routing.Applicant(e.township, e.industry, e.size, description)
    rules = routing.active_rules(session)
    items: list[PreparedItem] = []
    for s in services:
        values, field_problems = validate_attributes(s, (sub.attributes or {}).get(s.code),
                                                     prefix=f"attributes.{s.code}.")
        problems.update(field_problems)
        items.append(PreparedItem(s, values, routing.route(session, applicant, s, values, rules)))
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
    _require_enterprise(user)
    key = _check_idempotency_key(sub.idempotency_key)
    earlier = _existing(session, user, key)
    if earlier is not None:
        return earlier, False
    prepared = prepare(session, user, sub, need=need)
    stored = uploads.store(upload_dir, uploads.check(sub.files))
    try:
        request = _write(session, user, prepared, key, stored)
        session.commit()
    except IntegrityError:
        session.rollback()
        uploads.discard(upload_dir, stored)
        earlier = _existing(session, user, key)
        if earlier is not None:  # the same form arrived twice at once
            return earlier, False
        raise
    except BaseException:
        session.rollback()
        uploads.discard(upload_dir, stored)
        raise
    return request, True


def _new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(6))


def _write(session: Session, user: User, p: Prepared, key: str, stored: list[uploads.Stored]) -> Request:
    request = Request(number="pending-" + secrets.token_hex(8), kind=p.kind, enterprise=user.enterprise, user=user,
                      bundle=p.bundle, description=p.description, contact_name=p.contact_name,
                      contact_mobile=p.contact_mobile, contact_email=p.contact_email, status=workflow.SUBMITTED,
                      query_code=_new_query_code(), idempotency_key=key)
    session.add(request)
    session.flush()
    from services.core.clock import local_date, local_today
    from services.tickets.actions import accept_due_for

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
                      f"新办件：{user.enterprise.name}申请{'、'.join(i.service.name for i in items) or '分办'}",
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


# --------------------------------------------------------------------------- reading
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
    _require_enterprise(user)
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


# --------------------------------------------------------------------------- enterprise actions
def _refresh_status(request: Request) -> None:
    request.status = workflow.request_status(t.status for t in request.tickets)


def can_withdraw(user: User, request: Request) -> bool:
    """Before any bureau has accepted it, the enterprise may take its request back."""
    open_tickets = [t for t in request.tickets if t.status not in workflow.CLOSED]
    return (policy.is_enterprise_owner(user, request) and bool(open_tickets)
            and all(t.status == workflow.SUBMITTED for t in open_tickets))


def withdraw(session: Session, user: User, number: str, reason: str = "") -> Request:
    request = get_request(session, user, number)
    if user.role != "enterprise":
        raise Forbidden(_msg(N_("只有提交申请的企业可以撤回")))
    if not can_withdraw(user, request):
        raise Conflict(_msg(N_("申请已被受理或已结束，不能再撤回；如需撤回请联系承办部门")))
    open_tickets = [t for t in request.tickets if t.status not in workflow.CLOSED]
    for t in open_tickets:
        session.add(TicketEvent(request=request, ticket=t, actor=user, kind="withdrawn", from_status=t.status,
                                to_status=workflow.WITHDRAWN, message=(reason or "企业撤回申请").strip()[:500]))
        t.status = workflow.WITHDRAWN
        t.closed_at = t.closed_at or utcnow()
    search_sync.enqueue(session, "ticket", [t.number for t in open_tickets])
    _refresh_status(request)
    session.commit()
    return request


def provide_info(session: Session, user: User, number: str, ticket_number: str, message: str,
                 files: list[uploads.Incoming], upload_dir: str) -> TicketEvent:
    """The enterprise answers a 补正 notice: a message and/or files; the ticket resumes."""
    request = get_request(session, user, number)
    if user.role != "enterprise":
        raise Forbidden(_msg(N_("只有提交申请的企业可以补正材料")))
    ticket = next((t for t in request.tickets if t.number == ticket_number), None)
    if ticket is None:
        raise NotFound(_msg(N_("没有找到这个办件")))
    if ticket.status != workflow.NEED_INFO:
        raise Conflict(_msg(N_("该办件当前不需要补正材料")))
    message = (message or "").strip()
    if len(message) > MAX_DESCRIPTION:
        raise ValidationFailed({"message": _msg(N_("说明不能超过 %(max)s 个字"), max=MAX_DESCRIPTION)})
    checked = uploads.check(files, already=sum(a.size for a in request.attachments))
    if not message and not checked:
        raise ValidationFailed({"message": _msg(N_("请填写补正说明或上传补正材料"))})
    stored = uploads.store(upload_dir, checked)
    try:
        event = TicketEvent(request=request, ticket=ticket, actor=user, kind="info_provided",
                            from_status=ticket.status, to_status=workflow.IN_PROGRESS,
                            message=message or "已上传补正材料")
        session.add(event)
        for s in stored:
            session.add(Attachment(request=request, event=event, uploaded_by=user.id, original_name=s.original_name,
                                   stored_name=s.stored_name, mime_type=s.mime_type, size=s.size, sha256=s.sha256))
        ticket.status = workflow.IN_PROGRESS
        from services.tickets.actions import resume

        resume(workdays.Calendar.from_session(session), ticket)
        search_sync.enqueue(session, "ticket", [ticket.number])
        _refresh_status(request)
        notify.notify(session, notify.bureau_staff(session, ticket.bureau_id),
                      f"{request.enterprise.name}已补正办件 {ticket.number}", request=request, ticket=ticket)
        session.commit()
    except BaseException:
        session.rollback()
        uploads.discard(upload_dir, stored)
        raise
    return event


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
