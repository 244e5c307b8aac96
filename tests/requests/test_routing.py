"""The routing engine: rules by priority, each kind of condition, the default, and triage."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from services.models import Bureau, RoutingRule, Service
from services.requests import routing


@pytest.fixture
def ctx(app):
    with app.app_context():
        s = db.session
        bureaus = {b.code: b for b in s.scalars(select(Bureau))}
        services = {x.code: x for x in s.scalars(select(Service))}
        yield s, bureaus, services


def add_rule(s, bureaus, name, bureau, conditions, priority=100, active=True):
    rule = RoutingRule(name=name, bureau=bureaus[bureau], conditions=conditions, priority=priority, active=active)
    s.add(rule)
    s.commit()
    return rule


def test_default_is_the_services_bureau(ctx):
    s, _, services = ctx
    d = routing.route(s, routing.Applicant(), services["RZ-001"], {})
    assert d.bureau.code == "agri" and d.rule is None and "默认" in d.reason


def test_need_without_service_goes_to_the_joint_office(ctx):
    s, _, _ = ctx
    d = routing.route(s, routing.Applicant(description="不知道找谁"), None, {})
    assert d.bureau.code == "joint-office" and "联席会议办公室" in d.reason


@pytest.mark.parametrize("conditions,applicant,attributes,matches", [
    ({"townships": ["梦溪镇"]}, routing.Applicant(township="梦溪镇"), {}, True),
    ({"townships": ["梦溪镇"]}, routing.Applicant(township="澧阳街道"), {}, False),
    ({"industries": ["A"]}, routing.Applicant(industry="A"), {}, True),
    ({"sizes": ["micro", "small"]}, routing.Applicant(size="medium"), {}, False),
    ({"services": ["JL-001"]}, routing.Applicant(), {}, True),
    ({"categories": ["testing"]}, routing.Applicant(), {}, False),
    ({"keywords": ["农残"]}, routing.Applicant(description="菜叶农残超标"), {}, True),
    ({"keywords": ["农残"]}, routing.Applicant(), {"note": "想测农残"}, True),
    ({"field": {"code": "mode", "values": ["lab"]}}, routing.Applicant(), {"mode": "lab"}, True),
    ({"field": {"code": "mode", "values": ["lab"]}}, routing.Applicant(), {"mode": "onsite"}, False),
    ({"field": {"code": "items", "values": ["pump"]}}, routing.Applicant(), {"items": ["scale", "pump"]}, True),
    ({"industries": ["A"], "services": ["JL-001"]}, routing.Applicant(industry="C"), {}, False),
    ({}, routing.Applicant(), {}, False),  # a rule without conditions never swallows everything
])
def test_each_condition(ctx, conditions, applicant, attributes, matches):
    s, bureaus, services = ctx
    add_rule(s, bureaus, "测试规则", "sti", conditions)
    d = routing.route(s, applicant, services["JL-001"], attributes)
    assert (d.bureau.code == "sti") is matches
    if matches:
        assert "测试规则" in d.reason and d.rule is not None


def test_priority_order_and_inactive_rules(ctx):
    s, bureaus, services = ctx
    add_rule(s, bureaus, "后", "commerce", {"services": ["JL-001"]}, priority=50)
    add_rule(s, bureaus, "先", "sti", {"services": ["JL-001"]}, priority=10)
    add_rule(s, bureaus, "停用", "agri", {"services": ["JL-001"]}, priority=1, active=False)
    d = routing.route(s, routing.Applicant(), services["JL-001"], {})
    assert d.bureau.code == "sti" and d.rule.name == "先"


def test_farm_certification_goes_to_agriculture(ctx):
    s, bureaus, services = ctx
    add_rule(s, bureaus, "农林牧渔企业的认证事项", "agri", {"categories": ["certification"], "industries": ["A"]})
    assert routing.route(s, routing.Applicant(industry="A"), services["RZ-001"], {}).bureau.code == "agri"
