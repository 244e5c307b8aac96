"""Routing rules: editing, the never-matching and shadowed flags, the rule tester."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from services.models import Bureau, RoutingRule
from services.requests import routing_admin as admin_routing
from tests.admin.conftest import audit_rows, count, post_form
from tests.helpers import soup


def rule_form(**overrides) -> dict:
    data = {
        "name": "农残检测归农业农村局",
        "priority": "10",
        "bureau": "agri",
        "active": "y",
        "categories": ["testing"],
        "keywords": "农残，农药残留",
        "services": "",
        "field_code": "",
        "field_values": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def add_rule(app, name, conditions, priority=100, bureau="agri", active=True) -> int:
    with app.app_context():
        b = db.session.scalar(select(Bureau).where(Bureau.code == bureau))
        rule = RoutingRule(name=name, priority=priority, bureau=b, conditions=conditions, active=active)
        db.session.add(rule)
        db.session.commit()
        return rule.id


def card(page, name):
    for li in page.select("li.rule-card"):
        if li.select_one("h2 a").get_text() == name:
            return li
    raise AssertionError(f"no rule card {name}")


def test_create_edit_deactivate_and_delete_a_rule(app, admin_client):
    response = post_form(admin_client, "/admin/rules/new", rule_form())
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/rules")
    with app.app_context():
        rule = db.session.scalar(select(RoutingRule))
        rule_id = rule.id
        assert rule.conditions == {"categories": ["testing"], "keywords": ["农残", "农药残留"]}
        assert rule.bureau.code == "agri" and rule.priority == 10
    page = soup(admin_client.get("/admin/rules"))
    assert "农残检测归农业农村局" in page.get_text() and "warning" not in str(
        card(page, "农残检测归农业农村局")
    )

    edit = soup(admin_client.get(f"/admin/rules/{rule_id}"))
    assert edit.select_one("#name")["value"] == "农残检测归农业农村局"
    assert edit.select_one("input[name=categories][value=testing]").has_attr("checked")
    response = post_form(
        admin_client, f"/admin/rules/{rule_id}", rule_form(priority="5", townships=["梦溪镇"])
    )
    assert response.status_code == 302
    response = post_form(
        admin_client, "/admin/rules", {"active": "0"}, action=f"/admin/rules/{rule_id}/active"
    )
    assert response.status_code == 302
    with app.app_context():
        rule = db.session.get(RoutingRule, rule_id)
        assert (rule.priority, rule.active, rule.conditions["townships"]) == (5, False, ["梦溪镇"])
    response = post_form(admin_client, "/admin/rules", {}, action=f"/admin/rules/{rule_id}/delete")
    assert response.status_code == 302
    assert count(app, RoutingRule) == 0
    rows = audit_rows(app, "routing_rule")
    assert [r.action for r in rows] == ["create", "update", "deactivate", "delete"]
    assert rows[1].detail["before"]["priority"] == 10 and rows[1].detail["after"]["priority"] == 5


def test_rule_input_is_checked(app, admin_client):
    response = post_form(
        admin_client,
        "/admin/rules/new",
        rule_form(name="", priority="高", bureau="", townships=["火星镇"], field_code="mode"),
    )
    assert response.status_code == 422
    page = soup(response)
    for field in ("name", "priority", "bureau", "townships", "field_values"):
        assert page.select_one(f"#{field}-err") is not None, field
    assert count(app, RoutingRule) == 0 and audit_rows(app) == []


def test_never_matching_rules_are_flagged(app, admin_client):
    add_rule(app, "没有条件", {})
    add_rule(app, "未知服务", {"services": ["XX-999"]})
    add_rule(app, "未知类别", {"categories": ["astrology"]})
    add_rule(app, "字段不存在", {"services": ["JC-001"], "field": {"code": "capacity", "values": ["60"]}})
    add_rule(app, "选项不存在", {"services": ["JL-001"], "field": {"code": "mode", "values": ["remote"]}})
    fine = add_rule(
        app, "上门检定归农业", {"services": ["JL-001"], "field": {"code": "mode", "values": ["onsite"]}}
    )
    page = soup(admin_client.get("/admin/rules"))
    for name, why in (
        ("没有条件", "没有设置任何条件"),
        ("未知服务", "XX-999不存在"),
        ("未知类别", "astrology不存在"),
        ("字段不存在", "没有申请字段“capacity”"),
        ("选项不存在", "remote不在字段“mode”的选项中"),
    ):
        li = card(page, name)
        assert li.select_one(".badge-overdue").get_text() == "永不匹配", name
        assert why in li.select_one(".admin-warnings").get_text(), name
    assert card(page, "上门检定归农业").select_one(".admin-warnings") is None
    # the form shows the same warning
    form = soup(admin_client.get(f"/admin/rules/{fine - 1}"))
    assert "remote不在字段“mode”的选项中" in form.select_one(".admin-warnings").get_text()


def test_saving_a_rule_that_cannot_match_shows_the_warning_on_its_form(app, admin_client):
    response = post_form(
        admin_client,
        "/admin/rules/new",
        rule_form(categories=[], keywords="", services="XX-1"),
        follow_redirects=True,
    )
    page = soup(response)
    assert page.select_one("h1").get_text() == "编辑分办规则"
    assert "XX-1不存在" in page.select_one(".admin-warnings").get_text()


def test_shadowed_rules_are_flagged(app, admin_client):
    add_rule(app, "检测类农残", {"categories": ["testing"], "keywords": ["农残"]}, priority=10)
    add_rule(
        app,
        "农残检测更具体",
        {"categories": ["testing"], "keywords": ["农残检测"], "townships": ["梦溪镇"]},
        priority=20,
    )
    add_rule(app, "农产品检测服务", {"services": ["JC-002"], "keywords": ["农残"]}, priority=30)
    add_rule(app, "更宽的规则在后", {"categories": ["testing"]}, priority=40)
    add_rule(app, "停用的宽规则", {"categories": ["metrology"]}, priority=1, active=False)
    add_rule(app, "计量归农业", {"categories": ["metrology"], "sizes": ["micro"]}, priority=50)
    rows = {r.rule.name: r.check for r in _rows(app)}
    assert [r.name for r in rows["农残检测更具体"].shadowed_by] == ["检测类农残"]
    assert [r.name for r in rows["农产品检测服务"].shadowed_by] == [
        "检测类农残"
    ]  # JC-002 is a testing service
    assert rows["更宽的规则在后"].shadowed_by == []
    assert rows["计量归农业"].shadowed_by == []  # the broader rule is inactive
    assert rows["检测类农残"].warnings == []
    page = soup(admin_client.get("/admin/rules"))
    li = card(page, "农残检测更具体")
    assert li.select_one(".badge-soon").get_text() == "被覆盖"
    assert "检测类农残" in li.select_one(".admin-warnings").get_text()


def _rows(app):
    with app.app_context():
        rows = admin_routing.list_rules(db.session)
        for r in rows:
            _ = r.rule.name, [s.name for s in r.check.shadowed_by]
        return rows


def test_rule_tester_explains_the_decision(app, admin_client):
    add_rule(app, "农残检测归农业农村局", {"categories": ["testing"], "keywords": ["农残"]}, priority=10)
    add_rule(
        app,
        "上门检定归农业",
        {"services": ["JL-001"], "field": {"code": "mode", "values": ["onsite"]}},
        priority=20,
    )
    base = {"township": "澧阳街道", "industry": "food", "size": "small", "description": "", "attributes": ""}

    response = post_form(
        admin_client, "/admin/rules/test", {**base, "service": "JC-002", "description": "蔬菜农残检测"}
    )
    assert response.status_code == 200
    result = soup(response).select_one(".route-result")
    assert "县农业农村局" in result.select_one("h2").get_text()
    assert "农残检测归农业农村局" in result.get_text()

    response = post_form(
        admin_client, "/admin/rules/test", {**base, "service": "JC-001", "description": "产品检验"}
    )
    result = soup(response).select_one(".route-result")
    assert "市场监督管理局" in result.select_one("h2").get_text()
    assert "默认" in result.get_text()
    assert "关键词不符合" in result.select_one(".trace").get_text()

    response = post_form(
        admin_client,
        "/admin/rules/test",
        {**base, "service": "JL-001", "attributes": "capacity=60\nmode=onsite"},
    )
    result = soup(response).select_one(".route-result")
    assert "上门检定归农业" in result.get_text() and "县农业农村局" in result.select_one("h2").get_text()
    response = post_form(
        admin_client,
        "/admin/rules/test",
        {**base, "service": "JL-001", "attributes": "capacity=60\nmode=lab"},
    )
    assert "默认" in soup(response).select_one(".route-result").get_text()

    # no service: the joint office triages
    response = post_form(
        admin_client, "/admin/rules/test", {**base, "service": "", "description": "想了解质量认证"}
    )
    assert "联席会议办公室" in soup(response).select_one(".route-result h2").get_text()

    response = post_form(admin_client, "/admin/rules/test", {**base, "service": "NOPE"})
    assert response.status_code == 422
    assert audit_rows(app) == []  # testing changes nothing
