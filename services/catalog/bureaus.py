"""Admin console: bureaus and the seven service categories.

A bureau goes through the catalog's bureau validation (services.catalog.validation), so the form
refuses what `catalog import` refuses, plus lengths and unique names. Deleting a bureau that
anything still refers to is refused with what refers to it. Name changes reach the search index
through the search outbox. Every change writes an AuditLog row in the same transaction
(services.audit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.audit import audit
from services.catalog.indexing import SearchIndex, search_changed, sync_now
from services.catalog.problems import TOO_LONG, CatalogError, parse_int
from services.catalog.records import bureau_record
from services.catalog.validation import validate_catalog
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_, Join, Text
from services.core.transaction import atomic
from services.models import Bureau, CannedReply, Category, CoHandler, RoutingRule, Service, Ticket, User

BUREAU_LIMITS = {
    "name": 100,
    "short_name": 50,
    "phone": 50,
    "address": 200,
    "office_hours": 200,
    "description": 5000,
}
CATEGORY_LIMITS = {"name": 50, "name_en": 80, "description": 2000}


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
        rec = validate_catalog(session, {"bureaus": [raw], "services": []}).bureaus[0]
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
    with atomic(session):
        session.add(bureau)
        audit(session, actor, "create", "bureau", rec["code"], after=bureau_record(bureau))
    return bureau


def update_bureau(
    session: Session, actor: User, code: str, data: BureauInput, *, index: SearchIndex | None = None
) -> Bureau:
    """Change a bureau (its code never changes); the search index follows name changes."""
    bureau = get_bureau(session, code)
    rec = _check_bureau(session, data, bureau)
    before = bureau_record(bureau)
    for key, value in rec.items():
        if key != "code":
            setattr(bureau, key, value)
    after = bureau_record(bureau)
    if before == after:
        return bureau
    codes: list[str] = []
    with atomic(session):
        audit(session, actor, "update", "bureau", code, before=before, after=after)
        if (before["name"], before["short_name"]) != (after["name"], after["short_name"]):
            codes = search_changed(
                session, session.scalars(select(Service.code).where(Service.bureau_id == bureau.id))
            )
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
    with atomic(session):
        audit(session, actor, "delete", "bureau", code, before=bureau_record(bureau))
        session.delete(bureau)


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
    position = parse_int(data.position)
    if position is None or not 1 <= position <= 99:
        fields["position"] = Text(N_("排序应为 1 到 99 的整数"))
    if fields:
        raise ValidationFailed(fields)
    assert position is not None  # a missing position was refused just above
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
    codes: list[str] = []
    with atomic(session):
        audit(session, actor, "update", "category", code, before=before, after=after)
        if before["name"] != after["name"]:
            codes = search_changed(
                session, session.scalars(select(Service.code).where(Service.category_id == category.id))
            )
    sync_now(session, index, codes)
    return category


# =========================================================================== pickers
def known_bureaus(session: Session) -> list[Bureau]:
    return list(
        session.scalars(select(Bureau).order_by(Bureau.joint_office.desc(), Bureau.position, Bureau.code))
    )


def known_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position)))
