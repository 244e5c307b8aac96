"""Admin console: routing rules — editing, and checks for rules that can never match or are
shadowed by an earlier rule. The rule tester is services.requests.routing_tester.

Every change writes an AuditLog row in the same transaction (services.audit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.accounts import reference
from services.audit import audit
from services.catalog.problems import TOO_LONG
from services.catalog.validation import CATEGORY_CODES, FIELD_CODE_RE, SERVICE_CODE_RE
from services.core.errors import Conflict, NotFound, ValidationFailed
from services.core.texts import N_, Text
from services.core.transaction import atomic
from services.models import Bureau, Category, RoutingRule, Service, ServiceField, Ticket, User
from services.requests import routing

CONDITION_KEYS = routing.CONDITION_KEYS
CONDITION_LABELS = routing.CONDITION_LABELS
LIST_KEYS = ("townships", "industries", "sizes", "services", "categories")
MAX_PRIORITY = 9999
MAX_KEYWORDS = 50


# --------------------------------------------------------------------------- input
@dataclass
class RuleInput:
    name: str = ""
    priority: str | int = 100
    bureau: str = ""
    active: bool = True
    townships: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    field_code: str = ""
    field_values: list[str] = field(default_factory=list)


def rule_record(rule: RoutingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "priority": rule.priority,
        "bureau": rule.bureau.code if rule.bureau else "",
        "active": rule.active,
        "conditions": dict(rule.conditions or {}),
    }


def rule_input(rule: RoutingRule) -> RuleInput:
    """A stored rule as form input (for the edit page)."""
    c = rule.conditions or {}
    f = c.get("field") or {}
    return RuleInput(
        name=rule.name,
        priority=rule.priority,
        bureau=rule.bureau.code,
        active=rule.active,
        townships=list(c.get("townships") or []),
        industries=list(c.get("industries") or []),
        sizes=list(c.get("sizes") or []),
        services=list(c.get("services") or []),
        categories=list(c.get("categories") or []),
        keywords=list(c.get("keywords") or []),
        field_code=str(f.get("code") or ""),
        field_values=[str(v) for v in f.get("values") or []],
    )


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in items if i and i.strip()))


def _conditions(data: RuleInput, fields: dict[str, str]) -> dict[str, Any]:
    c: dict[str, Any] = {}
    allowed = {
        "townships": set(reference.TOWNSHIPS),
        "industries": set(dict(reference.INDUSTRIES)),
        "sizes": set(dict(reference.SIZES)),
        "categories": set(CATEGORY_CODES),
    }
    for key in LIST_KEYS:
        values = _dedupe(getattr(data, key))
        if key in allowed:
            bad = [v for v in values if v not in allowed[key]]
            if bad:
                fields[key] = Text(N_("未知的%(what)s：%(values)s"), what=Text(CONDITION_LABELS[key]), values=bad)
        else:  # services: checked for form here, for existence by check_rules (a warning)
            bad = [v for v in values if not SERVICE_CODE_RE.match(v)]
            if bad:
                fields[key] = Text(N_("服务编码格式不对：%(codes)s"), codes=bad)
        if values:
            c[key] = values
    keywords = _dedupe(data.keywords)
    if len(keywords) > MAX_KEYWORDS:
        fields["keywords"] = Text(N_("关键词最多 %(n)s 个"), n=MAX_KEYWORDS)
    elif any(len(k) > 50 for k in keywords):
        fields["keywords"] = Text(N_("每个关键词不能超过 50 个字"))
    if keywords:
        c["keywords"] = keywords
    code = (data.field_code or "").strip()
    values = _dedupe(data.field_values)
    if code and not FIELD_CODE_RE.match(code):
        fields["field_code"] = Text(N_("字段编码须以字母开头，只含字母、数字和下划线"))
    elif code and not values:
        fields["field_values"] = Text(N_("请填写该申请字段要匹配的取值（列表字段填选项的 key）"))
    elif values and not code:
        fields["field_code"] = Text(N_("填写了取值，请同时填写申请字段编码"))
    if code and values:
        c["field"] = {"code": code, "values": values}
    return c


# --------------------------------------------------------------------------- checks
@dataclass
class RuleCheck:
    never: list[str] = field(default_factory=list)  # why the rule can never match
    notes: list[str] = field(default_factory=list)  # parts of it that can never hold
    shadowed_by: list[RoutingRule] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        out = [Text(N_("永远不会匹配：%(reason)s"), reason=reason) for reason in self.never]
        out += [
            Text(
                N_("被优先级更高的规则“%(name)s”（优先级 %(priority)s）覆盖：凡是符合本规则的申请都会先被它分走"),
                name=r.name,
                priority=r.priority,
            )
            for r in self.shadowed_by
        ]
        return out + self.notes


@dataclass
class RuleRow:
    rule: RoutingRule
    check: RuleCheck


@dataclass
class _Svc:
    code: str
    category: str
    public: bool
    fields: dict[str, ServiceField]


def _catalog(session: Session) -> dict[str, _Svc]:
    services = session.scalars(
        select(Service)
        .where(Service.removed_at.is_(None))
        .options(selectinload(Service.fields), selectinload(Service.category))
    )
    return {
        s.code: _Svc(s.code, s.category.code, s.is_public, {f.code: f for f in s.fields}) for s in services
    }


def _check_conditions(c: dict[str, Any], cat: dict[str, _Svc]) -> tuple[list[str], list[str]]:
    never: list[str] = []
    notes: list[str] = []
    if not any(c.get(k) for k in CONDITION_KEYS):
        return [Text(N_("没有设置任何条件（没有条件的规则不会生效）"))], notes
    known = {
        "townships": set(reference.TOWNSHIPS),
        "industries": set(dict(reference.INDUSTRIES)),
        "sizes": set(dict(reference.SIZES)),
        "services": set(cat),
        "categories": set(CATEGORY_CODES),
    }
    for key in LIST_KEYS:
        values = [str(v) for v in c.get(key) or []]
        bad = [v for v in values if v not in known[key]]
        what = Text(
            N_("服务编码")
            if key == "services"
            else (N_("类别编码") if key == "categories" else CONDITION_LABELS[key])
        )
        if values and len(bad) == len(values):
            never.append(Text(N_("%(what)s%(values)s不存在"), what=what, values=bad))
        elif bad:
            notes.append(Text(N_("%(what)s%(values)s不存在，这部分条件不会生效"), what=what, values=bad))
    chosen = [cat[v] for v in c.get("services") or [] if v in cat]
    cats = [v for v in c.get("categories") or [] if v in CATEGORY_CODES]
    if chosen and c.get("categories") and cats and not any(s.category in cats for s in chosen):
        never.append(Text(N_("所选服务都不属于所选服务类别")))
    if chosen and not any(s.public for s in chosen) and not never:
        notes.append(Text(N_("所选服务目前都未发布，企业无法申请，暂时不会匹配")))
    f = c.get("field")
    if f:
        code = str(f.get("code") or "")
        wanted = [str(v) for v in f.get("values") or []]
        if not code:
            never.append(Text(N_("申请字段条件缺少字段编码")))
        elif not wanted:
            never.append(Text(N_("申请字段“%(code)s”没有填写要匹配的取值"), code=code))
        else:
            if chosen:
                candidates, scope = chosen, Text(N_("所选服务"))
            elif cats:
                candidates, scope = [s for s in cat.values() if s.category in cats], Text(N_("所选类别的服务"))
            else:
                candidates, scope = list(cat.values()), Text(N_("目录中的服务"))
            having = [s.fields[code] for s in candidates if code in s.fields]
            if not having:
                never.append(Text(N_("%(scope)s都没有申请字段“%(code)s”"), scope=scope, code=code))
            elif all(h.datatype in ServiceField.LIST_DATATYPES for h in having):
                keys = list(dict.fromkeys(v["key"] for h in having for v in h.values or []))
                bad = [v for v in wanted if v not in keys]
                if len(bad) == len(wanted):
                    never.append(
                        Text(N_("取值%(values)s不在字段“%(code)s”的选项中（可选：%(keys)s）"),
                             values=bad, code=code, keys=keys)
                    )
                elif bad:
                    notes.append(
                        Text(N_("取值%(values)s不在字段“%(code)s”的选项中（可选：%(keys)s），这些取值不会匹配"),
                             values=bad, code=code, keys=keys)
                    )
    return never, notes


def _covers(e: dict[str, Any], r: dict[str, Any], cat: dict[str, _Svc]) -> bool:
    """True if every request rule r matches is also matched by rule e (e is the same or broader)."""
    present = [k for k in CONDITION_KEYS if e.get(k)]
    if not present:
        return False
    for key in present:
        if key in LIST_KEYS:
            mine = set(r.get(key) or [])
            if mine and mine <= set(e[key]):
                continue
            if key == "categories" and not mine and r.get("services"):
                cats = {cat[s].category if s in cat else None for s in r["services"]}
                if None not in cats and cats <= set(e[key]):
                    continue
            return False
        elif key == "keywords":
            words = [k for k in r.get("keywords") or [] if k]
            if words and all(any(ek and ek in rk for ek in e["keywords"]) for rk in words):
                continue
            return False
        elif key == "field":
            ef, rf = e["field"] or {}, r.get("field") or {}
            rv = set(str(v) for v in rf.get("values") or [])
            if rf.get("code") == ef.get("code") and rv and rv <= set(str(v) for v in ef.get("values") or []):
                continue
            return False
    return True


def _ordered_rules(session: Session) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule)
            .options(selectinload(RoutingRule.bureau))
            .order_by(RoutingRule.priority, RoutingRule.id)
        )
    )


def check_rules(session: Session, rules: list[RoutingRule] | None = None) -> dict[int, RuleCheck]:
    """Warnings for every rule: can never match, partly dead, shadowed by an earlier active rule."""
    rules = _ordered_rules(session) if rules is None else rules
    cat = _catalog(session)
    checks: dict[int, RuleCheck] = {}
    for rule in rules:
        never, notes = _check_conditions(rule.conditions or {}, cat)
        checks[rule.id] = RuleCheck(never, notes)
    for i, rule in enumerate(rules):
        if checks[rule.id].never:
            continue
        for earlier in rules[:i]:
            if not earlier.active or checks[earlier.id].never:
                continue
            if (earlier.priority, earlier.id) >= (rule.priority, rule.id):
                continue
            if _covers(earlier.conditions or {}, rule.conditions or {}, cat):
                checks[rule.id].shadowed_by.append(earlier)
    return checks


def list_rules(session: Session) -> list[RuleRow]:
    """Every rule by priority (lower number first), with its warnings."""
    rules = _ordered_rules(session)
    checks = check_rules(session, rules)
    return [RuleRow(r, checks[r.id]) for r in rules]


def get_rule(session: Session, rule_id: int) -> RuleRow:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(Text(N_("没有这条分办规则")))
    return RuleRow(rule, check_rules(session).get(rule.id, RuleCheck()))


# --------------------------------------------------------------------------- changes
def save_rule(session: Session, actor: User, data: RuleInput, *, rule_id: int | None = None) -> RuleRow:
    """Create a rule (`rule_id` None) or change one; returns it with its warnings."""
    rule = get_rule(session, rule_id).rule if rule_id is not None else None
    fields: dict[str, str] = {}
    name = (data.name or "").strip()
    if not name:
        fields["name"] = Text(N_("请填写规则名称"))
    elif len(name) > 200:
        fields["name"] = Text(TOO_LONG, max=200)
    priority = data.priority if isinstance(data.priority, int) else None
    if priority is None and re.fullmatch(r"\s*\d+\s*", str(data.priority or "")):
        priority = int(str(data.priority))
    if priority is None or not 0 <= priority <= MAX_PRIORITY:
        fields["priority"] = Text(N_("优先级应为 0 到 %(max)s 的整数，数字越小越先匹配"), max=MAX_PRIORITY)
    bureau = session.scalar(select(Bureau).where(Bureau.code == (data.bureau or "")))
    if bureau is None:
        fields["bureau"] = Text(N_("请选择转至单位"))
    conditions = _conditions(data, fields)
    if fields:
        raise ValidationFailed(fields)
    # A missing or out-of-range priority and an unknown bureau were refused just above.
    assert priority is not None and bureau is not None
    before = rule_record(rule) if rule is not None else None
    if rule is None:
        rule = RoutingRule()
        session.add(rule)
    rule.name, rule.priority, rule.bureau, rule.active = name, priority, bureau, bool(data.active)
    rule.conditions = conditions
    after = {
        "name": name,
        "priority": priority,
        "bureau": bureau.code,
        "active": bool(data.active),
        "conditions": conditions,
    }
    if before != after:
        with atomic(session):
            session.flush()
            audit(
                session,
                actor,
                "create" if before is None else "update",
                "routing_rule",
                str(rule.id),
                before=before,
                after=after,
                note=name,
            )
    return get_rule(session, rule.id)


def set_rule_active(session: Session, actor: User, rule_id: int, active: bool) -> RoutingRule:
    rule = get_rule(session, rule_id).rule
    if rule.active == active:
        return rule
    with atomic(session):
        rule.active = active
        audit(
            session,
            actor,
            "activate" if active else "deactivate",
            "routing_rule",
            str(rule.id),
            before={"active": not active},
            after={"active": active},
            note=rule.name,
        )
    return rule


def delete_rule(session: Session, actor: User, rule_id: int) -> None:
    rule = get_rule(session, rule_id).rule
    used = session.scalar(select(func.count(Ticket.id)).where(Ticket.routing_rule_id == rule.id)) or 0
    if used:
        raise Conflict(
            Text(N_("已有 %(n)s 件办件按规则“%(name)s”分办，不能删除（办件要保留分办依据），请改为停用。"),
                 n=used, name=rule.name)
        )
    with atomic(session):
        audit(session, actor, "delete", "routing_rule", str(rule.id), before=rule_record(rule), note=rule.name)
        session.delete(rule)


def category_pairs(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the seven categories in display order, for the rule form."""
    return [(c.code, c.name) for c in session.scalars(select(Category).order_by(Category.position))]
