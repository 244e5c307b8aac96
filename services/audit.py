"""The audit log: who changed what in the admin console, which record, the values before and
after.

Every admin change adds its AuditLog row (`audit`) to the session in the same transaction as
the change itself, so the row is there exactly when the change is. `list_audit` reads the log
for the audit page and the admin overview, with labels as Chinese msgids marked with N_ (or
`pgettext` where the English depends on the place) and values as `Text`, so the web layer
shows them in the page language (portal.texts). Nothing stored changes with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.core.texts import N_, Join, Text, pgettext
from services.models import AuditLog, User

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

