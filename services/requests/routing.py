"""Routing: which bureau handles each requested service, and why.

Rules are tried by priority (lower number first, then id). The first active rule whose
conditions all hold sends the item to its bureau; otherwise the service's responsible bureau
takes it. A request without a service (a free-text need) goes to the joint office for triage.
Every decision carries its reason, which is stored on the ticket and shown to staff.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.errors import ServiceError
from services.core.texts import N_
from services.models import Bureau, RoutingRule, Service

CONDITION_KEYS = ("townships", "industries", "sizes", "services", "categories", "keywords", "field")
#: The conditions as people read them (the admin's rule form, the rules list, the audit log).
CONDITION_LABELS: dict[str, str] = {
    "townships": N_("乡镇（街道）"),
    "industries": N_("行业"),
    "sizes": N_("企业规模"),
    "services": N_("服务"),
    "categories": N_("服务类别"),
    "keywords": N_("关键词"),
    "field": N_("申请字段"),
}


@dataclass
class Applicant:
    """What routing may look at about the enterprise and its request."""

    township: str = ""
    industry: str = ""
    size: str = ""
    description: str = ""


@dataclass
class Decision:
    bureau: Bureau
    rule: RoutingRule | None
    reason: str


def active_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))
                                .order_by(RoutingRule.priority, RoutingRule.id)))


def joint_office(session: Session) -> Bureau:
    bureau = session.scalar(select(Bureau).where(Bureau.joint_office.is_(True)).order_by(Bureau.id).limit(1))
    if bureau is None:
        raise ServiceError("系统尚未配置联席会议办公室，无法分办，请联系管理员")
    return bureau


def _texts(attributes: dict[str, Any]) -> Iterable[str]:
    for value in attributes.values():
        if isinstance(value, str):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def rule_matches(rule: RoutingRule, applicant: Applicant, service: Service | None,
                 attributes: dict[str, Any]) -> bool:
    return conditions_match(rule.conditions or {}, applicant, service, attributes)


def conditions_match(c: dict[str, Any], applicant: Applicant, service: Service | None,
                     attributes: dict[str, Any]) -> bool:
    """True if a rule with these conditions takes this request (a rule without any takes none)."""
    if not any(c.get(k) for k in CONDITION_KEYS):
        return False  # a rule without conditions would swallow everything: never matches
    if c.get("townships") and applicant.township not in c["townships"]:
        return False
    if c.get("industries") and applicant.industry not in c["industries"]:
        return False
    if c.get("sizes") and applicant.size not in c["sizes"]:
        return False
    if c.get("services") and (service is None or service.code not in c["services"]):
        return False
    if c.get("categories") and (service is None or service.category.code not in c["categories"]):
        return False
    if c.get("keywords"):
        haystack = " ".join([applicant.description, *_texts(attributes)])
        if not any(k and k in haystack for k in c["keywords"]):
            return False
    field = c.get("field")
    if field:
        value = attributes.get(field.get("code", ""))
        wanted = set(field.get("values") or [])
        got = set(value) if isinstance(value, list) else {value}
        if not wanted & {str(v) for v in got if v is not None}:
            return False
    return True


def route(session: Session, applicant: Applicant, service: Service | None, attributes: dict[str, Any],
          rules: list[RoutingRule] | None = None) -> Decision:
    rules = active_rules(session) if rules is None else rules
    for rule in rules:
        if rule_matches(rule, applicant, service, attributes):
            reason = f"按分办规则“{rule.name}”（优先级 {rule.priority}）转至{rule.bureau.short_name}"
            return Decision(rule.bureau, rule, reason)
    if service is None:
        office = joint_office(session)
        return Decision(office, None, "未指定具体服务，由联席会议办公室统筹分办")
    return Decision(service.bureau, None, f"服务“{service.name}”的责任单位为{service.bureau.short_name}（默认）")
