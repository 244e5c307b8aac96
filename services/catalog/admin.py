"""Admin console: catalog services (guides and request fields) and 一件事 bundles.

A service is saved through `services.catalog.records.import_catalog` with a one-service document, so
the admin form refuses exactly what a catalog import refuses. Every change that affects search
writes the search outbox in its own transaction, so the index follows at once.
Every change writes an AuditLog row in the same transaction (see services.admin).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from services.admin import (
    KEY_LABELS,
    NOTE_RESTORED,
    TOO_LONG,
    Join,
    Text,
    audit,
    commit,
    search_changed,
    sync_now,
)
from services.catalog import records as catalog
from services.catalog.records import CatalogError, Problem, SearchIndex
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_
from services.models import (
    Bundle,
    BundleService,
    Bureau,
    Category,
    Request,
    RequestItem,
    Service,
    User,
)

DATATYPE_LABELS: dict[str, str] = {
    "string": N_("单行文字（string）"),
    "number": N_("数字（number）"),
    "datetime": N_("日期时间（datetime）"),
    "text": N_("多行文字（text）"),
    "singlevaluelist": N_("单选列表（singlevaluelist）"),
    "multivaluelist": N_("多选列表（multivaluelist）"),
}
STATUS_LABELS: dict[str, str] = {
    "published": N_("已发布"),
    "unpublished": N_("未发布"),
    "removed": N_("已移出目录"),
}
# The service guide's fields in the order of the service form, named as the audit log names them
# (services.admin.KEY_LABELS) except where the form wants the longer name.
GUIDE_LABELS: dict[str, str] = {
    "code": N_("服务编码"), "name": N_("服务名称"),
    **{k: KEY_LABELS[k] for k in ("category",)},
    "bureau": N_("责任单位"),
    **{k: KEY_LABELS[k] for k in ("summary", "conditions", "materials", "process", "legal_basis",
                                  "time_limit_days", "statutory_limit_days", "fee", "place", "hours",
                                  "contact", "keywords", "online", "popular")},
    "published": N_("发布"),
    "fields": KEY_LABELS["fields"],
}


# --------------------------------------------------------------------------- text helpers
def split_lines(text: str | None) -> list[str]:
    """One item per line (blank lines dropped)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def split_words(text: str | None) -> list[str]:
    """Keywords or codes separated by new lines, commas, 、 or semicolons."""
    return [w.strip() for w in re.split(r"[\n\r,，、;；]+", text or "") if w.strip()]


def parse_values(text: str | None) -> list[dict[str, str]]:
    """List-field options, one `key=名称` a line. A line without `=` gives an option without a
    name, which the catalog validation refuses with its own message."""
    out = []
    for line in split_lines(text):
        key, sep, name = line.replace("＝", "=").partition("=")
        out.append({"key": key.strip(), "name": name.strip() if sep else ""})
    return out


def values_text(values: Sequence[dict[str, Any]] | None) -> str:
    return "\n".join(f"{v.get('key', '')}={v.get('name', '')}" for v in values or [])


# =========================================================================== services
@dataclass
class FieldInput:
    code: str = ""
    label: str = ""
    datatype: str = "string"
    required: bool = False
    description: str = ""
    values: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ServiceInput:
    code: str = ""
    name: str = ""
    category: str = ""
    bureau: str = ""
    summary: str = ""
    conditions: str = ""
    materials: list[str] = field(default_factory=list)
    process: list[str] = field(default_factory=list)
    legal_basis: str = ""
    time_limit_days: str | int | None = ""
    statutory_limit_days: str | int | None = ""
    fee: str = ""
    place: str = ""
    hours: str = ""
    contact: str = ""
    keywords: list[str] = field(default_factory=list)
    online: bool = True
    popular: bool = False
    published: bool = True
    fields: list[FieldInput] = field(default_factory=list)


class GuideRejected(ValidationFailed):
    """The guide data failed the catalog validation; `problems` are the catalog's Problems and
    `fields` maps each problem's field (e.g. "materials", "fields[2].code") to its message."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        grouped: dict[str, list[str]] = {}
        for p in self.problems:
            grouped.setdefault(p.field or "", []).append(p.message)
        fields = {key: found[0] if len(found) == 1 else Join(N_("；"), found) for key, found in grouped.items()}
        super().__init__(fields, Text(N_("服务指南有误，未保存，请按提示修改。")))


@dataclass
class SaveResult:
    service: Service
    created: bool
    changed: bool
    restored: bool = False


def _record_of(rec: dict[str, Any]) -> dict[str, Any]:
    """A validated catalog record in the shape of catalog.service_record."""
    out = {
        k: rec.get(k)
        for k in (
            "code",
            "name",
            "category",
            "bureau",
            "summary",
            "conditions",
            "materials",
            "process",
            "legal_basis",
            "time_limit_days",
            "statutory_limit_days",
            "fee",
            "place",
            "hours",
            "contact",
            "keywords",
            "online",
            "popular",
            "published",
        )
    }
    out["fields"] = [
        {k: f[k] for k in ("code", "label", "datatype", "required", "description", "values")}
        for f in rec.get("fields") or []
    ]
    return out


def service_document(data: ServiceInput, code: str, published: bool) -> dict[str, Any]:
    """The one-service catalog document for import_catalog."""
    stat = data.statutory_limit_days
    return {
        "services": [
            {
                "code": code,
                "name": data.name,
                "category": data.category,
                "bureau": data.bureau,
                "summary": data.summary,
                "conditions": data.conditions,
                "materials": list(data.materials),
                "process": list(data.process),
                "legal_basis": data.legal_basis,
                "time_limit_days": data.time_limit_days,
                "statutory_limit_days": None if stat in (None, "") else stat,
                "fee": data.fee,
                "place": data.place,
                "hours": data.hours,
                "contact": data.contact,
                "keywords": list(data.keywords),
                "online": bool(data.online),
                "popular": bool(data.popular),
                "published": bool(published),
                "fields": [asdict(f) for f in data.fields],
            }
        ]
    }


def _category_state(session: Session) -> dict[str, tuple]:
    return {c.code: (c.name, c.name_en, c.description, c.position) for c in session.scalars(select(Category))}


def _keep_category_edits(session: Session, index: SearchIndex | None, saved: dict[str, tuple]) -> None:
    """import_catalog refreshes the seven categories from code (catalog.ensure_categories);
    put back what the admin set on the categories page."""
    changed = []
    for c in session.scalars(select(Category)):
        if c.code in saved and (c.name, c.name_en, c.description, c.position) != saved[c.code]:
            c.name, c.name_en, c.description, c.position = saved[c.code]
            changed.append(c.id)
    if not changed:
        return
    codes = search_changed(
        session, session.scalars(select(Service.code).where(Service.category_id.in_(changed)))
    )
    commit(session)
    sync_now(session, index, codes)


def save_service(
    session: Session,
    actor: User,
    data: ServiceInput,
    *,
    code: str | None = None,
    index: SearchIndex | None = None,
) -> SaveResult:
    """Create a service (`code` None: the code comes from `data`) or change the guide and request
    fields of service `code` (its code and publication state stay). Raises GuideRejected with
    the catalog's problems, NotFound for an unknown `code`.

    The search outbox is written in the same transaction (import_catalog does it); pass `index`
    only outside a web worker, to update that index at once."""
    existing = None
    if code is not None:
        existing = get_service(session, code)
        published = existing.published
    else:
        code = (data.code or "").strip()
        published = bool(data.published)
    doc = service_document(data, code, published)
    problems: list[Problem] = []
    rec: dict[str, Any] | None = None
    try:
        rec = catalog.validate_catalog(session, doc, labels=["本服务"]).services[0]
    except CatalogError as exc:
        problems.extend(exc.problems)
    if existing is None and code and session.scalar(select(Service.id).where(Service.code == code)):
        problems.append(Problem("本服务", "code", Text(N_("服务编码 %(code)s 已被使用，请换一个"), code=code)))
    if problems or rec is None:
        raise GuideRejected(problems)

    after = _record_of(rec)
    before = catalog.service_record(existing) if existing is not None else None
    restored = existing is not None and existing.removed_at is not None
    if before is not None:
        before["removed"], after["removed"] = restored, False
    if existing is not None and before == after:
        return SaveResult(existing, created=False, changed=False)
    if before is None:
        audit(session, actor, "create", "service", code, after=after)
    else:
        audit(
            session,
            actor,
            "update",
            "service",
            code,
            before=before,
            after=after,
            note=NOTE_RESTORED if restored else "",
        )
    saved_categories = _category_state(session)
    try:
        if existing is not None and before is not None and before["fields"] != after["fields"]:
            # import_catalog replaces the request fields by clearing and re-adding them in one
            # flush, which inserts before it deletes and trips UNIQUE(service_id, code) when a
            # code is kept. Remove the old rows first, in this same transaction.
            existing.fields.clear()
            session.flush()
        catalog.import_catalog(session, index, doc, labels=["本服务"])
    except CatalogError as exc:
        session.rollback()
        raise GuideRejected(exc.problems) from None
    except Exception:
        session.rollback()
        raise
    _keep_category_edits(session, index, saved_categories)
    service = get_service(session, code)
    return SaveResult(service, created=existing is None, changed=True, restored=restored)


@dataclass
class ServiceList:
    services: list[Service]
    counts: dict[str, int]


def list_services(
    session: Session,
    *,
    category: str | None = None,
    bureau: str | None = None,
    status: str | None = None,
    q: str | None = None,
) -> ServiceList:
    """Every service, whatever its state, with filters; `q` looks in code, name and summary."""
    stmt = select(Service).options(selectinload(Service.category), selectinload(Service.bureau))
    fields: dict[str, str] = {}
    if category:
        cat_id = session.scalar(select(Category.id).where(Category.code == category))
        if cat_id is None:
            fields["category"] = Text(N_("未知的服务类别 %(code)s"), code=category)
        stmt = stmt.where(Service.category_id == cat_id)
    if bureau:
        bureau_id = session.scalar(select(Bureau.id).where(Bureau.code == bureau))
        if bureau_id is None:
            fields["bureau"] = Text(N_("未知的单位 %(code)s"), code=bureau)
        stmt = stmt.where(Service.bureau_id == bureau_id)
    if status == "published":
        stmt = stmt.where(Service.published.is_(True), Service.removed_at.is_(None))
    elif status == "unpublished":
        stmt = stmt.where(Service.published.is_(False), Service.removed_at.is_(None))
    elif status == "removed":
        stmt = stmt.where(Service.removed_at.is_not(None))
    elif status:
        fields["status"] = Text(N_("未知的状态"))
    if fields:
        raise ValidationFailed(fields)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(Service.code.ilike(like), Service.name.ilike(like), Service.summary.ilike(like))
        )
    services = list(session.scalars(stmt.join(Category).order_by(Category.position, Service.code)))
    rows = session.execute(
        select(Service.published, Service.removed_at.is_(None), func.count(Service.id)).group_by(
            Service.published, Service.removed_at.is_(None)
        )
    ).all()
    counts = {
        "published": sum(n for p, live, n in rows if p and live),
        "unpublished": sum(n for p, live, n in rows if not p and live),
        "removed": sum(n for _p, live, n in rows if not live),
    }
    return ServiceList(services, counts)


def get_service(session: Session, code: str) -> Service:
    """A service in any state, with its request fields."""
    service = session.scalar(
        select(Service)
        .where(Service.code == code)
        .options(selectinload(Service.fields), selectinload(Service.category), selectinload(Service.bureau))
    )
    if service is None:
        raise NotFound(Text(N_("没有服务 %(code)s"), code=code))
    return service


def service_status(service: Service) -> str:
    if service.removed_at is not None:
        return "removed"
    return "published" if service.published else "unpublished"


def set_published(
    session: Session, actor: User, code: str, published: bool, *, index: SearchIndex | None = None
) -> Service:
    """Publish (also bringing a service removed by `catalog import --replace` back) or unpublish;
    the public pages and the search index follow at once."""
    service = get_service(session, code)
    before = {"published": service.published, "removed": service.removed_at is not None}
    service.published = published
    if published:
        service.removed_at = None
    after = {"published": service.published, "removed": service.removed_at is not None}
    if before == after:
        return service
    audit(
        session, actor, "publish" if published else "unpublish", "service", code, before=before, after=after
    )
    search_changed(session, [code])
    commit(session)
    sync_now(session, index, [code])
    return service


@dataclass
class ServiceReferences:
    request_items: int
    bundles: list[str]


def service_references(session: Session, service: Service) -> ServiceReferences:
    items = (
        session.scalar(select(func.count(RequestItem.id)).where(RequestItem.service_id == service.id)) or 0
    )
    bundles = session.scalars(
        select(Bundle.name)
        .join(BundleService)
        .where(BundleService.service_id == service.id)
        .order_by(Bundle.position)
    ).all()
    return ServiceReferences(items, list(bundles))


def delete_service(session: Session, actor: User, code: str, *, index: SearchIndex | None = None) -> None:
    """Delete a service no request ever used; otherwise Conflict (unpublish it instead)."""
    service = get_service(session, code)
    refs = service_references(session, service)
    if refs.request_items:
        raise Conflict(
            Text(N_("“%(name)s”已有办件引用，请改为下架（%(n)s 项申请用到它，删除会破坏办件记录）。"),
                 name=service.name, n=refs.request_items)
        )
    if refs.bundles:
        raise Conflict(
            Text(N_("“%(name)s”属于一件事套餐“%(bundles)s”，请先从套餐中移除后再删除。"),
                 name=service.name, bundles=Join(N_("”“"), refs.bundles))
        )
    audit(session, actor, "delete", "service", code, before=catalog.service_record(service))
    session.delete(service)
    search_changed(session, [code])
    commit(session)
    if index is not None:
        index.delete([code])


# =========================================================================== bundles
BUNDLE_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")
MIN_BUNDLE_SERVICES = 2


@dataclass
class BundleInput:
    code: str = ""
    name: str = ""
    description: str = ""
    published: bool = True
    services: list[str] = field(default_factory=list)


@dataclass
class BundleRow:
    bundle: Bundle
    warnings: list[str]
    requests: int


def bundle_record(bundle: Bundle) -> dict[str, Any]:
    return {
        "code": bundle.code,
        "name": bundle.name,
        "description": bundle.description,
        "published": bundle.published,
        "services": [i.service.code for i in bundle.items],
    }


def bundle_warnings(bundle: Bundle) -> list[str]:
    """Why enterprises could not apply for this bundle as it stands."""
    out = []
    hidden = [i.service.code for i in bundle.items if not i.service.is_public]
    offline = [i.service.code for i in bundle.items if i.service.is_public and not i.service.online]
    if hidden:
        out.append(Text(N_("以下服务未发布或已移出目录，企业无法申请本套餐：%(codes)s"), codes=hidden))
    if offline:
        out.append(Text(N_("以下服务不能网上申请，企业无法申请本套餐：%(codes)s"), codes=offline))
    if len(bundle.items) < MIN_BUNDLE_SERVICES:
        out.append(Text(N_("套餐至少应包含 %(n)s 项服务"), n=MIN_BUNDLE_SERVICES))
    return out


def _bundles_query():
    return select(Bundle).options(selectinload(Bundle.items).selectinload(BundleService.service))


def list_bundles(session: Session) -> list[BundleRow]:
    counts = dict(
        session.execute(
            select(Request.bundle_id, func.count(Request.id))
            .where(Request.bundle_id.is_not(None))
            .group_by(Request.bundle_id)
        ).all()
    )
    return [
        BundleRow(b, bundle_warnings(b), counts.get(b.id, 0))
        for b in session.scalars(_bundles_query().order_by(Bundle.position, Bundle.code))
    ]


def get_bundle(session: Session, code: str) -> Bundle:
    bundle = session.scalar(_bundles_query().where(Bundle.code == code))
    if bundle is None:
        raise NotFound(Text(N_("没有一件事套餐 %(code)s"), code=code))
    return bundle


def save_bundle(session: Session, actor: User, data: BundleInput, *, code: str | None = None) -> Bundle:
    """Create a bundle (`code` None) or change bundle `code` (its code stays)."""
    existing = get_bundle(session, code) if code is not None else None
    fields: dict[str, str] = {}
    new_code = existing.code if existing else (data.code or "").strip()
    if existing is None:
        if not new_code:
            fields["code"] = Text(N_("请填写套餐编码"))
        elif not BUNDLE_CODE_RE.match(new_code):
            fields["code"] = Text(N_("套餐编码 2–32 位，只能含小写字母、数字和连字符"))
        elif session.scalar(select(Bundle.id).where(Bundle.code == new_code)):
            fields["code"] = Text(N_("套餐编码 %(code)s 已被使用"), code=new_code)
    name = (data.name or "").strip()
    description = (data.description or "").strip()
    if not name:
        fields["name"] = Text(N_("请填写套餐名称"))
    elif len(name) > 200:
        fields["name"] = Text(TOO_LONG, max=200)
    if len(description) > 2000:
        fields["description"] = Text(TOO_LONG, max=2000)
    codes = [c.strip() for c in data.services if c and c.strip()]
    services: list[Service] = []
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    found = (
        {s.code: s for s in session.scalars(select(Service).where(Service.code.in_(codes)))} if codes else {}
    )
    unknown = [c for c in codes if c not in found or found[c].removed_at is not None]
    if dupes:
        fields["services"] = Text(N_("服务重复：%(codes)s"), codes=dupes)
    elif unknown:
        fields["services"] = Text(N_("没有这些服务（或已移出目录）：%(codes)s"), codes=unknown)
    elif len(codes) < MIN_BUNDLE_SERVICES:
        fields["services"] = Text(N_("一件事套餐至少包含 %(n)s 项服务"), n=MIN_BUNDLE_SERVICES)
    else:
        services = [found[c] for c in codes]
        if data.published:
            blocked = [s.code for s in services if not s.is_public or not s.online]
            if blocked:
                fields["services"] = Text(
                    N_("发布的套餐只能包含已发布、可网上申请的服务：%(codes)s 不符合。可先保存为未发布。"),
                    codes=blocked,
                )
    if fields:
        raise ValidationFailed(fields)
    before = bundle_record(existing) if existing else None
    if existing is None:
        position = (session.scalar(select(func.max(Bundle.position))) or 0) + 1
        bundle = Bundle(code=new_code, position=position)
        session.add(bundle)
    else:
        bundle = existing
    bundle.name, bundle.description, bundle.published = name, description, bool(data.published)
    if [i.service.code for i in bundle.items] != codes:
        bundle.items.clear()
        session.flush()
        for pos, s in enumerate(services, 1):
            bundle.items.append(BundleService(service=s, position=pos))
    after = {
        "code": new_code,
        "name": name,
        "description": description,
        "published": bool(data.published),
        "services": codes,
    }
    if before == after:
        return bundle
    if before is None:
        audit(session, actor, "create", "bundle", new_code, after=after)
    else:
        audit(session, actor, "update", "bundle", new_code, before=before, after=after)
    commit(session)
    return bundle


def delete_bundle(session: Session, actor: User, code: str) -> None:
    bundle = get_bundle(session, code)
    used = session.scalar(select(func.count(Request.id)).where(Request.bundle_id == bundle.id)) or 0
    if used:
        raise Conflict(
            Text(N_("已有 %(n)s 份申请使用一件事套餐“%(name)s”，不能删除，请改为不发布。"), n=used, name=bundle.name)
        )
    audit(session, actor, "delete", "bundle", code, before=bundle_record(bundle))
    session.delete(bundle)
    commit(session)


def service_choices(session: Session) -> list[Service]:
    """Every service not removed, for pickers and reference lists."""
    return list(
        session.scalars(
            select(Service)
            .where(Service.removed_at.is_(None))
            .options(selectinload(Service.category), selectinload(Service.bureau))
            .join(Category)
            .order_by(Category.position, Service.code)
        )
    )
