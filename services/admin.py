"""The admin console's domain logic: the audit trail, the overview, bureaus, the seven
categories, staff accounts and the holiday calendar.

Services and bundles live in `services.catalog.admin`, routing rules and the rule tester in
`services.requests.routing_admin`. Every change made here writes an AuditLog row (who, what, which
record, the values before and after) in the same transaction as the change itself; functions
that build on another module which commits (accounts.create_user, workdays.set_override) add
the audit row to the session first so that module's commit carries both, and roll back if it
refuses.

No Flask imports: the pages call these functions, and a CLI or API could call the same ones.
Labels are Chinese msgids marked with N_ (or `pgettext` where the English depends on the place);
messages are `Text`: the Chinese text as a str that also keeps its msgid and values, so the web
layer can show it in the page language (portal.texts). Nothing stored changes with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services import outbox as search_sync
from services.accounts import users as accounts
from services.catalog import records as catalog
from services.catalog.records import CatalogError, SearchIndex
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_, Join, Text, pgettext
from services.models import (
    AuditLog,
    Bundle,
    Bureau,
    CannedReply,
    Category,
    CoHandler,
    HolidayOverride,
    RoutingRule,
    Service,
    Ticket,
    User,
)
from services.tickets import workdays

# =========================================================================== texts
AUDIT_CONTEXT = "audit"  # msgctxt of the audit log's entity and action names


# The audit log's names for records and actions: msgctxt "audit" (AUDIT_CONTEXT; the extractor
# needs it spelt out), since the same words are page titles and buttons elsewhere.
ENTITY_LABELS: dict[str, str] = {
    "bureau": pgettext("audit", "单位"),
    "category": pgettext("audit", "服务类别"),
    "service": pgettext("audit", "服务事项"),
    "routing_rule": pgettext("audit", "分办规则"),
    "bundle": pgettext("audit", "一件事套餐"),
    "user": pgettext("audit", "账号"),
    "holiday": pgettext("audit", "节假日调整"),
}
ACTION_LABELS: dict[str, str] = {
    "create": pgettext("audit", "新增"),
    "update": pgettext("audit", "修改"),
    "delete": pgettext("audit", "删除"),
    "publish": pgettext("audit", "发布"),
    "unpublish": pgettext("audit", "下架"),
    "activate": pgettext("audit", "启用"),
    "deactivate": pgettext("audit", "停用"),
    "reset_password": pgettext("audit", "重设密码"),
}
ROLE_LABELS: dict[str, str] = {
    "enterprise": N_("企业"),
    "handler": N_("办件人员"),
    "lead": N_("部门负责人"),
    "supervisor": N_("联席办督办"),
    "admin": N_("管理员"),
}
KEY_LABELS: dict[str, str] = {
    "code": N_("编码"),
    "name": N_("名称"),
    "short_name": N_("简称"),
    "phone": N_("电话"),
    "address": N_("地址"),
    "office_hours": N_("办公时间"),
    "description": N_("说明"),
    "joint_office": N_("联席会议办公室"),
    "name_en": N_("英文名称"),
    "position": N_("排序"),
    "category": N_("服务类别"),
    "bureau": N_("单位"),
    "summary": N_("服务简介"),
    "conditions": N_("受理条件"),
    "materials": N_("申请材料"),
    "process": N_("办理流程"),
    "legal_basis": N_("设定依据"),
    "time_limit_days": N_("承诺时限"),
    "statutory_limit_days": N_("法定时限"),
    "fee": N_("收费标准"),
    "place": N_("办理地点"),
    "hours": N_("办理时间"),
    "contact": N_("咨询电话"),
    "keywords": N_("搜索关键词"),
    "online": N_("可网上申请"),
    "popular": N_("热门服务"),
    "published": N_("已发布"),
    "removed": N_("已移出目录"),
    "fields": N_("申请字段"),
    "username": N_("用户名"),
    "role": N_("角色"),
    "display_name": N_("姓名"),
    "email": N_("电子邮箱"),
    "active": N_("在用"),
    "priority": N_("优先级"),
    "services": N_("服务"),
    "day": N_("日期"),
    "is_workday": N_("上班日"),
    "note": N_("说明"),
}
ENTITY_KEY_LABELS: dict[str, dict[str, str]] = {
    "routing_rule": {"conditions": N_("条件"), "bureau": N_("转至单位"), "active": N_("启用")},
    "bundle": {"services": N_("包含的服务")},
}
# Notes the code writes into audit rows (other notes, such as a rule's name, are data).
NOTE_PASSWORD_RESET = N_("管理员重设了密码")
NOTE_RESTORED = N_("保存后恢复到服务目录")
SYSTEM_NOTES = frozenset({NOTE_PASSWORD_RESET, NOTE_RESTORED})
# services.tickets.workdays.uncovered_message with the year as a value (see uncovered_warning)
UNCOVERED_YEAR = N_("%(year)s 年的法定节假日尚未收录，按周一至周五计算工作日，请管理员在节假日设置中补充。")
TOO_LONG = N_("不能超过 %(max)d 个字")
CHOOSE_ROLE = N_("请选择角色：办件人员、部门负责人、联席办督办或管理员")
BUREAU_LIMITS = {
    "name": 100,
    "short_name": 50,
    "phone": 50,
    "address": 200,
    "office_hours": 200,
    "description": 5000,
}
CATEGORY_LIMITS = {"name": 50, "name_en": 80, "description": 2000}


# =========================================================================== audit trail
def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    keys += [k for k in before if k not in after]
    return ({k: before.get(k) for k in keys}, {k: after.get(k) for k in keys})


def audit(
    session: Session,
    actor: User | None,
    action: str,
    entity: str,
    key: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditLog:
    """Add an audit row to the session (the caller commits it with the change).

    For updates pass both `before` and `after`: only the keys that changed are kept.
    """
    detail: dict[str, Any] = {}
    if before is not None and after is not None:
        before, after = changes(before, after)
    if before is not None:
        detail["before"] = _jsonable(before)
    if after is not None:
        detail["after"] = _jsonable(after)
    if note:
        detail["note"] = note
    row = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity=entity,
        entity_key=str(key)[:100],
        detail=detail,
    )
    session.add(row)
    return row


def search_changed(session: Session, codes) -> list[str]:
    """Record in this transaction that these services' search documents changed (the search
    outbox: the web worker applies it after the request, or `search sync` does)."""
    codes = sorted(set(codes))
    search_sync.enqueue(session, "service", codes)
    return codes


def sync_now(session: Session, index: SearchIndex | None, codes) -> None:
    """For callers outside a web worker (CLI, scripts): bring their index in line at once."""
    if index is not None and codes:
        catalog.sync_index(session, index, changed_codes=codes)


def commit(session: Session) -> None:
    """Commit, or roll back and re-raise."""
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


def _fmt(value: Any) -> str:
    if value is None or value == "" or value == []:
        return Text(N_("（空）"))
    if isinstance(value, bool):
        return Text(N_("是")) if value else Text(N_("否"))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return Join(N_("、"), value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _label(labels: dict[str, str], key: str, context: str | None = None) -> str:
    """The label of `key` as a Text to translate, or the key itself when it has none."""
    if key not in labels:
        return key
    return Text.in_context(context, labels[key]) if context else Text(labels[key])


@dataclass
class AuditChange:
    key: str
    before: str
    after: str
    label: str = ""


@dataclass
class AuditEntry:
    row: AuditLog
    entity_label: str
    action_label: str
    changes: list[AuditChange]
    note: str


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    entity: str | None


def list_audit(
    session: Session, entity: str | None = None, key: str | None = None, page: int = 1, per_page: int = 50
) -> AuditPage:
    """Audit rows, newest first, optionally of one kind of record (and one record key)."""
    entity = entity if entity in ENTITY_LABELS else None
    stmt = select(AuditLog)
    count = select(func.count(AuditLog.id))
    if entity:
        stmt, count = stmt.where(AuditLog.entity == entity), count.where(AuditLog.entity == entity)
    if key:
        stmt, count = stmt.where(AuditLog.entity_key == key), count.where(AuditLog.entity_key == key)
    total = session.scalar(count) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(
        stmt.options(selectinload(AuditLog.actor))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    entries = []
    for row in rows:
        detail = row.detail or {}
        before, after = detail.get("before") or {}, detail.get("after") or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        note = str(detail.get("note") or "")
        key_labels = {**KEY_LABELS, **ENTITY_KEY_LABELS.get(row.entity, {})}
        entries.append(
            AuditEntry(
                row,
                _label(ENTITY_LABELS, row.entity, AUDIT_CONTEXT),
                _label(ACTION_LABELS, row.action, AUDIT_CONTEXT),
                [
                    AuditChange(
                        k,
                        _fmt(before.get(k)) if "before" in detail else "",
                        _fmt(after.get(k)) if "after" in detail else "",
                        _label(key_labels, k),
                    )
                    for k in keys
                ],
                Text(note) if note in SYSTEM_NOTES else note,
            )
        )
    return AuditPage(entries, total, page, pages, entity)


# =========================================================================== overview
def uncovered_warning(year: int) -> str:
    """workdays.uncovered_message(year) as a Text (or as it is, should the two ever differ)."""
    text = Text(UNCOVERED_YEAR, year=year)
    message = workdays.uncovered_message(year)
    return text if text == message else message


@dataclass
class Overview:
    bureaus: int
    categories: int
    services_published: int
    services_unpublished: int
    services_removed: int
    rules_active: int
    rules_total: int
    rules_flagged: int
    bundles: int
    bundles_published: int
    users_by_role: dict[str, int]
    users_inactive: int
    overrides_this_year: int
    calendar_warnings: list[str]
    recent: list[AuditEntry]


def overview(session: Session, today: date | None = None) -> Overview:
    from services.requests import routing_admin as admin_routing

    today = today or date.today()
    svc = session.execute(
        select(Service.published, Service.removed_at.is_(None), func.count(Service.id)).group_by(
            Service.published, Service.removed_at.is_(None)
        )
    ).all()
    published = sum(n for pub, live, n in svc if pub and live)
    unpublished = sum(n for pub, live, n in svc if not pub and live)
    removed = sum(n for _pub, live, n in svc if not live)
    rules = admin_routing.list_rules(session)
    roles = dict(session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    covered = workdays.covered_years()
    warnings = [
        uncovered_warning(y)
        for y in (today.year, today.year + 1)
        if y not in covered and not workdays.list_overrides(session, y)
    ]
    return Overview(
        bureaus=session.scalar(select(func.count(Bureau.id))) or 0,
        categories=session.scalar(select(func.count(Category.id))) or 0,
        services_published=published,
        services_unpublished=unpublished,
        services_removed=removed,
        rules_active=sum(1 for r in rules if r.rule.active),
        rules_total=len(rules),
        rules_flagged=sum(1 for r in rules if r.check.warnings),
        bundles=session.scalar(select(func.count(Bundle.id))) or 0,
        bundles_published=session.scalar(select(func.count(Bundle.id)).where(Bundle.published.is_(True)))
        or 0,
        users_by_role={r: roles.get(r, 0) for r in User.ROLES},
        users_inactive=session.scalar(select(func.count(User.id)).where(User.active.is_(False))) or 0,
        overrides_this_year=len(workdays.list_overrides(session, today.year)),
        calendar_warnings=warnings,
        recent=list_audit(session, per_page=8).entries,
    )


# =========================================================================== bureaus
@dataclass
class BureauInput:
    code: str = ""
    name: str = ""
    short_name: str = ""
    phone: str = ""
    address: str = ""
    office_hours: str = ""
    description: str = ""
    joint_office: bool = False


@dataclass
class BureauRow:
    bureau: Bureau
    services: int
    public_services: int
    tickets: int
    users: int


def list_bureaus(session: Session) -> list[BureauRow]:
    def counts(stmt) -> dict[int, int]:
        return dict(session.execute(stmt).all())

    services = counts(select(Service.bureau_id, func.count(Service.id)).group_by(Service.bureau_id))
    public = counts(
        select(Service.bureau_id, func.count(Service.id))
        .where(Service.published.is_(True), Service.removed_at.is_(None))
        .group_by(Service.bureau_id)
    )
    tickets = counts(select(Ticket.bureau_id, func.count(Ticket.id)).group_by(Ticket.bureau_id))
    users = counts(
        select(User.bureau_id, func.count(User.id))
        .where(User.bureau_id.is_not(None))
        .group_by(User.bureau_id)
    )
    bureaus = session.scalars(
        select(Bureau).order_by(Bureau.joint_office.desc(), Bureau.position, Bureau.code)
    )
    return [
        BureauRow(b, services.get(b.id, 0), public.get(b.id, 0), tickets.get(b.id, 0), users.get(b.id, 0))
        for b in bureaus
    ]


def get_bureau(session: Session, code: str) -> Bureau:
    bureau = session.scalar(select(Bureau).where(Bureau.code == code))
    if bureau is None:
        raise NotFound(Text(N_("没有单位 %(code)s"), code=code))
    return bureau


def _check_bureau(session: Session, data: BureauInput, existing: Bureau | None) -> dict[str, Any]:
    """Validate through the catalog's bureau rules, plus lengths and unique names."""
    raw = {
        "code": existing.code if existing else data.code,
        "name": data.name,
        "short_name": data.short_name,
        "phone": data.phone,
        "address": data.address,
        "office_hours": data.office_hours,
        "description": data.description,
        "joint_office": bool(data.joint_office),
    }
    fields: dict[str, str] = {}
    rec: dict[str, Any] = {}
    try:
        rec = catalog.validate_catalog(session, {"bureaus": [raw], "services": []}).bureaus[0]
    except CatalogError as exc:
        for p in exc.problems:
            fields.setdefault(p.field or "code", p.message)
    for key, limit in BUREAU_LIMITS.items():
        if len(str(raw.get(key) or "").strip()) > limit:
            fields.setdefault(key, Text(TOO_LONG, max=limit))
    if (
        existing is None
        and "code" not in fields
        and session.scalar(select(Bureau.id).where(Bureau.code == raw["code"]))
    ):
        fields["code"] = Text(N_("单位编码 %(code)s 已存在"), code=raw["code"])
    others = select(Bureau).where(Bureau.id != existing.id) if existing else select(Bureau)
    for other in session.scalars(others):
        for key in ("name", "short_name"):
            value = str(raw[key] or "").strip()
            if value and value in (other.name, other.short_name) and key not in fields:
                fields[key] = Text(N_("与单位“%(name)s”（%(code)s）的名称重复"), name=other.name, code=other.code)
    if (
        existing is not None
        and existing.joint_office
        and not raw["joint_office"]
        and "joint_office" not in fields
    ):
        if not session.scalar(
            select(func.count(Bureau.id)).where(Bureau.joint_office.is_(True), Bureau.id != existing.id)
        ):
            fields["joint_office"] = Text(N_("至少需要保留一个联席会议办公室（未指定服务的需求都由它分办）"))
    if fields:
        raise ValidationFailed(fields)
    rec.pop("position", None)
    return rec


def create_bureau(session: Session, actor: User, data: BureauInput) -> Bureau:
    rec = _check_bureau(session, data, None)
    position = (session.scalar(select(func.max(Bureau.position))) or 0) + 1
    bureau = Bureau(**rec, position=position)
    session.add(bureau)
    audit(session, actor, "create", "bureau", rec["code"], after=catalog.bureau_record(bureau))
    commit(session)
    return bureau


def update_bureau(
    session: Session, actor: User, code: str, data: BureauInput, *, index: SearchIndex | None = None
) -> Bureau:
    """Change a bureau (its code never changes); the search index follows name changes."""
    bureau = get_bureau(session, code)
    rec = _check_bureau(session, data, bureau)
    before = catalog.bureau_record(bureau)
    for key, value in rec.items():
        if key != "code":
            setattr(bureau, key, value)
    after = catalog.bureau_record(bureau)
    if before == after:
        return bureau
    audit(session, actor, "update", "bureau", code, before=before, after=after)
    codes: list[str] = []
    if (before["name"], before["short_name"]) != (after["name"], after["short_name"]):
        codes = search_changed(
            session, session.scalars(select(Service.code).where(Service.bureau_id == bureau.id))
        )
    commit(session)
    sync_now(session, index, codes)
    return bureau


@dataclass
class BureauReferences:
    services: list[str] = field(default_factory=list)
    tickets: int = 0
    users: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    co_handling: int = 0
    canned_replies: int = 0

    @property
    def any(self) -> bool:
        return bool(
            self.services
            or self.tickets
            or self.users
            or self.rules
            or self.co_handling
            or self.canned_replies
        )


def bureau_references(session: Session, bureau: Bureau) -> BureauReferences:
    return BureauReferences(
        services=list(
            session.scalars(select(Service.code).where(Service.bureau_id == bureau.id).order_by(Service.code))
        ),
        tickets=session.scalar(select(func.count(Ticket.id)).where(Ticket.bureau_id == bureau.id)) or 0,
        users=list(
            session.scalars(select(User.username).where(User.bureau_id == bureau.id).order_by(User.username))
        ),
        rules=list(session.scalars(select(RoutingRule.name).where(RoutingRule.bureau_id == bureau.id))),
        co_handling=session.scalar(select(func.count(CoHandler.id)).where(CoHandler.bureau_id == bureau.id))
        or 0,
        canned_replies=session.scalar(
            select(func.count(CannedReply.id)).where(CannedReply.bureau_id == bureau.id)
        )
        or 0,
    )


def delete_bureau(session: Session, actor: User, code: str) -> None:
    """Delete a bureau nothing refers to; otherwise Conflict saying what still refers to it."""
    bureau = get_bureau(session, code)
    refs = bureau_references(session, bureau)
    reasons = []
    if refs.services or refs.tickets:
        parts: list[str] = []
        if refs.services:
            codes = refs.services[:5]
            shown = Text(N_("%(codes)s等"), codes=codes) if len(refs.services) > 5 else codes
            parts.append(Text(N_("%(n)s 项服务（%(codes)s）"), n=len(refs.services), codes=shown))
        if refs.tickets:
            parts.append(Text(N_("%(n)s 件办件"), n=refs.tickets))
        things = Join(N_("和"), parts)
        reasons.append(
            Text(N_("仍有%(things)s属于该单位，请先下架或改派相关服务；已有办件的单位须保留，以便追溯办理记录"),
                 things=things)
            if refs.tickets
            else Text(N_("仍有%(things)s属于该单位，请先下架或改派相关服务"), things=things)
        )
    if refs.users:
        reasons.append(
            Text(N_("仍有 %(n)s 个账号属于该单位（%(names)s），请先调整其所属单位"),
                 n=len(refs.users), names=refs.users[:5])
        )
    if refs.rules:
        reasons.append(
            Text(N_("分办规则“%(names)s”转至该单位，请先修改或删除这些规则"), names=Join(N_("”“"), refs.rules[:3]))
        )
    if refs.co_handling:
        reasons.append(Text(N_("该单位参与了 %(n)s 件协办"), n=refs.co_handling))
    if refs.canned_replies:
        reasons.append(Text(N_("该单位有 %(n)s 条常用答复"), n=refs.canned_replies))
    if bureau.joint_office and not session.scalar(
        select(func.count(Bureau.id)).where(Bureau.joint_office.is_(True), Bureau.id != bureau.id)
    ):
        reasons.append(Text(N_("这是唯一的联席会议办公室，未指定服务的需求都由它分办")))
    if reasons:
        raise Conflict(Text(N_("不能删除“%(name)s”：%(reasons)s。"), name=bureau.name, reasons=Join(N_("；"), reasons)))
    audit(session, actor, "delete", "bureau", code, before=catalog.bureau_record(bureau))
    session.delete(bureau)
    commit(session)


# =========================================================================== categories
@dataclass
class CategoryInput:
    name: str = ""
    name_en: str = ""
    description: str = ""
    position: str | int = ""


def _category_record(c: Category) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "name_en": c.name_en,
        "description": c.description,
        "position": c.position,
    }


def list_categories(session: Session) -> list[tuple[Category, int]]:
    counts = dict(
        session.execute(
            select(Service.category_id, func.count(Service.id))
            .where(Service.removed_at.is_(None))
            .group_by(Service.category_id)
        ).all()
    )
    return [(c, counts.get(c.id, 0)) for c in session.scalars(select(Category).order_by(Category.position))]


def get_category(session: Session, code: str) -> Category:
    category = session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise NotFound(Text(N_("没有服务类别 %(code)s"), code=code))
    return category


def update_category(
    session: Session, actor: User, code: str, data: CategoryInput, *, index: SearchIndex | None = None
) -> Category:
    """Change a category's names, description and display order (the seven codes are fixed)."""
    category = get_category(session, code)
    fields: dict[str, str] = {}
    name = (data.name or "").strip()
    name_en = (data.name_en or "").strip()
    description = (data.description or "").strip()
    if not name:
        fields["name"] = Text(N_("请填写类别名称"))
    for key, value in (("name", name), ("name_en", name_en), ("description", description)):
        if len(value) > CATEGORY_LIMITS[key]:
            fields.setdefault(key, Text(TOO_LONG, max=CATEGORY_LIMITS[key]))
    if name and session.scalar(select(Category.id).where(Category.name == name, Category.id != category.id)):
        fields["name"] = Text(N_("已有名为“%(name)s”的类别"), name=name)
    position = catalog.parse_int(data.position)
    if position is None or not 1 <= position <= 99:
        fields["position"] = Text(N_("排序应为 1 到 99 的整数"))
    if fields:
        raise ValidationFailed(fields)
    before = _category_record(category)
    category.name, category.name_en, category.description, category.position = (
        name,
        name_en,
        description,
        position,
    )
    after = _category_record(category)
    if before == after:
        return category
    audit(session, actor, "update", "category", code, before=before, after=after)
    codes: list[str] = []
    if before["name"] != after["name"]:
        codes = search_changed(
            session, session.scalars(select(Service.code).where(Service.category_id == category.id))
        )
    commit(session)
    sync_now(session, index, codes)
    return category


# =========================================================================== staff accounts
STAFF_ROLES = User.STAFF_ROLES


@dataclass
class StaffInput:
    username: str = ""
    role: str = ""
    bureau: str = ""
    display_name: str = ""
    email: str = ""
    password: str = ""


@dataclass
class StaffChange:
    role: str = ""
    bureau: str = ""
    display_name: str = ""
    email: str = ""


def _user_record(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "bureau": user.bureau.code if user.bureau else "",
        "display_name": user.display_name,
        "email": user.email,
        "active": user.active,
    }


def list_users(
    session: Session,
    role: str | None = None,
    bureau: str | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[User]:
    stmt = (
        select(User)
        .options(selectinload(User.bureau), selectinload(User.enterprise))
        .order_by(User.role, User.username)
    )
    if role:
        if role not in User.ROLES:
            raise ValidationFailed({"role": Text(N_("未知的角色"))})
        stmt = stmt.where(User.role == role)
    if bureau:
        stmt = stmt.where(User.bureau_id == get_bureau(session, bureau).id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(User.username.ilike(like) | User.display_name.ilike(like) | User.email.ilike(like))
    return list(session.scalars(stmt))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Text(N_("没有这个账号")))
    return user


def create_staff(session: Session, actor: User, data: StaffInput) -> User:
    """A staff account (办件人员, 部门负责人, 联席办督办 or 管理员) with the same checks as `user create`."""
    if data.role not in STAFF_ROLES:
        raise ValidationFailed({"role": Text(CHOOSE_ROLE)})
    username = (data.username or "").strip()
    bureau = (data.bureau or "").strip()
    if data.role == "supervisor" and not bureau:
        bureau = (
            session.scalar(
                select(Bureau.code).where(Bureau.joint_office.is_(True)).order_by(Bureau.id).limit(1)
            )
            or ""
        )
    audit(
        session,
        actor,
        "create",
        "user",
        username,
        after={
            "username": username,
            "role": data.role,
            "bureau": bureau,
            "display_name": (data.display_name or "").strip() or username,
            "email": (data.email or "").strip(),
        },
    )
    try:
        return accounts.create_user(
            session,
            username,
            data.role,
            data.password or "",
            bureau=bureau or None,
            email=data.email or None,
            display_name=(data.display_name or "").strip() or None,
        )
    except Exception:
        session.rollback()
        raise


def _active_admins(session: Session, exclude: User | None = None) -> int:
    stmt = select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    if exclude is not None:
        stmt = stmt.where(User.id != exclude.id)
    return session.scalar(stmt) or 0


def update_staff(session: Session, actor: User, user_id: int, data: StaffChange) -> User:
    """Change a staff account's role, bureau, name and e-mail."""
    user = get_user(session, user_id)
    if user.role == "enterprise":
        raise Conflict(Text(N_("企业账号随企业注册产生，角色和单位不能在此修改")))
    fields: dict[str, str] = {}
    role = data.role
    if role not in STAFF_ROLES:
        fields["role"] = Text(CHOOSE_ROLE)
    bureau = None
    if data.bureau:
        bureau = session.scalar(select(Bureau).where(Bureau.code == data.bureau))
        if bureau is None:
            fields["bureau"] = Text(N_("未知的单位编码 %(code)s"), code=data.bureau)
    elif role in ("handler", "lead"):
        fields["bureau"] = Text(N_("办件人员和部门负责人必须指定所属单位"))
    if role == "supervisor" and bureau is None and "bureau" not in fields:
        bureau = session.scalar(
            select(Bureau).where(Bureau.joint_office.is_(True)).order_by(Bureau.id).limit(1)
        )
    if user.role == "admin" and role != "admin" and "role" not in fields:
        if user.id == actor.id:
            fields["role"] = Text(N_("不能取消自己的管理员角色，请让另一位管理员操作"))
        elif user.active and not _active_admins(session, exclude=user):
            fields["role"] = Text(N_("这是唯一在用的管理员账号，不能改为其他角色"))
    display_name = (data.display_name or "").strip()
    if len(display_name) > 100:
        fields["display_name"] = Text(TOO_LONG, max=100)
    email = accounts.normalise_email(data.email or "", fields, required=False)
    if fields:
        raise ValidationFailed(fields)
    before = _user_record(user)
    user.role, user.bureau = role, bureau
    user.display_name = display_name or user.username
    user.email = email
    after = _user_record(user)
    if before == after:
        return user
    audit(session, actor, "update", "user", user.username, before=before, after=after)
    commit(session)
    return user


def set_user_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    """Deactivate (cannot log in, API tokens stop working) or reactivate an account."""
    user = get_user(session, user_id)
    if user.active == active:
        return user
    if not active:
        if user.id == actor.id:
            raise Conflict(Text(N_("不能停用自己的账号")))
        if user.role == "admin" and not _active_admins(session, exclude=user):
            raise Conflict(Text(N_("这是唯一在用的管理员账号，不能停用")))
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    audit(
        session,
        actor,
        "activate" if active else "deactivate",
        "user",
        user.username,
        before={"active": not active},
        after={"active": active},
    )
    commit(session)
    return user


def reset_password(session: Session, actor: User, user_id: int, password: str) -> User:
    """The admin sets a new password (same rules as everywhere); the lock is lifted."""
    user = get_user(session, user_id)
    fields: dict[str, str] = {}
    accounts.check_password(password or "", username=user.username, fields=fields)
    if fields:
        raise ValidationFailed(fields)
    user.password_hash = accounts.hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    audit(session, actor, "reset_password", "user", user.username, note=NOTE_PASSWORD_RESET)
    commit(session)
    return user


# =========================================================================== holidays
@dataclass
class HolidayPage:
    year: int
    overrides: list[HolidayOverride]
    covered: range
    year_covered: bool
    warning: str | None
    years: list[int]


def holiday_page(session: Session, year: int | None = None, today: date | None = None) -> HolidayPage:
    today = today or date.today()
    year = year if year and 2000 <= year <= 2100 else today.year
    covered = workdays.covered_years()
    override_years = {d.year for d in session.scalars(select(HolidayOverride.day))}
    years = sorted(override_years | {today.year, today.year + 1, year, covered.stop - 1})
    overrides = workdays.list_overrides(session, year)
    is_covered = year in covered
    return HolidayPage(
        year, overrides, covered, is_covered, None if is_covered else uncovered_warning(year), years
    )


def _override_record(row: HolidayOverride) -> dict[str, Any]:
    return {"day": row.day.isoformat(), "is_workday": row.is_workday, "note": row.note}


def add_holiday(
    session: Session, actor: User, day: date | None, is_workday: bool | None, note: str = ""
) -> HolidayOverride:
    """Mark a day as a holiday or a make-up working day (replaces an earlier override of that day)."""
    fields: dict[str, str] = {}
    if day is None:
        fields["day"] = Text(N_("请填写日期，如 2027-01-01"))
    elif not 2000 <= day.year <= 2100:
        fields["day"] = Text(N_("日期应在 2000 年到 2100 年之间"))
    if is_workday is None:
        fields["is_workday"] = Text(N_("请选择放假或上班"))
    if len((note or "").strip()) > workdays.NOTE_MAX_LENGTH:
        fields["note"] = Text(N_("说明不能超过 %(max)d 个字"), max=workdays.NOTE_MAX_LENGTH)
    if fields:
        raise ValidationFailed(fields)
    assert day is not None
    existing = session.scalar(select(HolidayOverride).where(HolidayOverride.day == day))
    before = _override_record(existing) if existing else None
    after = {"day": day.isoformat(), "is_workday": bool(is_workday), "note": (note or "").strip()}
    if before == after:
        return existing  # type: ignore[return-value]
    audit(
        session,
        actor,
        "update" if before else "create",
        "holiday",
        day.isoformat(),
        before=before,
        after=after,
    )
    try:
        return workdays.set_override(session, day, bool(is_workday), note or "")
    except Exception:
        session.rollback()
        raise


def remove_holiday(session: Session, actor: User, day: date) -> None:
    existing = session.scalar(select(HolidayOverride).where(HolidayOverride.day == day))
    if existing is None:
        raise NotFound(Text(N_("%(day)s 没有调整记录"), day=day.isoformat()))
    audit(session, actor, "delete", "holiday", day.isoformat(), before=_override_record(existing))
    try:
        workdays.delete_override(session, day)
    except Exception:
        session.rollback()
        raise


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def known_bureaus(session: Session) -> list[Bureau]:
    return list(
        session.scalars(select(Bureau).order_by(Bureau.joint_office.desc(), Bureau.position, Bureau.code))
    )


def known_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position)))
