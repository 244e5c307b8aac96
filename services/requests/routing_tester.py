"""Admin console: the routing-rule tester — "which bureau would this request go to, and why?"

It routes an imagined request with services.requests.routing.route and rule_matches, the code
a submission uses (conditions_match tries each condition of a rule on its own), with the request
fields checked as a submission checks them (services.requests.fields), and explains each active
rule's verdict. Nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.accounts import reference
from services.core.errors import ValidationFailed
from services.core.texts import N_, Text
from services.models import RoutingRule, Service
from services.requests import routing
from services.requests.fields import validate_attributes
from services.requests.routing_admin import CONDITION_KEYS, CONDITION_LABELS


@dataclass
class RouteQuestion:
    township: str = ""
    industry: str = ""
    size: str = ""
    service: str = ""
    description: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class TraceLine:
    rule: RoutingRule
    matched: bool
    reached: bool
    failed: list[str]


@dataclass
class RouteExplanation:
    decision: routing.Decision
    rule_name: str  # the deciding rule's name, or "默认"
    service: Service | None
    values: dict[str, Any]
    problems: dict[str, str]
    trace: list[TraceLine]
    notes: list[str]
    reason: str = ""  # decision.reason, as a Text when possible


def parse_attributes(text: str | None) -> dict[str, str]:
    """`code=value` a line (several values of a multi-choice field separated by commas)."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.replace("＝", "=").partition("=")
        if key.strip():
            out[key.strip()] = value.strip() if sep else ""
    return out


def _coerce(service: Service, raw: dict[str, str]) -> dict[str, Any]:
    types = {f.code: f.datatype for f in service.fields}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if types.get(key) == "multivaluelist":
            out[key] = [v.strip() for v in re.split(r"[,，、|]", value) if v.strip()]
        else:
            out[key] = value
    return out


def explain_route(session: Session, data: RouteQuestion) -> RouteExplanation:
    """Route an imagined request exactly as a submission would, and explain each rule's verdict."""
    fields: dict[str, str] = {}
    if data.township and data.township not in reference.TOWNSHIPS:
        fields["township"] = Text(N_("未知的乡镇（街道）"))
    if data.industry and data.industry not in dict(reference.INDUSTRIES):
        fields["industry"] = Text(N_("未知的行业"))
    if data.size and data.size not in dict(reference.SIZES):
        fields["size"] = Text(N_("未知的企业规模"))
    service = None
    if data.service:
        service = session.scalar(
            select(Service)
            .where(Service.code == data.service, Service.removed_at.is_(None))
            .options(
                selectinload(Service.fields), selectinload(Service.category), selectinload(Service.bureau)
            )
        )
        if service is None:
            fields["service"] = Text(N_("没有服务 %(code)s"), code=data.service)
    if fields:
        raise ValidationFailed(fields)
    notes: list[str] = []
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    if service is not None:
        values, problems = validate_attributes(service, _coerce(service, data.attributes or {}))
        if not service.is_public:
            notes.append(Text(N_("该服务未发布，企业目前无法申请")))
        elif not service.online:
            notes.append(Text(N_("该服务不能网上申请")))
    elif data.attributes:
        notes.append(Text(N_("没有选择服务，申请字段取值不参与分办")))
    applicant = routing.Applicant(data.township, data.industry, data.size, (data.description or "").strip())
    rules = routing.active_rules(session)
    decision = routing.route(session, applicant, service, values, rules)
    trace: list[TraceLine] = []
    reached = True
    for rule in rules:
        matched = routing.rule_matches(rule, applicant, service, values)
        c = rule.conditions or {}
        failed: list[str] = [
            Text(CONDITION_LABELS[k])
            for k in CONDITION_KEYS
            if c.get(k) and not routing.conditions_match({k: c[k]}, applicant, service, values)
        ]
        if not any(c.get(k) for k in CONDITION_KEYS):
            failed = [Text(N_("没有条件"))]
        trace.append(TraceLine(rule, matched, reached, failed))
        if matched:
            reached = False
    inactive = session.scalar(select(func.count(RoutingRule.id)).where(RoutingRule.active.is_(False))) or 0
    if inactive:
        notes.append(Text(N_("另有 %(n)s 条停用的规则不参与分办"), n=inactive))
    return RouteExplanation(
        decision,
        decision.rule.name if decision.rule else Text(N_("默认")),
        service,
        values,
        problems,
        trace,
        notes,
        _reason(decision, service),
    )


def _reason(decision: routing.Decision, service: Service | None) -> str:
    """decision.reason as a Text (services.requests.routing words it and stores it on tickets in Chinese;
    should the two wordings ever differ, routing's is shown as it is)."""
    rule = decision.rule
    if rule is not None:
        text = Text(
            N_("按分办规则“%(name)s”（优先级 %(priority)s）转至%(bureau)s"),
            name=rule.name,
            priority=rule.priority,
            bureau=rule.bureau.short_name,
        )
    elif service is None:
        text = Text(N_("未指定具体服务，由联席会议办公室统筹分办"))
    else:
        text = Text(
            N_("服务“%(name)s”的责任单位为%(bureau)s（默认）"), name=service.name, bureau=service.bureau.short_name
        )
    return text if text == decision.reason else decision.reason

