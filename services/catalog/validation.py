"""What a valid catalog document is: the seven categories, the code formats, the service guide's
required fields and limits, and `validate_catalog`, which checks a whole document at once.

The bundled catalog, `catalog import` (JSON, CSV, XLSX) and the admin forms all come through
here, so they refuse exactly the same things. Nothing is written: see services.catalog.records.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.catalog.problems import (
    TOO_LONG,
    CatalogError,
    Problem,
    clean_text,
    parse_bool,
    parse_int,
    split_list,
)
from services.core.sheets import is_formula
from services.core.texts import N_
from services.core.texts import Text as _msg
from services.models import Bureau, ServiceField

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
FORMULA_REFUSED = N_("不能以“=”开头或含有电子表格公式（如 =cmd|…!A0），请改为普通文字")


def _refuse_formulas(rec: dict[str, Any], keys: Sequence[str], where: str, problems: list[Problem]) -> None:
    """Texts an export would turn into live spreadsheet formulas (services.core.sheets.is_formula);
    "+86 …", "-5" or "- 营业执照" are ordinary text and pass (the export neutralises them)."""
    for key in keys:
        value = rec.get(key)
        if any(is_formula(v) for v in (value if isinstance(value, list) else [value])):
            problems.append(Problem(where, key, _msg(FORMULA_REFUSED)))


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
        for rec in file_bureaus:
            self._add_bureau(rec["code"], rec["name"], rec["short_name"])

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
        code = clean_text(item.get("code"))
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
        rec: dict[str, Any] = {"code": code}
        for key in ("name", "short_name"):
            rec[key] = clean_text(item.get(key))
            if not rec[key]:
                problems.append(Problem(where, key, _msg(N_("不能为空"))))
        for key in ("phone", "address", "office_hours", "description"):
            rec[key] = clean_text(item.get(key))
        joint = parse_bool(item.get("joint_office", False))
        if joint is None:
            problems.append(Problem(where, "joint_office", _msg(N_("应为 true 或 false"))))
        rec["joint_office"] = bool(joint)
        rec["position"] = i
        _refuse_formulas(rec, ("name", "short_name", "phone", "address", "office_hours", "description"),
                         where, problems)
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
        code = clean_text(f.get("code"))
        if not code or not FIELD_CODE_RE.match(code):
            problems.append(Problem(where, f"{fw}.code", _msg(N_("字段编码须以字母开头，只含字母、数字和下划线"))))
        elif code in seen:
            problems.append(Problem(where, f"{fw}.code", _msg(N_("字段编码 %(code)s 重复"), code=code)))
        seen.add(code)
        label = clean_text(f.get("label"))
        if not label:
            problems.append(Problem(where, f"{fw}.label", _msg(N_("字段名称不能为空"))))
        datatype = clean_text(f.get("datatype")) or "string"
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
                    key = clean_text(v.get("key")) if isinstance(v, dict) else ""
                    name = clean_text(v.get("name")) if isinstance(v, dict) else ""
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
                    "description": clean_text(f.get("description")), "values": values, "position": i})
    return out


def _validate_service(item: Any, where: str, lookup: _Lookup, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(where, "", _msg(N_("应为对象"))))
        return None
    start = len(problems)
    code = clean_text(item.get("code"))
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
        text = clean_text(item.get(key))
        if len(text) > limit:
            problems.append(Problem(where, key, _msg(TOO_LONG, max=limit)))
        rec[key] = text

    category = clean_text(item.get("category"))
    if category:
        rec["category"] = lookup.category(category)
        if rec["category"] is None:
            problems.append(Problem(where, "category",
                                    _msg(N_("未知的服务类别“%(category)s”，可选：%(choices)s 或其中文名称"),
                                         category=category, choices=list(CATEGORY_CODES))))
    bureau = clean_text(item.get("bureau"))
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

    _refuse_formulas(rec, (*TEXT_LIMITS, *LIST_FIELDS), where, problems)
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
        code = clean_text(item.get("code")) if isinstance(item, dict) else ""
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

