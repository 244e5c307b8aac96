"""What an admin reads is Chinese, not codes: the routing rules list names categories, bureaus and
services; the audit log shows each change as its label and the value before → after (names for
codes, words for flags, no JSON), while the stored rows keep the codes; request-field data types
are named (单选列表 …) on the admin pages, while the Open311 API keeps its codes."""
from __future__ import annotations

import json

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.extensions import db
from services.models import AuditLog, User
from tests.admin.conftest import audit_rows, post_form, service_form
from tests.helpers import make_staff

CODES = ("metrology", "quality", "certification", "testing", "singlevaluelist", "multivaluelist", "handler",
         "lead", "is_workday", "time_limit_days", "{", "}")


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.data, "html.parser")


def rule_form(**overrides) -> dict:
    data = {"name": "认证和检验归农业农村局", "priority": "10", "bureau": "agri", "active": "y",
            "categories": ["certification", "testing"], "keywords": "", "services": "JC-002, JL-001",
            "field_code": "mode", "field_values": "onsite"}
    data.update(overrides)
    return data


def entry_lines(entry) -> list[str]:
    return [li.get_text(" ", strip=True) for li in entry.select("ul.audit-changes li")]


def entries(admin_client) -> list:
    return soup(admin_client.get("/admin/audit")).select("li.audit-entry")


# --------------------------------------------------------------------------- routing rules
def test_rules_list_names_categories_services_and_fields(admin_client):
    assert post_form(admin_client, "/admin/rules/new", rule_form()).status_code == 302
    card = soup(admin_client.get("/admin/rules")).select_one("li.rule-card")
    shown = {dt.get_text(strip=True): dd.get_text(" ", strip=True)
             for dt, dd in zip(card.select("dt"), card.select("dd"))}
    assert shown["服务类别"] == "认证认可、检验检测"
    assert shown["服务"] == "农产品质量安全检测 JC-002 、汽车衡（地磅）检定 JL-001"
    assert shown["申请字段"] == "检定方式 = 现场检定"
    assert "转至 县农业农村局" in card.get_text()
    text = card.get_text(" ")
    assert "certification" not in text and "testing" not in text and "onsite" not in text


# --------------------------------------------------------------------------- audit log
def test_service_changes_read_as_labels_and_names(app, admin_client):
    post_form(admin_client, "/admin/services/new", service_form())
    response = post_form(admin_client, "/admin/services/JL-900", service_form(
        category="quality", time_limit_days="7", online=None, **{"fields-1-datatype": "multivaluelist"}))
    assert response.status_code == 302
    entry = entries(admin_client)[0]
    assert entry.p.get_text(" ", strip=True) == "修改服务事项 电子计价秤首次检定 JL-900"
    lines = entry_lines(entry)
    assert "服务类别 修改前 计量 → 修改后 质量管理" in lines
    assert "承诺时限 修改前 5 个工作日 → 修改后 7 个工作日" in lines
    assert "可网上申请 修改前 是 → 修改后 否" in lines
    assert ("申请字段“所在市场” 修改前 所在市场（单选列表；选项：兰江市场、新洲市场） → "
            "修改后 所在市场（多选列表；选项：兰江市场、新洲市场）") in lines
    for code in CODES:
        assert code not in " ".join(lines), code
    # the row keeps what the record held
    row = audit_rows(app, "service")[-1]
    assert row.detail["before"]["category"] == "metrology" and row.detail["after"]["category"] == "quality"
    assert row.detail["after"]["fields"][1]["datatype"] == "multivaluelist"


def test_a_new_service_lists_its_values_once(admin_client):
    post_form(admin_client, "/admin/services/new", service_form())
    entry = entries(admin_client)[0]
    assert entry.p.get_text(" ", strip=True).startswith("新增服务事项 电子计价秤首次检定 JL-900")
    lines = entry_lines(entry)
    assert "责任单位 县市场监管局" in lines and "服务类别 计量" in lines
    assert "申请字段“计价秤数量” 计价秤数量（数字；必填）" in lines
    assert "申请字段“所在市场” 所在市场（单选列表；选项：兰江市场、新洲市场）" in lines
    assert "→" not in entry.get_text()


def test_rule_user_and_holiday_changes_read_in_chinese(app, admin_client):
    post_form(admin_client, "/admin/rules/new", rule_form(services="", field_code="", field_values=""))
    with app.app_context():
        from services.models import RoutingRule

        rule_id = db.session.scalar(select(RoutingRule.id))
    post_form(admin_client, f"/admin/rules/{rule_id}", rule_form(
        categories=["certification"], industries=["A"], services="", field_code="", field_values="", bureau="amr"))
    make_staff(app, "zhang", "handler", "amr")
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "zhang"))
    post_form(admin_client, f"/admin/users/{user_id}",
              {"display_name": "张三", "email": "zhang@example.com", "role": "lead", "bureau": "amr"})
    post_form(admin_client, "/admin/holidays", {"day": "2026-06-15", "kind": "holiday", "note": ""})
    post_form(admin_client, "/admin/holidays", {"day": "2026-06-15", "kind": "workday", "note": "县庆调休"})
    holiday, _, user, rule, created = entries(admin_client)[:5]
    assert entry_lines(holiday) == [
        "这一天 修改前 放假（不计工作日） → 修改后 上班（调休补班，计工作日）",
        "说明 修改前 （空） → 修改后 县庆调休",
    ]
    assert "角色 修改前 办件人员 → 修改后 部门负责人" in entry_lines(user)
    assert entry_lines(rule) == [
        "转至单位 修改前 县农业农村局 → 修改后 县市场监管局",
        "条件：服务类别 修改前 认证认可、检验检测 → 修改后 认证认可",
        "条件：行业 修改前 （空） → 修改后 A 农、林、牧、渔业",
    ]
    assert "条件：服务类别 认证认可、检验检测" in entry_lines(created)
    page = " ".join(e.get_text(" ") for e in (holiday, user, rule, created))
    for code in CODES + ("agri", "amr", "industries", "categories"):
        assert code not in page, code


def test_unknown_keys_and_structures_fall_back_without_json(app, admin_client):
    with app.app_context():
        db.session.add(AuditLog(action="update", entity="service", entity_key="JL-001", detail={
            "before": {"mystery": {"depth": 1, "tags": ["a", "b"]}, "name": "旧名"},
            "after": {"mystery": {"depth": 2, "tags": ["a"]}, "name": "新名"}}))
        db.session.add(AuditLog(action="launch", entity="rocket", entity_key="X-1",
                                detail={"after": {"fuel": [{"kind": "H2"}]}}))
        db.session.commit()
    first, second = entries(admin_client)[:2]
    assert first.p.get_text(" ", strip=True).startswith("launchrocket X-1")
    assert entry_lines(first) == ["fuel kind：H2"]
    assert first.select_one("ul.audit-changes .code").get_text() == "fuel"
    assert entry_lines(second) == [
        "mystery 修改前 depth：1；tags：a、b → 修改后 depth：2；tags：a",
        "名称 修改前 旧名 → 修改后 新名",
    ]
    assert "{" not in first.get_text() + second.get_text()
    with app.app_context():  # nothing stored changes by reading it
        row = db.session.scalar(select(AuditLog).where(AuditLog.entity_key == "JL-001"))
        assert json.dumps(row.detail["after"]["mystery"]) == '{"depth": 2, "tags": ["a"]}'


# --------------------------------------------------------------------------- data types
def test_data_types_are_named_in_chinese_on_admin_pages(admin_client, client):
    edit = soup(admin_client.get("/admin/services/JL-001"))
    names = [o.get_text() for o in edit.select("#fields-0-datatype option")]
    assert names == ["单行文本", "多行文本", "数字", "日期", "单选列表", "多选列表"]
    assert [o["value"] for o in edit.select("#fields-0-datatype option")] == [
        "string", "text", "number", "datetime", "singlevaluelist", "multivaluelist"]
    assert edit.select_one("#fields-1-datatype option[selected]").get_text() == "单选列表"
    main_text = edit.select_one("main").get_text(" ")
    for code in ("singlevaluelist", "multivaluelist", "datetime", "string"):
        assert code not in main_text, code


def test_rule_tester_names_the_field_types(admin_client):
    response = post_form(admin_client, "/admin/rules/test", {"service": "JL-001", "township": "", "industry": "",
                                                             "size": "", "description": "", "attributes": ""})
    page = BeautifulSoup(response.data, "html.parser")
    reference = page.select_one("details.reference").get_text(" ", strip=True)
    assert "（单选列表）" in reference and "（数字）" in reference and "（日期）" in reference
    assert "singlevaluelist" not in reference and "number" not in reference


def test_open311_keeps_its_datatype_codes(client):
    response = client.get("/open311/v2/services/JL-001.json")
    assert response.status_code == 200
    datatypes = {a["code"]: a["datatype"] for a in response.get_json()["attributes"]}
    assert datatypes["mode"] == "singlevaluelist" and datatypes["capacity"] == "number"
