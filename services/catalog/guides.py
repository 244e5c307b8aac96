"""Admin console: catalog services — the service guide (办事指南), its request fields, publishing
and unpublishing, deleting a service no request used.

A service goes through the catalog validation and write (`services.catalog.validation`,
`services.catalog.records.write_catalog`) as a one-service document, so the admin form refuses
exactly what a catalog import refuses. Every change writes its search outbox rows and an
AuditLog row (services.audit) in the same transaction, so the index follows at once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from services.audit import KEY_LABELS, NOTE_RESTORED, audit
from services.catalog.indexing import SearchIndex, search_changed, sync_now
from services.catalog.problems import CatalogError, Problem
from services.catalog.records import service_record, sync_written, write_catalog
from services.catalog.validation import ValidCatalog, validate_catalog
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_, Join, Text
from services.core.transaction import atomic
from services.models import Bundle, BundleService, Bureau, Category, RequestItem, Service, User

STATUS_LABELS: dict[str, str] = {
    "published": N_("已发布"),
    "unpublished": N_("未发布"),
    "removed": N_("已移出目录"),
}
# The service guide's fields in the order of the service form, named as the audit log names them
# (services.audit.KEY_LABELS) except where the form wants the longer name.
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
    """A validated catalog record in the shape of records.service_record."""
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
    """The one-service catalog document the catalog validation checks."""
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

    The search outbox is written in the same transaction (write_catalog does it); pass `index`
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
    valid: ValidCatalog | None = None
    try:
        valid = validate_catalog(session, doc, labels=["本服务"])
    except CatalogError as exc:
        problems.extend(exc.problems)
    if existing is None and code and session.scalar(select(Service.id).where(Service.code == code)):
        problems.append(Problem("本服务", "code", Text(N_("服务编码 %(code)s 已被使用，请换一个"), code=code)))
    if problems or valid is None:
        raise GuideRejected(problems)

    after = _record_of(valid.services[0])
    before = service_record(existing) if existing is not None else None
    restored = existing is not None and existing.removed_at is not None
    if before is not None:
        before["removed"], after["removed"] = restored, False
    if existing is not None and before == after:
        return SaveResult(existing, created=False, changed=False)
    with atomic(session):
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
        if existing is not None and before is not None and before["fields"] != after["fields"]:
            # Replacing the request fields by clearing and re-adding them in one flush inserts
            # before it deletes and trips UNIQUE(service_id, code) when a code is kept. Remove the
            # old rows first, in this same transaction.
            existing.fields.clear()
            session.flush()
        report = write_catalog(session, valid)
    sync_written(session, index, report)
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
    with atomic(session):
        audit(
            session, actor, "publish" if published else "unpublish", "service", code, before=before, after=after
        )
        search_changed(session, [code])
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
    with atomic(session):
        audit(session, actor, "delete", "service", code, before=service_record(service))
        session.delete(service)
        search_changed(session, [code])
    if index is not None:
        index.delete([code])



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
