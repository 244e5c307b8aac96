"""Open311 GeoReport v2 endpoints (http://wiki.open311.org/GeoReport_v2), JSON and XML.

Every endpoint ends in `.json` or `.xml`; any other extension answers 404 with a JSON error.
Errors are the spec's list: `[{"code": 400, "description": "…"}]` or
`<errors><error><code>400</code><description>…</description></error></errors>`, with that
HTTP status and descriptions in the request's language: Chinese, or English for `?lang=en`, a
`lang=en` cookie or `Accept-Language: en` (portal.i18n). Every error under /open311/ comes in
that form — a service's refusal, an unknown path (404), a wrong method (405), a body too large
(413), the database away (503) — from the app's error handlers (portal/errors.py,
portal/open311/errors.py), in XML when the URL ends in `.xml`. Catalog texts and `status_notes`
stay Chinese.

Endpoints (under /open311/v2):
- `GET discovery` — public.
- `GET services` — public: every public service that can be applied for online.
- `GET services/<service_code>` — public: the service definition (its request fields);
  an unknown, withdrawn or offline-only code → 404.
- `POST requests` — form-encoded, `api_key` of an **enterprise** account required. Creates the
  request synchronously through `services.requests.submission.submit`, so the answer carries the
  `service_request_id` (our request number) and never a token. Answers 201 (200 when an
  optional, non-standard `idempotency_key` repeats an earlier submission).
- `GET requests` / `GET requests/<service_request_id>` — `api_key` of any active account
  required; an account sees exactly the requests its request pages would show it (an
  enterprise its own; bureau staff those with a ticket at their bureau; supervisors and
  admins all). Someone else's number → 404, as if it did not exist.
- `GET tokens/<token>` — public; since no token is ever handed out, always 404 "unknown token".

Authentication: the spec's `api_key` parameter (query string or form field) holds one of the
portal's API tokens (issued on the account page or by `flask user token`). As GeoReport v2 says
("403 - Invalid api_key"), a missing, unknown, revoked or inactive-account key answers **403**,
and so does a valid key whose account may not do this (a staff key on POST); each carries an
Open311 error whose description names `api_key`.

Status mapping: GeoReport v2 knows only `open` and `closed`. A request is `closed` when every
one of its tickets is in `services.tickets.workflow.CLOSED` (办结, 不予受理, 撤回), otherwise `open`;
`status_notes` carries the Chinese label of the request's status (and each bureau's status
when several bureaus handle it). Validation problems (our 422) answer 400, one error per
field; the field is named as the Open311 parameter (`attribute[capacity]`, `service_code`,
`phone`, …). Location (`lat`, `long`, `address_string`, …) is accepted and ignored: these
services have no location.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import wraps
from typing import Any, Callable

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from portal.access import ACCESS_ATTR, ENTERPRISE, public
from portal.extensions import db
from portal.open311 import bp
from portal.open311.formats import FORMATS, errors, respond
from services import policy
from services.accounts import users as accounts
from services.catalog import directory
from services.core.clock import BEIJING
from services.core.errors import ServiceError
from services.models import Request, Service, ServiceField
from services.requests import fields as request_fields
from services.requests import reading
from services.requests import submission as reqsvc
from services.requests.listing import Filters, visible_requests
from services.tickets import workflow

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The date this facade's contract last changed (discovery `changeset` of the endpoint).
FACADE_CHANGESET = datetime(2025, 1, 1, tzinfo=timezone.utc)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000

ATTRIBUTE_RE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
DATATYPE_HINTS = {
    "string": f"文字，不超过 {request_fields.MAX_STRING} 字",
    "text": f"文字，不超过 {request_fields.MAX_DESCRIPTION} 字",
    "number": "数字，如 30 或 2.5",
    "datetime": "日期或日期时间（ISO 8601），如 2026-12-01 或 2026-12-01T09:30",
    "singlevaluelist": "从 values 中选一项，传其 key",
    "multivaluelist": "从 values 中选一项或多项，传其 key；多项时重复 attribute[code][]=key",
}


# --------------------------------------------------------------------------- plumbing
def _local_tz():
    return BEIJING


def _iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 with the county's offset."""
    if value is None:
        return None
    return value.astimezone(_local_tz()).isoformat(timespec="seconds")


def _unknown_format(fmt: str):
    """Unknown extension → 404 (in JSON, the one format every client reads)."""
    return errors("json", 404, _("不支持的格式：.%(fmt)s（请使用 .json 或 .xml）", fmt=fmt[:20]))


def _known_format(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, fmt: str, **kwargs):
        if fmt not in FORMATS:
            return _unknown_format(fmt)
        return view(*args, fmt=fmt, **kwargs)

    return wrapper


def api_key_required(roles: tuple[str, ...] | None = None) -> Callable:
    """The spec's `api_key` (query string or form field) → `g.open311_user`; 403 without a valid
    key (GeoReport v2: "403 - Invalid api_key") and for an account of another role."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, fmt: str, **kwargs):
            if fmt not in FORMATS:  # before the key: a wrong URL is a 404 for everyone
                return _unknown_format(fmt)
            key = (request.values.get("api_key") or "").strip()
            if not key:
                return errors(fmt, 403, _("缺少 api_key：请在账号页面申请 API 令牌，并以 api_key 参数提交"))
            user = accounts.user_for_token(db.session, key)
            if user is None:
                return errors(fmt, 403, _("api_key 无效、已作废或其账号已停用"))
            if roles and user.role not in roles:
                return errors(fmt, 403, _("该 api_key 所属账号不能进行此操作（提交申请仅限企业账号）"))
            g.open311_user = user
            return view(*args, fmt=fmt, **kwargs)

        setattr(wrapper, ACCESS_ATTR, "token:" + ",".join(roles or ("any",)) + " (api_key)")
        return wrapper

    return decorate


class BadParameter(ServiceError):
    """A query parameter of GET requests that cannot be used: 400 (portal/open311/errors.py)."""

    status = 400
    code = "bad_parameter"


# --------------------------------------------------------------------------- discovery
@bp.get("/discovery.<fmt>")
@public
@_known_format
def discovery(fmt: str):
    services = directory.all_public_services(db.session)
    stamps = [FACADE_CHANGESET] + [s.updated_at for s in services if s.updated_at]
    changeset = _iso(max(stamps))
    bureaus = [b.bureau for b in directory.bureaus_with_counts(db.session)]
    office = next((b for b in bureaus if b.joint_office), None)
    contact = ""
    if office is not None:
        contact = f"{office.name}，电话 {office.phone}" if office.phone else office.name
    base = url_for("open311.discovery", fmt="json", _external=True).rsplit("/", 1)[0]
    data = {
        "changeset": changeset,
        "contact": contact,
        "key_service": ("api_key 即企业账号的 API 令牌：登录后在“账号设置—API 令牌”申请 "
                        + url_for("account.profile", _anchor="tokens", _external=True)),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base,
            "changeset": changeset,
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
    return respond(fmt, "discovery", data)


# --------------------------------------------------------------------------- services
def _online_services() -> list[Service]:
    return [s for s in directory.all_public_services(db.session) if s.online]


def _service_json(s: Service) -> dict[str, Any]:
    return {
        "service_code": s.code,
        "service_name": s.name,
        "description": s.summary,
        "metadata": bool(s.fields),
        "type": "batch",
        "keywords": ",".join(s.keywords or []),
        "group": s.category.name,
    }


@bp.get("/services.<fmt>")
@public
@_known_format
def service_list(fmt: str):
    return respond(fmt, "services", [_service_json(s) for s in _online_services()])


def _attribute_json(f: ServiceField, order: int) -> dict[str, Any]:
    hint = DATATYPE_HINTS.get(f.datatype, "")
    if f.description:
        hint = f"{f.description}（{hint}）" if hint else f.description
    return {
        "variable": True,
        "code": f.code,
        "datatype": f.datatype,
        "required": bool(f.required),
        "datatype_description": hint,
        "order": order,
        "description": f.label,
        "values": [{"key": v["key"], "name": v["name"]} for v in (f.values or [])]
        if f.datatype in ServiceField.LIST_DATATYPES else [],
    }


@bp.get("/services/<service_code>.<fmt>")
@public
@_known_format
def service_definition(service_code: str, fmt: str):
    try:
        service = directory.get_service(db.session, service_code)
    except directory.NotFound:
        service = None
    if service is None or not service.online:
        return errors(fmt, 404, _("没有可在线申请的服务：%(code)s", code=service_code))
    data = {"service_code": service.code,
            "attributes": [_attribute_json(f, n) for n, f in enumerate(service.fields, 1)]}
    return respond(fmt, "service_definition", data)


# --------------------------------------------------------------------------- requests: submit
def _attributes(form: MultiDict) -> dict[str, Any]:
    """`attribute[code]=v` (repeatable) and `attribute[code][]=v` → {code: value or [values]}."""
    found: dict[str, list[str]] = {}
    as_list: set[str] = set()
    for key in form:
        match = ATTRIBUTE_RE.match(key)
        if not match:
            continue
        code = match.group(1).strip()
        found.setdefault(code, []).extend(v.strip() for v in form.getlist(key))
        if match.group(2):
            as_list.add(code)
    result: dict[str, Any] = {}
    for code, values in found.items():
        values = [v for v in values if v]
        if code in as_list or len(values) > 1:
            result[code] = values
        else:
            result[code] = values[0] if values else None
    return result


def _service_notice(req: Request) -> str:
    parts = []
    for t in req.tickets:
        days = [i.service.time_limit_days for i in t.items if i.service and i.service.time_limit_days]
        if days:
            parts.append(f"由{t.bureau.name}受理，承诺 {max(days)} 个工作日内办结")
        else:
            parts.append(f"由{t.bureau.name}受理")
    return "；".join(parts)


@bp.post("/requests.<fmt>")
@api_key_required(ENTERPRISE)
def create_request(fmt: str):
    form = request.form
    service_code = (form.get("service_code") or "").strip()
    if not service_code:
        return errors(fmt, 400, _("service_code：请指定要申请的服务编码"))
    name = ((form.get("last_name") or "").strip() + (form.get("first_name") or "").strip())
    sub = reqsvc.Submission(
        services=[service_code], attributes={service_code: _attributes(form)},
        description=form.get("description") or "", contact_name=name,
        contact_mobile=(form.get("phone") or "").strip(), contact_email=(form.get("email") or "").strip(),
        idempotency_key=(form.get("idempotency_key") or "").strip())
    req, created = reqsvc.submit(db.session, g.open311_user, sub, current_app.config["UPLOAD_DIR"])
    body = [{"service_request_id": req.number, "service_notice": _service_notice(req), "account_id": None}]
    return respond(fmt, "service_requests", body, 201 if created else 200)


# --------------------------------------------------------------------------- requests: read
def _status(req: Request) -> str:
    statuses = [t.status for t in req.tickets]
    return "closed" if statuses and all(s in workflow.CLOSED for s in statuses) else "open"


def _status_notes(req: Request) -> str:
    statuses = [t.status for t in req.tickets]
    overall = workflow.label(workflow.request_status(statuses))
    if len(req.tickets) > 1:
        each = [f"{t.bureau.short_name or t.bureau.name}：{workflow.label(t.status)}" for t in req.tickets]
        return f"{overall}（{'；'.join(each)}）"
    return overall


def _updated(user, req: Request) -> datetime | None:
    stamps = [req.updated_at, req.created_at] + [e.created_at for e in policy.visible_events(user, req)]
    stamps = [s for s in stamps if s is not None]
    return max(stamps) if stamps else None


def _expected(req: Request) -> str | None:
    """The latest deadline among the tickets, end of that day in the county's time."""
    dues = [t.due_date for t in req.tickets if t.due_date]
    if not dues:
        return None
    return datetime.combine(max(dues), time(23, 59, 59), tzinfo=_local_tz()).isoformat(timespec="seconds")


def _request_json(user, req: Request) -> dict[str, Any]:
    services = [i.service for i in req.items if i.service is not None]
    if services:
        name = services[0].name + (f" 等 {len(services)} 项服务" if len(services) > 1 else "")
    else:
        name = "企业需求（待联席会议办公室分办）"
    return {
        "service_request_id": req.number,
        "status": _status(req),
        "status_notes": _status_notes(req),
        "service_name": name,
        "service_code": services[0].code if services else "",
        "description": req.description,
        "agency_responsible": "、".join(dict.fromkeys(t.bureau.name for t in req.tickets)),
        "service_notice": _service_notice(req),
        "requested_datetime": _iso(req.created_at),
        "updated_datetime": _iso(_updated(user, req)),
        "expected_datetime": _expected(req),
        "address": "",
        "lat": None,
        "long": None,
        "media_url": "",
    }


def _parse_when(name: str, text: str, *, end: bool) -> tuple[datetime | None, bool]:
    """(moment in UTC, date_only). A '+' of an offset that arrived as a space is put back."""
    text = text.strip()
    if not text:
        return None, False
    text = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$", r"\1+\2", text)
    try:  # OverflowError: a time at the very ends of the calendar (0001-01-01, 9999-12-31) in UTC
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=_local_tz())
            return moment.astimezone(timezone.utc), True
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_local_tz())
        return moment.astimezone(timezone.utc), False
    except (ValueError, OverflowError):
        raise BadParameter(_("%(name)s 应为 ISO 8601 时间，如 2026-01-31T08:00:00+08:00", name=name)) from None


def _positive_int(name: str, text: str | None, default: int, maximum: int) -> int:
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise BadParameter(_("%(name)s 应为 1–%(max)s 的整数", name=name, max=maximum)) from None
    if not 1 <= value <= maximum:
        raise BadParameter(_("%(name)s 应为 1–%(max)s 的整数", name=name, max=maximum))
    return value


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _filters(args: MultiDict) -> Filters:
    f = Filters()
    f.numbers = _split(args.get("service_request_id"))
    if len(f.numbers) > MAX_IDS:
        raise BadParameter(_("service_request_id 一次最多 %(n)s 个", n=MAX_IDS))
    f.service_codes = _split(args.get("service_code"))
    f.status = {s.lower() for s in _split(args.get("status"))}
    if f.status - {"open", "closed"}:
        raise BadParameter(_("status 只能是 open 或 closed"))
    f.start, _start_date_only = _parse_when("start_date", args.get("start_date") or "", end=False)
    end, date_only = _parse_when("end_date", args.get("end_date") or "", end=True)
    if date_only:
        f.end_exclusive = end
    else:
        f.end = end
    if f.start and end and (f.start >= end if date_only else f.start > end):
        raise BadParameter(_("start_date 不能晚于 end_date"))
    size = _positive_int("page_size", args.get("page_size"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    page = _positive_int("page", args.get("page"), 1, 1_000_000)
    if f.numbers:
        size, page = MAX_IDS, 1
    f.limit, f.offset = size, (page - 1) * size
    return f


@bp.get("/requests.<fmt>")
@api_key_required()
def request_list(fmt: str):
    filters = _filters(request.args)
    user = g.open311_user
    rows = visible_requests(db.session, user, filters)
    return respond(fmt, "service_requests", [_request_json(user, r) for r in rows])


@bp.get("/requests/<service_request_id>.<fmt>")
@api_key_required()
def request_detail(service_request_id: str, fmt: str):
    user = g.open311_user
    req = reading.get_request(db.session, user, service_request_id)
    return respond(fmt, "service_requests", [_request_json(user, req)])


# --------------------------------------------------------------------------- tokens
@bp.get("/tokens/<token>.<fmt>")
@public
@_known_format
def token_lookup(token: str, fmt: str):
    """The spec's token → service_request_id lookup. Requests are created synchronously and
    POST answers with the service_request_id itself, so no token is ever issued: every token
    is unknown."""
    return errors(fmt, 404, _("未知的 token：%(token)s。本平台提交即受理，"
                              "POST 直接返回 service_request_id，不签发 token", token=token[:64]))
