"""The admin console in English: headings, labels, hints, buttons, validation messages and
flash messages come from the translation catalog. Data (service, bureau and category names
from the catalog) stays Chinese, and so do the labels that services/ supplies (roles, statuses,
condition and audit labels), so the checks look at the interface elements, not at every word."""

from __future__ import annotations

import copy
import re

import pytest

from tests.admin.conftest import post_form
from tests.helpers import soup

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")

# Interface elements: everything here is text of the console itself, never data.
UI = (
    "h1, h2, h3, legend, label, button, th[scope=col], summary, .hint, .lead, .empty, "
    ".result-count, .admin-nav, a.button, .field-label, .tile-name, .flash, .form-error-summary"
)

# Chinese interface words that must not be left on an English page (none of them is data or a
# services/ label in the seeded catalog).
FORMER_UI = (
    "管理后台", "保存", "筛选", "返回", "请选择", "新增服务", "新增规则", "新增套餐", "编辑",
    "请修改以下内容", "还没有", "没有符合条件", "个账号", "条有警告", "上移", "下移",
    "添加一个申请字段", "申请字段（", "办理渠道", "时限与收费", "基本信息", "重设密码",
    "测试分办", "逐条比对", "新增或修改一天", "调整为", "修改前", "修改后", "共 ", "第 ",
)

RULE = {
    "name": "Pesticide residue to agriculture",
    "priority": "10",
    "bureau": "agri",
    "active": "y",
    "categories": ["testing"],
    "keywords": "pesticide",
    "services": "",
    "field_code": "",
    "field_values": "",
}
BUNDLE = {
    "code": "start-up",
    "name": "Start-up bundle",
    "description": "",
    "published": "y",
    "services": "BZ-001\nJC-001",
}


@pytest.fixture
def en(admin_client):
    admin_client.get("/lang/en")
    return admin_client


def english(client, url: str, status: int = 200, data: tuple[str, ...] = ()):
    """The page's <main>, after checking it is an English page whose interface text has no CJK
    (`data`: selectors of interface elements that show data, such as a heading with a name)."""
    response = client.get(url)
    assert response.status_code == status, url
    page = soup(response)
    assert page.html["lang"] == "en"
    main = page.select_one("main")
    text = main.get_text(" ", strip=True)
    for word in FORMER_UI:
        assert word not in text, f"{url}: {word!r} left in Chinese"
    ui = copy.copy(main)
    for el in ui.select(", ".join(("option", "ul.choices") + data)):  # choices: data or services/ labels
        el.decompose()
    leftovers = [el.get_text(" ", strip=True) for el in ui.select(UI) if CJK.search(el.get_text())]
    assert not leftovers, f"{url}: Chinese interface text {leftovers}"
    return main


def texts(main, selector: str) -> list[str]:
    return [el.get_text(" ", strip=True) for el in main.select(selector)]


def test_home_in_english(en):
    main = english(en, "/admin/")
    assert main.h1.get_text(strip=True) == "Administration"
    assert texts(main, ".admin-nav a") == [
        "Overview", "Bureaus", "Categories", "Services", "Routing rules", "Routing test", "Bundles",
        "Accounts", "Holidays", "Audit log",
    ]
    assert "Recent changes" in texts(main, "h2")
    assert "Days adjusted this year: 0" in main.get_text()


def test_services_list_and_forms_in_english(en):
    main = english(en, "/admin/services")
    assert main.h1.get_text(strip=True) == "Services"
    assert texts(main, "th[scope=col]") == ["Service", "Category", "Responsible bureau", "Status"]
    assert "New service" in texts(main, "a.button")
    assert main.select_one(".result-count").get_text(strip=True) == "Services: 11"
    assert "Filter" in texts(main, "button")

    main = english(en, "/admin/services/new")
    assert main.h1.get_text(strip=True) == "New service"
    legends = texts(main, "legend")
    for legend in ("Basic information", "Service guide", "Time limits and fees", "Where and how to apply",
                   "Request fields (filled in by enterprises applying online)", "Request field 1"):
        assert legend in legends
    labels = texts(main, "label")
    for label in ("Service name", "Promised time limit (working days)", "Field code", "Data type"):
        assert label in labels
    assert "Add a request field" in texts(main, "button")
    assert main.select_one("#category option").get_text() == "Please choose"

    main = english(en, "/admin/services/JL-001", data=("h1",))
    assert main.h1.get_text(strip=True).startswith("Edit service: ")
    assert "Unpublish (hide from the public)" in texts(main, "button")
    assert "Delete this service" in texts(main, "button")


def test_service_form_row_note_and_errors_in_english(en):
    response = post_form(en, "/admin/services/new", {"code": "JL-901", "field_op": "add"})
    assert "Request field 1 added. Fill it in, then save." in soup(response).get_text()
    response = post_form(en, "/admin/services/new", {"code": "JL-901", "name": "xyz"})
    assert response.status_code == 422
    summary = soup(response).select_one("#error-summary")
    assert summary.h2.get_text(strip=True) == "Please correct the following and submit again"
    assert "Category: " in summary.get_text()  # the message itself comes from services/


def test_rules_and_rule_form_in_english(en):
    response = post_form(en, "/admin/rules/new", RULE)
    assert response.status_code == 302
    main = english(en, "/admin/rules")
    assert main.h1.get_text(strip=True) == "Routing rules"
    assert "Routing rule “Pesticide residue to agriculture” saved." in texts(main, ".flash")
    card = main.select_one("li.rule-card")
    assert "Priority 10 · Routes to" in card.get_text(" ", strip=True)
    assert texts(card, "button") == ["Deactivate"] and texts(card, ".button-row a") == ["Edit"]

    main = english(en, "/admin/rules/new")
    assert main.h1.get_text(strip=True) == "New routing rule"
    assert texts(main, "legend")[:2] == [
        "Rule",
        "Conditions (every condition filled in must match; within one condition, matching any of the "
        "chosen items is enough)",
    ]
    assert "Enterprise size" in texts(main, "legend") and "Service code reference" in texts(main, "summary")

    rule_path = card.select_one("h2 a")["href"]
    response = post_form(en, "/admin/rules", {"active": "0"}, action=f"{rule_path}/active")
    assert response.status_code == 302
    main = english(en, "/admin/rules")
    assert texts(main, ".flash") == ["Routing rule “Pesticide residue to agriculture” deactivated."]
    assert "Deactivated" in texts(main, ".status") and texts(main, "li.rule-card button") == ["Activate"]


def test_rule_edit_and_test_pages_in_english(en):
    post_form(en, "/admin/rules/new", RULE)
    rule_path = soup(en.get("/admin/rules")).select_one("li.rule-card h2 a")["href"]
    main = english(en, rule_path)
    assert main.h1.get_text(strip=True) == "Edit routing rule"
    assert "Delete this rule" in texts(main, "button")

    main = english(en, "/admin/rules/test")
    assert main.h1.get_text(strip=True) == "Routing test"
    assert main.select_one("#township option").get_text() == "Any"
    response = post_form(en, "/admin/rules/test", {"service": "JC-001", "description": "pesticide"})
    result = soup(response).select_one(".route-result")
    assert result.h2.get_text(strip=True).startswith("Result: routed to ")
    assert "routing rule “Pesticide residue to agriculture”" in result.get_text()
    assert "matches, applied" in result.get_text()


def test_bundles_in_english_with_flash(en):
    response = post_form(en, "/admin/bundles/new", BUNDLE)
    assert response.status_code == 302
    main = english(en, "/admin/bundles")
    assert main.h1.get_text(strip=True) == "Bundles"
    assert texts(main, ".flash") == ["Bundle “Start-up bundle” added."]
    assert "New bundle" in texts(main, "a.button")
    assert "Requests so far: 0" in main.select_one(".request-card").get_text()

    main = english(en, "/admin/bundles/start-up")
    assert main.h1.get_text(strip=True) == "Edit bundle: Start-up bundle"
    assert texts(main, "legend") == ["Bundle", "Services included"]


def test_users_in_english(en):
    main = english(en, "/admin/users")
    assert main.h1.get_text(strip=True) == "Accounts"
    assert texts(main, "th[scope=col]") == ["Account", "Role", "Bureau / enterprise", "Status"]
    assert main.select_one(".result-count").get_text(strip=True) == "Accounts: 1"
    assert "Active" in main.select_one("tbody").get_text()

    main = english(en, "/admin/users/new")
    assert main.h1.get_text(strip=True) == "New staff account"
    assert main.select_one("#role option").get_text() == "Please choose"
    assert main.select_one("#bureau option").get_text() == "None"
    response = post_form(en, "/admin/users/new", {"username": "", "password": "", "confirm": "x"})
    assert response.status_code == 422
    summary = soup(response).select_one("#error-summary").get_text()
    assert "Username (for logging in): Please enter a username" in summary
    assert "Confirm password: The two passwords do not match" in summary


def test_holidays_and_audit_in_english_with_flash(en):
    holiday = {"day": "2026-06-15", "kind": "holiday", "note": "County day"}
    response = post_form(en, "/admin/holidays", holiday)
    assert response.status_code == 302
    main = english(en, "/admin/holidays?year=2026")
    assert main.h1.get_text(strip=True) == "Holiday calendar"
    assert texts(main, ".flash") == ["2026-06-15 set as a holiday."]
    assert texts(main, "th[scope=col]") == ["Date", "Changed to", "Description", "Action"]
    assert "Holiday" in main.select_one("tbody").get_text()
    assert texts(main, "#kind label") == [
        "A holiday (not a working day)",
        "A working day (make-up working day)",
    ]

    response = post_form(en, "/admin/holidays", {"day": "2026-06-15", "note": "x" * 101})
    assert "Description: At most 100 characters" in soup(response).select_one("#error-summary").get_text()

    main = english(en, "/admin/audit")
    assert main.h1.get_text(strip=True) == "Audit log"
    assert main.select_one(".result-count").get_text(strip=True) == "Entries: 1"
    assert texts(main, "thead th") == ["Item", "Before", "After"]


def test_chinese_stays_the_default(admin_client):
    page = soup(admin_client.get("/admin/"))
    assert page.html["lang"] == "zh-CN"
    assert page.select_one("main h1").get_text(strip=True) == "管理后台"
    assert soup(admin_client.get("/admin/holidays")).select_one("main h1").get_text(strip=True) == "节假日设置"
    response = post_form(admin_client, "/admin/users/new", {"username": "", "password": "", "confirm": "x"})
    summary = soup(response).select_one("#error-summary").get_text()
    assert "用户名（登录名）：请填写用户名" in summary and "初始密码：请设置初始密码" in summary
    response = post_form(admin_client, "/admin/holidays", {"day": "2026-06-15", "note": "x" * 101})
    assert "说明：不能超过 100 个字" in soup(response).select_one("#error-summary").get_text()
