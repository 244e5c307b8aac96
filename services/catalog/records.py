"""The service catalog: the seven categories, bureaus, services and their guides.

Validation lives here once and serves the bundled catalog, `catalog import` (JSON, CSV, XLSX)
and, later, the admin forms. Every write goes through `import_catalog`, which checks the
whole input first and writes nothing if anything is wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session, object_session, selectinload

from services.core.clock import utcnow
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Bureau, Category, Service, ServiceField

BUNDLED_CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalog.json"

# (code, 中文名, English name, description) — order is the display order.
CATEGORIES: tuple[tuple[str, str, str, str], ...] = (
    ("metrology", "计量", "Metrology",
     "计量器具检定校准、计量标准核准、定量包装商品与能源计量等服务。"),
    ("standardization", "标准化", "Standardization",
     "企业标准自我声明公开、团体标准、对标达标与标准化试点示范。"),
    ("testing", "检验检测", "Testing & Inspection",
     "产品委托检验、农产品与食品检测、检验检测机构资质认定。"),
    ("certification", "认证认可", "Certification & Accreditation",
     "体系认证辅导、绿色有机农产品认证、生产许可与强制性产品认证咨询。"),
    ("quality", "质量管理", "Quality Management",
     "质量管理体系导入、质量帮扶、高新技术企业培育与质量奖申报。"),
    ("brand", "品牌培育", "Brand Building",
     "品牌建设指导、老字号与区域公用品牌培育、电商与外贸服务。"),
    ("ip", "知识产权", "Intellectual Property",
     "商标专利申请便利化、质押融资、维权援助与成果转化。"),
)
CATEGORY_CODES = tuple(c[0] for c in CATEGORIES)

REQUIRED_GUIDE_FIELDS = ("name", "category", "bureau", "summary", "conditions", "materials", "process",
                         "legal_basis", "time_limit_days", "fee", "contact")
TEXT_LIMITS = {"name": 200, "summary": 2000, "conditions": 5000, "legal_basis": 5000, "fee": 500,
               "place": 300, "hours": 200, "contact": 200}
LIST_FIELDS = ("materials", "process", "keywords")
MAX_TIME_LIMIT_DAYS = 365

SERVICE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
BUREAU_CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
FIELD_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_TRUE = {"true", "1", "yes", "y", "是", "t", "on"}
_FALSE = {"false", "0", "no", "n", "否", "f", "off", ""}


class SearchIndex(Protocol):
    """What the catalog needs of the search index (see search_index.CatalogIndex)."""

    def upsert(self, docs: Iterable[dict]) -> None: ...
    def delete(self, codes: Iterable[str]) -> None: ...
    def rebuild(self, docs: Iterable[dict], total: int | None = None,
                progress: Callable[[int], None] | None = None) -> int: ...


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (row or service code), which field, what."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} · {self.field}：{self.message}" if self.field else f"{self.where}：{self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "field": self.field, "message": self.message}


class CatalogError(Exception):
    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------- parsing helpers
def _clean_text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    return _CONTROL_RE.sub("", value).strip()


def parse_bool(value: Any) -> bool | None:
    """True/False from JSON booleans and the spellings a spreadsheet user types; None if unclear."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None


def parse_int(value: Any) -> int | None:
    """A whole number from a JSON int, a float with no fraction (spreadsheets) or a digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def split_list(value: Any) -> list[str] | None:
    """A list of non-empty strings from a JSON list or a `|`-joined string; None if neither."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split("|")
    elif isinstance(value, list):
        if not all(isinstance(i, (str, int, float)) and not isinstance(i, bool) for i in value):
            return None
        items = [str(i) for i in value]
    else:
        return None
    return [t for t in (_clean_text(i) for i in items) if t]


# --------------------------------------------------------------------------- validation
@dataclass
class ValidCatalog:
    bureaus: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)


class _Lookup:
    """Resolves the category and bureau spellings the file format allows."""

    def __init__(self, session: Session, file_bureaus: list[dict[str, Any]]):
        self.categories: dict[str, str] = {}
        for code, name, name_en, _ in CATEGORIES:
            for key in (code, name, name_en.lower()):
                self.categories[key] = code
        self.bureaus: dict[str, str] = {}
        for b in session.execute(select(Bureau.code, Bureau.name, Bureau.short_name)):
            self._add_bureau(b.code, b.name, b.short_name)
        for b in file_bureaus:
            self._add_bureau(b["code"], b["name"], b["short_name"])

    def _add_bureau(self, code: str, name: str, short_name: str) -> None:
        for key in (code, name, short_name):
            if key:
                self.bureaus[key] = code

    def category(self, value: str) -> str | None:
        return self.categories.get(value) or self.categories.get(value.lower())

    def bureau(self, value: str) -> str | None:
        return self.bureaus.get(value) or self.bureaus.get(value.lower())


def _validate_bureaus(raw: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(Problem("文件", "bureaus", _msg(N_("应为列表"))))
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, 1):
        where = f"单位第 {i} 项"
        if not isinstance(item, dict):
            problems.append(Problem(where, "", _msg(N_("应为对象"))))
            continue
        code = _clean_text(item.get("code"))
        if code:
            where = f"单位 {code}"
        start = len(problems)
        if not code:
            problems.append(Problem(where, "code", _msg(N_("缺少单位编码"))))
        elif not BUREAU_CODE_RE.match(code):
            problems.append(Problem(where, "code", _msg(N_("单位编码只能由小写字母、数字和连字符组成"))))
        elif code in seen:
            problems.append(Problem(where, "code", _msg(N_("单位编码重复"))))
        seen.add(code)
        rec = {"code": code}
        for key in ("name", "short_name"):
            rec[key] = _clean_text(item.get(key))
            if not rec[key]:
                problems.append(Problem(where, key, _msg(N_("不能为空"))))
        for key in ("phone", "address", "office_hours", "description"):
            rec[key] = _clean_text(item.get(key))
        joint = parse_bool(item.get("joint_office", False))
        if joint is None:
            problems.append(Problem(where, "joint_office", _msg(N_("应为 true 或 false"))))
        rec["joint_office"] = bool(joint)
        rec["position"] = i
        if len(problems) == start:
            out.append(rec)
    return out


def _validate_fields(raw: Any, where: str, problems: list[Problem]) -> list[dict[str, Any]]:
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        problems.append(Problem(where, "fields", _msg(N_("申请字段应为列表"))))
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, f in enumerate(raw, 1):
        fw = f"fields[{i}]"
        if not isinstance(f, dict):
            problems.append(Problem(where, fw, _msg(N_("申请字段应为对象"))))
            continue
        code = _clean_text(f.get("code"))
        if not code or not FIELD_CODE_RE.match(code):
            problems.append(Problem(where, f"{fw}.code", _msg(N_("字段编码须以字母开头，只含字母、数字和下划线"))))
        elif code in seen:
            problems.append(Problem(where, f"{fw}.code", _msg(N_("字段编码 %(code)s 重复"), code=code)))
        seen.add(code)
        label = _clean_text(f.get("label"))
        if not label:
            problems.append(Problem(where, f"{fw}.label", _msg(N_("字段名称不能为空"))))
        datatype = _clean_text(f.get("datatype")) or "string"
        if datatype not in ServiceField.DATATYPES:
            problems.append(Problem(where, f"{fw}.datatype",
                                    _msg(N_("未知的数据类型 %(datatype)s，可选：%(choices)s"), datatype=datatype,
                                          choices=", ".join(ServiceField.DATATYPES))))
        required = parse_bool(f.get("required", False))
        if required is None:
            problems.append(Problem(where, f"{fw}.required", _msg(N_("应为 true 或 false"))))
        values: list[dict[str, str]] = []
        raw_values = f.get("values") or []
        if datatype in ServiceField.LIST_DATATYPES:
            if not isinstance(raw_values, list) or not raw_values:
                problems.append(Problem(where, f"{fw}.values", _msg(N_("列表类型的字段需要至少一个选项"))))
            else:
                keys: set[str] = set()
                for v in raw_values:
                    key = _clean_text(v.get("key")) if isinstance(v, dict) else ""
                    name = _clean_text(v.get("name")) if isinstance(v, dict) else ""
                    if not key or not name:
                        problems.append(Problem(where, f"{fw}.values", _msg(N_("每个选项都需要 key 和 name"))))
                        break
                    if key in keys:
                        problems.append(Problem(where, f"{fw}.values", _msg(N_("选项 %(key)s 重复"), key=key)))
                        break
                    keys.add(key)
                    values.append({"key": key, "name": name})
        elif raw_values:
            problems.append(Problem(where, f"{fw}.values",
                                    _msg(N_("%(datatype)s 类型的字段不能有选项"), datatype=datatype)))
        out.append({"code": code, "label": label, "datatype": datatype, "required": bool(required),
                    "description": _clean_text(f.get("description")), "values": values, "position": i})
    return out


def _validate_service(item: Any, where: str, lookup: _Lookup, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(where, "", _msg(N_("应为对象"))))
        return None
    start = len(problems)
    code = _clean_text(item.get("code"))
    if not code:
        problems.append(Problem(where, "code", _msg(N_("缺少服务编码"))))
    elif not SERVICE_CODE_RE.match(code):
        problems.append(Problem(where, "code", _msg(N_("服务编码只能含字母、数字、连字符和下划线，最长 32 个字符"))))
    rec: dict[str, Any] = {"code": code}

    for key in REQUIRED_GUIDE_FIELDS:
        value = item.get(key)
        empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
        if empty:
            problems.append(Problem(where, key, _msg(N_("必填项不能为空"))))

    for key, limit in TEXT_LIMITS.items():
        text = _clean_text(item.get(key))
        if len(text) > limit:
            problems.append(Problem(where, key, _msg(N_("不能超过 %(max)d 个字"), max=limit)))
        rec[key] = text

    category = _clean_text(item.get("category"))
    if category:
        rec["category"] = lookup.category(category)
        if rec["category"] is None:
            problems.append(Problem(where, "category",
                                    _msg(N_("未知的服务类别“%(category)s”，可选：%(choices)s 或其中文名称"),
                                         category=category, choices=list(CATEGORY_CODES))))
    bureau = _clean_text(item.get("bureau"))
    if bureau:
        rec["bureau"] = lookup.bureau(bureau)
        if rec["bureau"] is None:
            problems.append(Problem(where, "bureau", _msg(N_("未知的责任单位“%(bureau)s”"), bureau=bureau)))

    for key in LIST_FIELDS:
        items = split_list(item.get(key))
        if items is None:
            problems.append(Problem(where, key, _msg(N_("应为文字列表（表格中用 | 分隔）"))))
        rec[key] = items or []

    for key, required in (("time_limit_days", True), ("statutory_limit_days", False)):
        raw = item.get(key)
        if raw in (None, "") and not required:
            rec[key] = None
            continue
        if raw in (None, ""):
            continue  # already reported as missing
        days = parse_int(raw)
        if days is None:
            problems.append(Problem(where, key, _msg(N_("应为整数（工作日），收到“%(raw)s”"), raw=str(raw))))
        elif not 1 <= days <= MAX_TIME_LIMIT_DAYS:
            problems.append(Problem(where, key, _msg(N_("应在 1 到 %(max)s 个工作日之间"), max=MAX_TIME_LIMIT_DAYS)))
        rec[key] = days
    if (isinstance(rec.get("statutory_limit_days"), int) and isinstance(rec.get("time_limit_days"), int)
            and rec["statutory_limit_days"] < rec["time_limit_days"]):
        problems.append(Problem(where, "statutory_limit_days", _msg(N_("法定时限不能短于承诺时限"))))

    for key, default in (("online", True), ("popular", False), ("published", True)):
        raw = item.get(key, default)
        value = parse_bool(default if raw is None else raw)
        if value is None:
            problems.append(Problem(where, key, _msg(N_("应为 true 或 false，收到“%(raw)s”"), raw=str(raw))))
        rec[key] = bool(value)

    rec["fields"] = _validate_fields(item.get("fields"), where, problems)
    return rec if len(problems) == start else None


def validate_catalog(session: Session, data: Any, labels: Sequence[str] | None = None) -> ValidCatalog:
    """Check a whole catalog document; raise CatalogError listing every problem.

    `labels` names each service item for messages (e.g. "第 3 行" for a CSV row); the service
    code is added when there is one.
    """
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise CatalogError([Problem("文件", "", _msg(N_("目录文件应为含 bureaus 和 services 的对象")))])
    bureaus = _validate_bureaus(data.get("bureaus"), problems)
    raw_services = data.get("services")
    if not isinstance(raw_services, list):
        problems.append(Problem("文件", "services", _msg(N_("缺少服务列表"))))
        raw_services = []
    lookup = _Lookup(session, bureaus)
    services: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw_services):
        label = labels[i] if labels and i < len(labels) else f"服务第 {i + 1} 项"
        code = _clean_text(item.get("code")) if isinstance(item, dict) else ""
        where = f"{label}（{code}）" if code else label
        rec = _validate_service(item, where, lookup, problems)
        if code:
            if code in seen:
                problems.append(Problem(where, "code",
                                        _msg(N_("服务编码 %(code)s 与%(other)s重复"), code=code, other=seen[code])))
                rec = None
            seen.setdefault(code, label)
        if rec is not None:
            services.append(rec)
    if problems:
        raise CatalogError(problems)
    return ValidCatalog(bureaus, services)


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


def _apply_service(service: Service, rec: dict[str, Any], category: Category, bureau: Bureau) -> bool:
    """Copy a validated record onto a service; True if anything changed."""
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
            object_session(service).flush()
        for f in rec["fields"]:
            service.fields.append(ServiceField(**f))
        changed = True
    return changed


def import_catalog(session: Session, index: SearchIndex | None, data: Any, *, replace: bool = False,
                   dry_run: bool = False, labels: Sequence[str] | None = None,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate and upsert a catalog document by code, in one transaction.

    Raises CatalogError (nothing written) when anything is wrong. With `replace`, public
    services absent from the document are taken off the catalog (kept in the database for
    history). With `dry_run`, reports what would change and rolls back.
    """
    valid = validate_catalog(session, data, labels)
    report = ImportReport(dry_run=dry_run)
    try:
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
                _apply_service(service, rec, categories[rec["category"]], bureaus[rec["bureau"]])
                session.add(service)
                report.created.append(rec["code"])
            elif _apply_service(service, rec, categories[rec["category"]], bureaus[rec["bureau"]]):
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
            session.rollback()
            return report
        changed_codes = set(report.created) | set(report.updated) | set(report.removed)
        if report.bureaus_updated:  # bureau names are part of every service document of that bureau
            changed_codes |= set(session.scalars(select(Service.code).join(Bureau)
                                                 .where(Bureau.code.in_(report.bureaus_updated))))
        from services import outbox as search_sync

        search_sync.enqueue(session, "service", changed_codes)
        session.commit()
    except Exception:
        session.rollback()
        raise
    if index is not None:  # callers outside a web worker (the CLI) update their index at once
        changed = set(report.created) | set(report.updated)
        sync_index(session, index, changed_codes=changed, removed_codes=report.removed,
                   full=bool(report.bureaus_updated))
    return report


def load_bundled_catalog(session: Session, index: SearchIndex | None,
                         path: Path = BUNDLED_CATALOG) -> ImportReport:
    from services.catalog.formats import read_catalog_file

    data, labels = read_catalog_file(path)
    return import_catalog(session, index, data, labels=labels)


# --------------------------------------------------------------------------- search documents
def public_services_query():
    return (select(Service)
            .where(Service.published.is_(True), Service.removed_at.is_(None))
            .options(selectinload(Service.category), selectinload(Service.bureau)))


def service_doc(service: Service) -> dict[str, Any]:
    """The search document of a service (see search_index.CatalogIndex)."""
    return {
        "code": service.code, "name": service.name, "category": service.category.code,
        "category_name": service.category.name, "bureau": service.bureau.code,
        "bureau_name": f"{service.bureau.name} {service.bureau.short_name}", "summary": service.summary,
        "keywords": list(service.keywords or []), "conditions": service.conditions,
        "materials": list(service.materials or []), "process": list(service.process or []),
        "legal_basis": service.legal_basis, "online": service.online, "popular": service.popular,
    }


def iter_docs(session: Session) -> Iterable[dict[str, Any]]:
    for service in session.scalars(public_services_query().order_by(Service.code)):
        yield service_doc(service)


def count_public_services(session: Session) -> int:
    return session.scalar(select(func.count(Service.id)).where(
        Service.published.is_(True), Service.removed_at.is_(None))) or 0


def sync_index(session: Session, index: SearchIndex, *, changed_codes: Iterable[str] = (),
               removed_codes: Iterable[str] = (), full: bool = False) -> None:
    """Bring the index in line with the database after a catalog change."""
    if full:
        rebuild_index(session, index)
        return
    changed = sorted(set(changed_codes))
    if changed:
        services = session.scalars(public_services_query().where(Service.code.in_(changed))).all()
        public = {s.code for s in services}
        index.upsert(service_doc(s) for s in services)
        removed_codes = set(removed_codes) | (set(changed) - public)
    if removed_codes:
        index.delete(sorted(set(removed_codes)))


def rebuild_index(session: Session, index: SearchIndex, progress: Callable[[int], None] | None = None) -> int:
    return index.rebuild(iter_docs(session), total=count_public_services(session), progress=progress)


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
