"""The admin console in English: headings, labels, hints, buttons, validation messages and
flash messages come from the translation catalog, and so do the labels and messages services/
supplies (roles, statuses, data types, condition and audit labels, rule warnings, routing-test
notes, refusals), translated when the page is shown. Data (service, bureau and category names from
the catalog, township names, what people typed) stays Chinese, so the checks look at the interface
elements, not at every word."""

from __future__ import annotations

import copy
import re
from datetime import date

import pytest

from services.tickets import workdays
from tests.admin.conftest import post_form
from tests.helpers import make_staff, soup

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
    for el in ui.select(", ".join(("option", "ul.choices") + data)):  # choices: also data (names, townships)
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
        "Accounts", "Holidays", "Audit log", "Local mailbox",
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
    assert texts(main, "ul.audit-changes .audit-field") == ["Date", "This day is", "Description"]
    assert texts(main, "ul.audit-changes .audit-values") == ["2026-06-15", "A holiday (not a working day)",
                                                             "County day"]


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


# --------------------------------------------------------------------------- labels and messages from services/
@pytest.fixture
def uncovered(monkeypatch):
    """No year is in the official calendar: the admin pages warn about this year and the next."""
    monkeypatch.setattr(workdays, "covered_years", lambda: range(2004, 2005))


def options(main, selector: str) -> list[str]:
    return [o.get_text(strip=True) for o in main.select(f"{selector} option") if o.get("value")]


def test_home_labels_and_calendar_warning_in_english(app, en, uncovered):
    make_staff(app, "zhang", "handler", "amr")
    post_form(en, "/admin/holidays", {"day": "2026-06-15", "kind": "workday", "note": ""})
    main = english(en, "/admin/")
    warnings = texts(main, ".notice")
    assert warnings and all(w.startswith("The public holidays for ") for w in warnings)
    assert "counted as Monday to Friday" in warnings[0] and "年" not in " ".join(warnings)
    tile = main.select_one("a[href='/admin/users'] .tile-count").get_text(" ", strip=True)
    assert tile == "Enterprise 0 · Handler 1 · Bureau lead 0 · Joint Office supervisor 0 · Administrator 1"
    recent = texts(main, ".audit-list li")
    assert any("Holiday adjustment created 2026-06-15" in r for r in recent), recent


def test_users_roles_and_refusals_in_english(app, en):
    make_staff(app, "zhang", "handler", "amr")
    main = english(en, "/admin/users")
    assert options(main, "#role") == [
        "Enterprise", "Handler", "Bureau lead", "Joint Office supervisor", "Administrator"
    ]
    assert texts(main, "tbody td:nth-of-type(1)") == ["Administrator", "Handler"]
    main = english(en, "/admin/users?bureau=nowhere", status=400)
    assert texts(main, ".notice") == ["There is no bureau nowhere"]

    main = english(en, "/admin/users/new")
    assert options(main, "#role") == ["Handler", "Bureau lead", "Joint Office supervisor", "Administrator"]
    response = post_form(en, "/admin/users/new", {"username": "lisi", "role": "", "password": "passw0rd-ok",
                                                  "confirm": "passw0rd-ok"})
    assert response.status_code == 422
    assert soup(response).select_one("#role-err").get_text() == (
        "Please choose a role: handler, bureau lead, Joint Office supervisor or administrator"
    )
    response = post_form(en, "/admin/users/new", {"username": "lisi", "role": "handler", "bureau": "amr",
                                                  "password": "passw0rd-ok", "confirm": "passw0rd-ok"})
    assert response.status_code == 302
    assert texts(soup(en.get(response.headers["Location"])), ".flash")[0].startswith("Account lisi (Handler) created.")

    user_page = soup(en.get("/admin/users")).select_one("tbody th a[href]")["href"]  # the admin comes first
    main = english(en, user_page, data=("h1",))
    assert main.select_one(".key-facts dd").get_text(strip=True) == "Administrator"
    response = post_form(en, user_page, {"active": "0"}, action=f"{user_page}/active", follow_redirects=True)
    assert texts(soup(response), ".flash") == ["You cannot deactivate your own account"]


def test_services_statuses_data_types_and_refusals_in_english(en):
    main = english(en, "/admin/services")
    assert options(main, "#status") == ["Published", "Unpublished", "Removed from the catalog"]
    assert set(texts(main, "tbody .status")) == {"Published"}
    main = english(en, "/admin/services?category=astrology", status=400)
    assert texts(main, ".notice") == ["Unknown category astrology"]

    main = english(en, "/admin/services/JL-001", data=("h1",))
    assert main.select_one(".admin-status-box .status").get_text(strip=True) == "Published"
    assert options(main, "#fields-0-datatype") == [
        "Single line of text", "Several lines of text", "Number", "Date", "Single-choice list",
        "Multiple-choice list",
    ]
    assert main.select_one("#fields-1-datatype option[selected]").get_text() == "Single-choice list"

    main = english(en, "/admin/services/new")
    assert main.select_one("#fields-0-datatype option[selected]").get_text() == "Single line of text"
    data = {"code": "JL-001", "name": "x", "category": "metrology", "bureau": "amr"}
    response = post_form(en, "/admin/services/new", data)
    assert response.status_code == 422
    assert soup(response).select_one("#code-err").get_text() == (
        "Service code JL-001 is already in use; please choose another"
    )  # the catalog's own checks (e.g. required fields) answer in Chinese: services/catalog.py


RULE_WARNINGS = {
    "Unknown service": {"services": "XX-999"},
    "Field missing": {"services": "JC-001", "field_code": "capacity", "field_values": "60"},
    "Shadowed": {"categories": ["testing"], "keywords": "pesticide residue", "priority": "20"},
    "Food": {"industries": ["food", "C"], "sizes": ["small"], "categories": ["testing"]},
}


def test_rule_conditions_and_warnings_in_english(en):
    assert post_form(en, "/admin/rules/new", RULE).status_code == 302
    for name, changes in RULE_WARNINGS.items():
        data = {**RULE, "categories": [], "keywords": "", "name": name, "priority": "30", **changes}
        response = post_form(en, "/admin/rules/new", data)
        assert response.status_code == 302, name
    main = english(en, "/admin/rules", data=("h2",))
    cards = {li.select_one("h2 a").get_text(): li for li in main.select("li.rule-card")}
    assert texts(cards[RULE["name"]], "dl.conditions dt") == ["Category", "Keywords"]
    conditions = cards["Food"].select_one("dl.conditions")
    assert texts(conditions, "dt") == ["Industry", "Enterprise size", "Category"]
    assert texts(conditions, "dd")[:2] == [
        "Food and agricultural product processing, C Manufacturing", "Small enterprise"
    ]
    assert texts(cards["Unknown service"], ".admin-warnings li") == ["Never matches: Service code XX-999 not found"]
    assert texts(cards["Field missing"], ".admin-warnings li") == [
        "Never matches: none of the chosen services has a request field “capacity”"
    ]
    assert texts(cards["Shadowed"], ".admin-warnings li") == [
        f"Overridden by the higher-priority rule “{RULE['name']}” (priority 10): that rule takes every request "
        "that fits this one first"
    ]

    rule_path = cards["Unknown service"].select_one("h2 a")["href"]
    main = english(en, rule_path)
    assert texts(main, ".admin-warnings li") == ["Never matches: Service code XX-999 not found"]
    industries = texts(main, "#industries label")
    assert industries[0] == "Cosmetics" and "A Agriculture, forestry, animal husbandry and fishery" in industries
    assert texts(main, "#sizes label")[-1] == "Individual business"

    response = post_form(en, "/admin/rules/new", {**RULE, "priority": "x", "industries": ["astrology"]})
    assert response.status_code == 422
    page = soup(response)
    assert page.select_one("#priority-err").get_text() == (
        "The priority must be a whole number from 0 to 9999; lower numbers are checked first"
    )
    assert page.select_one("#industries-err").get_text() == "Industry not recognised: astrology"


def test_rule_test_explanation_in_english(en):
    post_form(en, "/admin/rules/new", RULE)
    post_form(en, "/admin/rules/new", {**RULE, "name": "Off", "active": "", "keywords": "x"})
    main = english(en, "/admin/rules/test")
    assert options(main, "#industry")[0] == "Cosmetics" and options(main, "#size")[0] == "Micro enterprise"

    response = post_form(en, "/admin/rules/test", {"service": "JC-001", "description": "pesticide"})
    result = soup(response).select_one(".route-result")
    assert result.select_one(".routing-reason").get_text() == (
        f"Routed to 县农业农村局 by the routing rule “{RULE['name']}” (priority 10)"
    )
    assert texts(result, "p.muted") == ["1 deactivated rule(s) play no part in routing"]

    response = post_form(en, "/admin/rules/test", {"service": "ZL-002", "description": "", "attributes": "a=1"})
    result = soup(response).select_one(".route-result")
    assert "Basis: Default" in result.get_text(" ", strip=True)
    assert result.select_one(".routing-reason").get_text() == (
        "The responsible bureau of the service “质量管理体系导入辅导” is 县市场监管局 (default)"
    )
    assert "This service cannot be applied for online" in texts(result, "p.muted")
    assert "no match: Category, Keywords not met" in result.select_one(".trace").get_text(" ", strip=True)

    response = post_form(en, "/admin/rules/test", {"service": "", "attributes": "a=1"})
    result = soup(response).select_one(".route-result")
    assert result.select_one(".routing-reason").get_text() == (
        "No particular service was chosen: the Joint Office routes it"
    )
    assert "No service is chosen, so request field values play no part in routing" in texts(result, "p.muted")


def test_bundle_warnings_and_refusals_in_english(en):
    post_form(en, "/admin/bundles/new", BUNDLE)
    post_form(en, "/admin/services/JC-001", {"published": "0"}, action="/admin/services/JC-001/publish")
    main = english(en, "/admin/bundles", data=(".flash",))
    assert texts(main, ".admin-warnings li") == [
        "These services are unpublished or removed from the catalog, so enterprises cannot apply for this "
        "bundle: JC-001"
    ]
    main = english(en, "/admin/bundles/start-up", data=("h1",))
    assert texts(main, ".admin-warnings li")[0].startswith("These services are unpublished")

    response = post_form(en, "/admin/bundles/new", {**BUNDLE, "code": "b2", "services": "BZ-001\nBZ-001\nZL-002"})
    assert soup(response).select_one("#services-err").get_text() == "Services listed more than once: BZ-001"
    response = post_form(en, "/admin/bundles/new", {**BUNDLE, "code": "b2", "services": "BZ-001\nZL-002"})
    assert soup(response).select_one("#services-err").get_text() == (
        "A published bundle may only include published services that can be applied for online; ZL-002 do not "
        "qualify. You can save it as unpublished first."
    )


def test_bureau_refusal_in_english(en):
    response = post_form(en, "/admin/bureaus/commerce", {}, action="/admin/bureaus/commerce/delete",
                         follow_redirects=True)
    assert texts(soup(response), ".flash") == [
        "“澧县商务局” cannot be deleted: 1 service(s) (PP-001) still belong to this bureau: unpublish those "
        "services or assign them to another bureau first."
    ]


def changes(entry) -> list[list[str]]:
    """Each change as [label, value] (a new or deleted record) or [label, before, after]."""
    return [[li.select_one(".audit-field").get_text(" ", strip=True),
             *[v.get_text(" ", strip=True) for v in li.select(".audit-before, .audit-after")]]
            for li in entry.select("ul.audit-changes li")]


def test_audit_log_labels_and_values_in_english(app, en):
    post_form(en, "/admin/holidays", {"day": "2026-06-15", "kind": "holiday", "note": ""})
    post_form(en, "/admin/holidays", {"day": "2026-06-15", "kind": "workday", "note": "County day"})
    post_form(en, "/admin/rules/new", {**RULE, "industries": ["food"]})
    make_staff(app, "zhang", "handler", "amr")
    user_page = soup(en.get("/admin/users?q=zhang")).select_one("tbody th a[href]")["href"]
    post_form(en, user_page, {"pw-password": "n3w-passw0rd", "pw-confirm": "n3w-passw0rd"},
              action=f"{user_page}/password")

    main = english(en, "/admin/audit")
    assert options(main, "#entity") == [
        "Bureau", "Category", "Service", "Routing rule", "Bundle", "Account", "Holiday adjustment"
    ]
    entries = main.select("li.audit-entry")
    headings = [e.p.get_text(" ", strip=True) for e in entries]
    assert headings[0] == "Account password reset zhang · Password reset by an administrator"
    assert headings[1].startswith(f"Routing rule created 1 · {RULE['name']}")
    assert headings[2:] == ["Holiday adjustment changed 2026-06-15", "Holiday adjustment created 2026-06-15"]
    rule_rows = changes(entries[1])
    assert ["Active", "Yes"] in rule_rows and ["Name", RULE["name"]] in rule_rows
    assert changes(entries[2]) == [
        ["This day is", "Before A holiday (not a working day)", "After A working day (make-up working day)"],
        ["Description", "Before (empty)", "After County day"],
    ]
    main = english(en, "/admin/audit?entity=routing_rule")
    assert main.select_one("#entity option[selected]").get_text() == "Routing rule"


def test_holiday_page_warning_in_english(en, uncovered):
    main = english(en, "/admin/holidays?year=2026")
    assert texts(main, ".notice") == [
        "The public holidays for 2026 are not included yet, so working days are counted as Monday to Friday. "
        "An administrator should add them in the holiday calendar."
    ]
    response = post_form(en, "/admin/holidays", {"day": "1999-01-01", "kind": "holiday"})
    assert soup(response).select_one("#day-err").get_text() == "The date must be in the years 2000 to 2100"


def test_services_labels_stay_chinese_by_default(app, admin_client, uncovered):
    """Without a language choice the same labels and messages are the Chinese of services/."""
    post_form(admin_client, "/admin/rules/new", {**RULE, "categories": [], "keywords": "", "services": "XX-999"})
    post_form(admin_client, "/admin/holidays", {"day": "2026-06-15", "kind": "holiday", "note": ""})
    home = soup(admin_client.get("/admin/")).select_one("main")
    assert workdays.uncovered_message(date.today().year + 1) in home.get_text()
    assert "管理员 1" in home.get_text()
    assert "新增节假日调整 2026-06-15" in home.select_one(".audit-list").get_text(" ", strip=True)
    assert options(soup(admin_client.get("/admin/users/new")), "#role")[0] == "办件人员"
    assert options(soup(admin_client.get("/admin/services")), "#status") == ["已发布", "未发布", "已移出目录"]
    edit = soup(admin_client.get("/admin/services/JL-001"))
    assert options(edit, "#fields-0-datatype")[0] == "单行文本"
    rules = soup(admin_client.get("/admin/rules"))
    assert texts(rules, ".admin-warnings li") == ["永远不会匹配：服务编码XX-999不存在"]
    assert texts(soup(admin_client.get("/admin/rules/test")), "#size option")[1] == "微型企业"
    audit = soup(admin_client.get("/admin/audit")).select_one("li.audit-entry")
    assert audit.select("ul.audit-changes li")[1].get_text(" ", strip=True) == "这一天 放假（不计工作日）"
    assert audit.select_one("ul.audit-changes li:last-child .audit-values").get_text(strip=True) == "（空）"
    response = post_form(admin_client, "/admin/bundles/new", {**BUNDLE, "services": "BZ-001\nBZ-001"})
    assert soup(response).select_one("#services-err").get_text() == "服务重复：BZ-001"


def test_categories_are_named_in_the_page_language(admin_client):
    admin_client.get("/lang/en")
    page = soup(admin_client.get("/admin/services"))
    assert "Metrology" in [o.get_text() for o in page.select("select[name=category] option")]
    assert "计量服务" not in page.select_one("select[name=category]").get_text()
