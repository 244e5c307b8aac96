"""The service catalog's writes: upserting a validated catalog document (`import_catalog`,
`write_catalog`), the bundled catalog, and a service or bureau in the catalog-file format
(export, the API's guide, the audit log).

What is valid is decided once in services.catalog.validation and serves the bundled catalog,
`catalog import` (JSON, CSV, XLSX) and the admin forms. `import_catalog` checks the whole input
first and writes nothing if anything is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from services import outbox
from services.catalog.formats import read_catalog_file
from services.catalog.indexing import SearchIndex, sync_index
from services.catalog.validation import CATEGORIES, ValidCatalog, validate_catalog
from services.core.clock import utcnow
from services.core.transaction import atomic
from services.models import Bureau, Category, Service, ServiceField

BUNDLED_CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalog.json"


# --------------------------------------------------------------------------- writing
@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    bureaus_created: list[str] = field(default_factory=list)
    bureaus_updated: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        verb = "将" if self.dry_run else "已"
        return (f"服务：{verb}新增 {len(self.created)} 项，{verb}更新 {len(self.updated)} 项，"
                f"未变 {len(self.unchanged)} 项，{verb}下架 {len(self.removed)} 项；"
                f"单位：{verb}新增 {len(self.bureaus_created)} 个，{verb}更新 {len(self.bureaus_updated)} 个。")


SERVICE_COLUMNS = ("name", "summary", "conditions", "materials", "process", "legal_basis", "time_limit_days",
                   "statutory_limit_days", "fee", "place", "hours", "contact", "keywords", "online",
                   "popular", "published")
BUREAU_COLUMNS = ("name", "short_name", "phone", "address", "office_hours", "description", "joint_office",
                  "position")


def ensure_categories(session: Session) -> None:
    """Create any of the seven categories that is missing (codes are fixed; admins own the texts)."""
    existing = {c.code for c in session.scalars(select(Category))}
    for pos, (code, name, name_en, desc) in enumerate(CATEGORIES, 1):
        if code not in existing:
            session.add(Category(code=code, name=name, name_en=name_en, description=desc, position=pos))
    session.flush()


def _fields_state(fields: Iterable[ServiceField]) -> list[tuple]:
    return [(f.code, f.label, f.datatype, f.required, f.description, f.values) for f in fields]


def _apply_service(session: Session, service: Service, rec: dict[str, Any], category: Category,
                   bureau: Bureau) -> bool:
    """Copy a validated record onto a service (of `session` when it is already stored); True if
    anything changed."""
    changed = service.removed_at is not None
    service.removed_at = None
    for key in SERVICE_COLUMNS:
        if getattr(service, key) != rec[key]:
            setattr(service, key, rec[key])
            changed = True
    if service.category is not category:
        service.category, changed = category, True
    if service.bureau is not bureau:
        service.bureau, changed = bureau, True
    new_fields = [(f["code"], f["label"], f["datatype"], f["required"], f["description"], f["values"])
                  for f in rec["fields"]]
    if _fields_state(service.fields) != new_fields:
        service.fields.clear()
        if inspect(service).persistent:  # delete the old rows before the new ones (unique service_id, code)
            session.flush()
        for f in rec["fields"]:
            service.fields.append(ServiceField(**f))
        changed = True
    return changed


class _DryRun(Exception):
    """Ends a dry run's transaction: what it wrote is rolled back."""


def write_catalog(session: Session, valid: ValidCatalog, *, replace: bool = False, dry_run: bool = False,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    """Upsert a validated catalog by code in the caller's transaction (it commits), with the
    search outbox rows of every service whose document changed (none for a dry run).

    With `replace`, public services absent from the document are taken off the catalog (kept in
    the database for history)."""
    report = ImportReport(dry_run=dry_run)
    ensure_categories(session)
    categories = {c.code: c for c in session.scalars(select(Category))}
    bureaus = {b.code: b for b in session.scalars(select(Bureau))}
    for rec in valid.bureaus:
        bureau = bureaus.get(rec["code"])
        if bureau is None:
            bureau = bureaus[rec["code"]] = Bureau(**rec)
            session.add(bureau)
            report.bureaus_created.append(rec["code"])
        elif any(getattr(bureau, k) != rec[k] for k in BUREAU_COLUMNS):
            for k in BUREAU_COLUMNS:
                setattr(bureau, k, rec[k])
            report.bureaus_updated.append(rec["code"])
    session.flush()

    existing = {s.code: s for s in session.scalars(
        select(Service).options(selectinload(Service.fields), selectinload(Service.category),
                                selectinload(Service.bureau)))}
    for n, rec in enumerate(valid.services, 1):
        service = existing.get(rec["code"])
        if service is None:
            service = Service(code=rec["code"])
            _apply_service(session, service, rec, categories[rec["category"]], bureaus[rec["bureau"]])
            session.add(service)
            report.created.append(rec["code"])
        elif _apply_service(session, service, rec, categories[rec["category"]], bureaus[rec["bureau"]]):
            report.updated.append(rec["code"])
        else:
            report.unchanged.append(rec["code"])
        if progress:
            progress(n)
    if replace:
        keep = {rec["code"] for rec in valid.services}
        for code, service in existing.items():
            if code not in keep and service.removed_at is None:
                service.removed_at = utcnow()
                report.removed.append(code)
    session.flush()
    if dry_run:
        return report
    changed_codes = set(report.created) | set(report.updated) | set(report.removed)
    if report.bureaus_updated:  # bureau names are part of every service document of that bureau
        changed_codes |= set(session.scalars(select(Service.code).join(Bureau)
                                             .where(Bureau.code.in_(report.bureaus_updated))))
    outbox.enqueue(session, "service", changed_codes)
    return report


def sync_written(session: Session, index: SearchIndex | None, report: ImportReport) -> None:
    """After write_catalog's commit: callers outside a web worker (the CLI) update their index at once."""
    if index is not None:
        changed = set(report.created) | set(report.updated)
        sync_index(session, index, changed_codes=changed, removed_codes=report.removed,
                   full=bool(report.bureaus_updated))


def import_catalog(session: Session, index: SearchIndex | None, data: Any, *, replace: bool = False,
                   dry_run: bool = False, labels: Sequence[str] | None = None,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate and upsert a catalog document by code, in one transaction.

    Raises CatalogError (nothing written) when anything is wrong. With `replace`, public
    services absent from the document are taken off the catalog (kept in the database for
    history). With `dry_run`, reports what would change and rolls back.
    """
    valid = validate_catalog(session, data, labels)
    try:
        with atomic(session):
            report = write_catalog(session, valid, replace=replace, dry_run=dry_run, progress=progress)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return report
    sync_written(session, index, report)
    return report


def load_bundled_catalog(session: Session, index: SearchIndex | None,
                         path: Path = BUNDLED_CATALOG) -> ImportReport:
    data, labels = read_catalog_file(path)
    return import_catalog(session, index, data, labels=labels)


def service_record(service: Service) -> dict[str, Any]:
    """A service in the catalog-file format (export and the API's guide)."""
    return {
        "code": service.code, "name": service.name, "category": service.category.code,
        "bureau": service.bureau.code, "summary": service.summary, "conditions": service.conditions,
        "materials": list(service.materials or []), "process": list(service.process or []),
        "legal_basis": service.legal_basis, "time_limit_days": service.time_limit_days,
        "statutory_limit_days": service.statutory_limit_days, "fee": service.fee, "place": service.place,
        "hours": service.hours, "contact": service.contact, "keywords": list(service.keywords or []),
        "online": service.online, "popular": service.popular, "published": service.published,
        "fields": [{"code": f.code, "label": f.label, "datatype": f.datatype, "required": f.required,
                    "description": f.description, "values": list(f.values or [])} for f in service.fields],
    }


def bureau_record(bureau: Bureau) -> dict[str, Any]:
    return {"code": bureau.code, "name": bureau.name, "short_name": bureau.short_name, "phone": bureau.phone,
            "address": bureau.address, "office_hours": bureau.office_hours, "description": bureau.description,
            "joint_office": bureau.joint_office}


def export_catalog(session: Session) -> dict[str, Any]:
    """The whole live catalog (services not removed) as a catalog document."""
    bureaus = session.scalars(select(Bureau).order_by(Bureau.position, Bureau.code))
    services = session.scalars(select(Service).where(Service.removed_at.is_(None))
                               .options(selectinload(Service.fields), selectinload(Service.category),
                                        selectinload(Service.bureau)).order_by(Service.code))
    return {"bureaus": [bureau_record(b) for b in bureaus], "services": [service_record(s) for s in services]}
