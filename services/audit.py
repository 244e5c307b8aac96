"""The audit log: who changed what in the admin console, which record, the values before and
after.

Every admin change adds its AuditLog row (`audit`) to the session in the same transaction as
the change itself, so the row is there exactly when the change is. `list_audit` reads the log
for the audit page and the admin overview, with labels as Chinese msgids marked with N_ (or
`pgettext` where the English depends on the place) and values as `Text`, so the web layer
shows them in the page language (portal.texts). Nothing stored changes with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.accounts import reference
from services.catalog.field_types import DATATYPE_NAMES
from services.core import roles
from services.core.texts import N_, Join, Text, pgettext
from services.models import AuditLog, Bureau, Category, Service, User
from services.requests.routing import CONDITION_LABELS

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
    "holiday": {"is_workday": N_("这一天")},
    "service": {"bureau": N_("责任单位")},
}
# Notes the code writes into audit rows (other notes, such as a rule's name, are data).
NOTE_PASSWORD_RESET = N_("管理员重设了密码")
NOTE_RESTORED = N_("保存后恢复到服务目录")
SYSTEM_NOTES = frozenset({NOTE_PASSWORD_RESET, NOTE_RESTORED})


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


# --------------------------------------------------------------------------- reading the log
# How stored values read: names for codes, Chinese for keys and flags. The stored rows keep the
# codes (what the record held); only their reading changes.
#: Values of a key in an entity that read better as words than as 是/否 or a code.
VALUE_LABELS: dict[tuple[str, str], dict[Any, str]] = {
    ("holiday", "is_workday"): {True: N_("上班（调休补班，计工作日）"), False: N_("放假（不计工作日）")},
    ("user", "role"): dict(roles.LABELS),
}
DAYS_KEYS = frozenset({"time_limit_days", "statutory_limit_days"})
EMPTY = N_("（空）")


@dataclass
class Names:
    """Names of the codes the shown rows mention (a code no longer in the database stays a code)."""

    categories: dict[str, str]
    bureaus: dict[str, str]
    services: dict[str, str]

    @classmethod
    def load(cls, session: Session, rows: list[AuditLog]) -> Names:
        codes: set[str] = set()
        for row in rows:
            for side in ("before", "after"):
                record = (row.detail or {}).get(side) or {}
                found = record.get("services")
                if isinstance(found, list):
                    codes.update(str(c) for c in found)
                conditions = record.get("conditions")
                found = conditions.get("services") if isinstance(conditions, dict) else None
                if isinstance(found, list):
                    codes.update(str(c) for c in found)
            if row.entity == "service":
                codes.add(row.entity_key)
        services = dict(session.execute(select(Service.code, Service.name).where(Service.code.in_(codes)))
                        .all()) if codes else {}
        return cls(dict(session.execute(select(Category.code, Category.name)).all()),
                   dict(session.execute(select(Bureau.code, Bureau.short_name)).all()), services)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _join(items: list[Any], sep: str = N_("、")) -> str:
    return Join(sep, items)


def _field_text(f: dict[str, Any]) -> str:
    """One request field: its name, type, whether required, its options."""
    parts: list[Any] = [_label(DATATYPE_NAMES, str(f.get("datatype") or ""))]
    if f.get("required"):
        parts.append(Text(N_("必填")))
    values = [str(v.get("name") or v.get("key")) for v in f.get("values") or [] if isinstance(v, dict)]
    if values:
        parts.append(Text(N_("选项：%(values)s"), values=_join(values)))
    if f.get("description"):
        parts.append(Text(N_("说明：%(text)s"), text=str(f["description"])))
    return Text(N_("%(name)s（%(detail)s）"), name=str(f.get("label") or f.get("code") or ""),
                detail=_join(parts, N_("；")))


def _code_name(code: Any, names: dict[str, str]) -> str:
    code = str(code)
    return Text(N_("%(name)s（%(code)s）"), name=names[code], code=code) if code in names else code


def _fmt(entity: str, key: str, value: Any, names: Names) -> str:
    """A stored value as a person reads it; never raw JSON."""
    if _empty(value):
        return Text(EMPTY)
    special = VALUE_LABELS.get((entity, key))
    if special is not None and not isinstance(value, (list, dict)) and value in special:
        return Text(special[value])
    if isinstance(value, bool):
        return Text(N_("是")) if value else Text(N_("否"))
    if key == "category" and isinstance(value, str):
        return names.categories.get(value, value)
    if key == "bureau" and isinstance(value, str):
        return names.bureaus.get(value, value)
    if key == "categories" and isinstance(value, list):
        return _join([names.categories.get(str(v), str(v)) for v in value])
    if key == "services" and isinstance(value, list):
        return _join([_code_name(v, names.services) for v in value])
    if key == "industries" and isinstance(value, list):
        return _join([_label(dict(reference.INDUSTRIES), str(v)) for v in value])
    if key == "sizes" and isinstance(value, list):
        return _join([_label(dict(reference.SIZES), str(v)) for v in value])
    if key in DAYS_KEYS and isinstance(value, int):
        return Text(N_("%(n)s 个工作日"), n=value)
    if key == "fields" and isinstance(value, list):
        return _join([_field_text(f) if isinstance(f, dict) else str(f) for f in value], N_("；"))
    if key == "field" and isinstance(value, dict):  # a routing rule's request-field condition
        return Text(N_("%(code)s 取值为 %(values)s"), code=str(value.get("code") or ""),
                    values=_join([str(v) for v in value.get("values") or []]))
    if isinstance(value, dict):
        labels = {**KEY_LABELS, **CONDITION_LABELS}
        return _join([Text(N_("%(label)s：%(message)s"), label=_label(labels, str(k)),
                           message=_fmt(entity, str(k), v, names)) for k, v in value.items()], N_("；"))
    if isinstance(value, list):
        return _join([_fmt(entity, key, v, names) if isinstance(v, (dict, list)) else str(v) for v in value])
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
    known: bool = True  # False: a key without a label (shown as its code)


@dataclass
class AuditEntry:
    row: AuditLog
    entity_label: str
    action_label: str
    changes: list[AuditChange]
    note: str
    subject: str = ""  # the record's name, when the row or the database knows it
    has_before: bool = False
    has_after: bool = False


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    entity: str | None


def _expand(entity: str, before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """(key, label, before, after) of each change; a rule's conditions and a service's request
    fields are split into one line per condition or field."""
    key_labels = {**KEY_LABELS, **ENTITY_KEY_LABELS.get(entity, {})}
    out: list[tuple[str, str, Any, Any]] = []
    for k in dict.fromkeys([*before.keys(), *after.keys()]):
        b, a = before.get(k), after.get(k)
        if k == "conditions" and isinstance(b or {}, dict) and isinstance(a or {}, dict):
            b, a = b or {}, a or {}
            for c in dict.fromkeys([*b.keys(), *a.keys()]):
                if b.get(c) != a.get(c):
                    name = _label(CONDITION_LABELS, str(c))
                    out.append((f"conditions.{c}", Text(N_("条件：%(name)s"), name=name), b.get(c), a.get(c)))
            continue
        if k == "fields" and isinstance(b or [], list) and isinstance(a or [], list) \
                and all(isinstance(f, dict) for f in [*(b or []), *(a or [])]):
            old = {str(f.get("code")): f for f in b or []}
            new = {str(f.get("code")): f for f in a or []}
            for code in dict.fromkeys([*old.keys(), *new.keys()]):
                if old.get(code) != new.get(code):
                    f = new.get(code) or old[code]
                    out.append((f"fields.{code}", Text(N_("申请字段“%(name)s”"), name=str(f.get("label") or code)),
                                [old[code]] if code in old else None, [new[code]] if code in new else None))
            if [c for c in old if c in new] != [c for c in new if c in old]:
                out.append(("fields.order", Text(N_("申请字段顺序")),
                            [str(old[c].get("label") or c) for c in old if c in new],
                            [str(new[c].get("label") or c) for c in new if c in old]))
            continue
        out.append((k, _label(key_labels, k), b, a))
    return out


def _subject(row: AuditLog, names: Names) -> str:
    detail = row.detail or {}
    record = detail.get("after") or detail.get("before") or {}
    if row.entity == "bureau":
        return names.bureaus.get(row.entity_key) or str(record.get("short_name") or record.get("name") or "")
    if row.entity == "category":
        return names.categories.get(row.entity_key) or str(record.get("name") or "")
    if row.entity == "service":
        return names.services.get(row.entity_key) or str(record.get("name") or "")
    if row.entity in ("bundle", "user"):
        return str(record.get("name") or record.get("display_name") or "")
    return ""


def _value_key(key: str) -> str:
    """The key whose reading a (possibly split) change's values take: a condition's own key,
    "fields" for one request field."""
    head, _, sub = key.partition(".")
    if head == "conditions":
        return sub
    return "order" if key == "fields.order" else head


def _entry(row: AuditLog, names: Names) -> AuditEntry:
    detail = row.detail or {}
    before, after = detail.get("before") or {}, detail.get("after") or {}
    has_before, has_after = "before" in detail, "after" in detail
    note = str(detail.get("note") or "")
    changes = [
        AuditChange(key, _fmt(row.entity, _value_key(key), b, names) if has_before else "",
                    _fmt(row.entity, _value_key(key), a, names) if has_after else "", label,
                    known=label != key)
        for key, label, b, a in _expand(row.entity, before, after)
    ]
    subject = _subject(row, names)
    return AuditEntry(row, _label(ENTITY_LABELS, row.entity, AUDIT_CONTEXT),
                      _label(ACTION_LABELS, row.action, AUDIT_CONTEXT), changes,
                      Text(note) if note in SYSTEM_NOTES else note,
                      subject if subject and subject != row.entity_key else "", has_before, has_after)


def list_audit(
    session: Session, entity: str | None = None, key: str | None = None, page: int = 1, per_page: int = 50
) -> AuditPage:
    """Audit rows, newest first, optionally of one kind of record (and one record key), each
    change read as a label with its value before and after."""
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
    rows = list(session.scalars(
        stmt.options(selectinload(AuditLog.actor))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all())
    names = Names.load(session, rows)
    return AuditPage([_entry(row, names) for row in rows], total, page, pages, entity)
