"""An administrator's change reaching an enterprise, a handler and the dashboard, in the browser.

The admin adds a service with two request fields in the console and a routing rule that sends it
to 县科技局 (checked in 分办测试); an enterprise finds the service by searching, applies and sees
the preview name 澧县科学技术局; the 县科技局 handler finds the ticket in the queue with the rule
as 分办依据; the dashboard's by-bureau table counts one more ticket for 县科技局.

This module runs on its own live server (a private copy of the bundled catalog): the service,
the routing rule and the ticket it adds would otherwise be visible to the other browser tests,
and test_enterprise_journey expects a database without routing rules.
"""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from tests import databases
from tests.conftest import make_app

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("device", ["desktop"])]

PASSWORD = "passw0rd-ok"
ADMIN = "admin-journey"
ADMIN_NAME = "管理员甲"
SUPERVISOR = "sup-journey"
SUPERVISOR_NAME = "督办员乙"
HANDLER = "sti-journey-h"
HANDLER_NAME = "孙办件"
COMPANY = "澧县澧州中药饮片有限公司"
CONTACT = "钱芳"

CODE = "ZL-901"
NAME = "中药饮片炮制工艺质量诊断"
RULE = "中药饮片质量诊断转科技局"
STI_FULL = "澧县科学技术局"  # services/data/catalog.json: bureau "sti"
STI_SHORT = "县科技局"
HERB = "酒炙黄芪"


def journey_uscc() -> str:
    """A valid 统一社会信用代码 used by no other test (澧县 430723, computed check character)."""
    from services.accounts.uscc import check_character

    first17 = "91430723MA4LXJ7Q2"
    return first17 + check_character(first17)


# --------------------------------------------------------------------------- a private live server
@pytest.fixture(scope="module")
def _server(tmp_path_factory, bundled_template):
    """(base URL, Flask app) of a live server on a private copy of the bundled catalog."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    target = tmp_path_factory.mktemp("admin-journey") / "instance"
    instance, database_uri, database_name = bundled_template.copy(target)
    app = make_app(instance, database_uri)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server-admin-journey", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["portal.db"].engine.dispose()
        if database_name:
            databases.drop(database_name)
        # Flask-Limiter keeps one in-memory store for every app in the process (the Limiter in
        # portal.extensions is global) and counts logins per address, 10 a minute: this module's
        # four logins from 127.0.0.1 must not count against the browser tests that follow.
        from portal.extensions import limiter

        limiter.reset()


@pytest.fixture(scope="module")
def live_server(_server) -> str:
    """Overrides conftest's shared server for this module (the `context` fixture uses it)."""
    return _server[0]


@pytest.fixture(scope="module")
def live_app(_server):
    return _server[1]


@pytest.fixture(scope="module")
def people(live_app) -> dict[str, str]:
    """The admin, a supervisor, an enterprise and a 县科技局 handler on the live server."""
    from sqlalchemy import select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.models import RoutingRule, Service, User

    uscc = journey_uscc()
    with live_app.app_context():
        s = db.session
        assert s.scalar(select(Service).where(Service.code == CODE)) is None, f"{CODE} is already there"
        assert s.scalar(select(RoutingRule).where(RoutingRule.name == RULE)) is None
        if s.scalar(select(User).where(User.username == uscc)) is None:
            accounts.register_enterprise(s, accounts.EnterpriseProfile(
                company=COMPANY, uscc=uscc, contact_name=CONTACT, mobile="13907367788",
                email="qianfang@example.com", township="澧阳街道", industry="herbs", size="small"), PASSWORD)
        for username, role, bureau, name in ((ADMIN, "admin", None, ADMIN_NAME),
                                             (SUPERVISOR, "supervisor", None, SUPERVISOR_NAME),
                                             (HANDLER, "handler", "sti", HANDLER_NAME)):
            if s.scalar(select(User).where(User.username == username)) is None:
                accounts.create_user(s, username, role, PASSWORD, bureau=bureau,
                                     email=f"{username}@example.com", display_name=name)
    return {"enterprise": uscc, "admin": ADMIN, "supervisor": SUPERVISOR, "handler": HANDLER}


@pytest.fixture(scope="module")
def today(live_app) -> str:
    """Today in Beijing time, the calendar the dashboard counts submissions by."""
    from services.core.clock import local_today

    return local_today().isoformat()


# --------------------------------------------------------------------------- helpers
def account_bar(page):
    return page.get_by_role("navigation", name="账号")


def flash(page):
    return page.get_by_role("status").filter(has=page.locator(".flash"))


def h1(page):
    return page.get_by_role("heading", level=1)


def log_in(page, username: str) -> None:
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(account_bar(page).get_by_role("button", name="退出")).to_be_visible()


def log_out(page) -> None:
    account_bar(page).get_by_role("button", name="退出").click()
    expect(page.get_by_text("您已安全退出。")).to_be_visible()
    expect(account_bar(page).get_by_role("link", name="登录")).to_be_visible()


def no_errors(page) -> None:
    expect(page.get_by_role("alert")).to_have_count(0)


def field_row(page, n: int):
    """The fieldset of request field n in the service form's field editor."""
    return page.get_by_role("group", name=f"申请字段 {n}", exact=True)


def fill_field_row(row, code: str, label: str, datatype: str, *, required: bool, values: str = "",
                   description: str = "") -> None:
    row.get_by_label("字段编码").fill(code)
    row.get_by_label("字段名称").fill(label)
    row.get_by_label("数据类型").select_option(datatype)
    if required:
        row.get_by_label("必填").check()
    else:
        row.get_by_label("必填").uncheck()
    row.get_by_label("填写说明").fill(description)
    row.get_by_label("选项（仅列表类型）").fill(values)


def received_by_bureau(page, today: str, bureau: str) -> int:
    """办件量 of one bureau in the dashboard's 按单位统计 table for today (0 if it has no row)."""
    tap_link(account_bar(page), "统计分析")
    expect(h1(page)).to_have_text("办件统计分析")
    filters = page.get_by_role("form", name="统计条件")
    filters.get_by_label("提交日期从").fill(today)
    filters.get_by_label("提交日期至").fill(today)
    filters.get_by_role("button", name="统计").click()
    expect(page.locator("#period")).to_contain_text(f"统计区间：{today} 至 {today}")
    table = page.get_by_role("table", name="按单位统计")
    expect(table).to_be_visible()
    columns = [c.strip() for c in table.get_by_role("columnheader").all_inner_texts()]
    assert columns[:2] == ["单位", "办件量"], columns
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=bureau, exact=True))
    if row.count() == 0:
        return 0
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    return int(cells[columns.index("办件量")])


def tap_link(scope, name: str) -> None:
    scope.get_by_role("link", name=name, exact=True).click()


# --------------------------------------------------------------------------- the journey
def test_admin_adds_a_service_and_a_rule_that_reach_the_enterprise_handler_and_dashboard(page, people, today):
    # ---- 2. the admin adds the service in the console, with two request fields
    log_in(page, people["admin"])
    tap_link(account_bar(page), "系统管理")
    tap_link(page.get_by_role("navigation", name="管理后台"), "服务事项")
    tap_link(page.get_by_role("main"), "新增服务")
    expect(h1(page)).to_have_text("新增服务")

    page.get_by_label("服务编码").fill(CODE)
    page.get_by_label("服务名称").fill(NAME)
    page.get_by_label("服务类别").select_option(label="质量管理")
    page.get_by_label("责任单位").select_option(label="县市场监管局（amr）")
    page.get_by_label("服务简介").fill("对中药饮片生产企业的净制、切制、炮炙等炮制工艺开展质量诊断，查找影响饮片质量的关键环节并提出改进建议。")
    page.get_by_label("搜索关键词").fill("炮制\n中药饮片\n饮片质量")
    page.get_by_label("受理条件").fill("在澧县依法登记、从事中药饮片生产的企业。")
    page.get_by_label("申请材料").fill("营业执照副本复印件\n药品生产许可证复印件\n炮制工艺规程")
    page.get_by_label("办理流程").fill("网上提交申请\n县科技局组织专家现场诊断\n出具诊断报告")
    page.get_by_label("设定依据").fill("《中华人民共和国中医药法》；《药品生产质量管理规范》中药饮片附录")
    page.get_by_label("承诺时限（工作日）").fill("10")
    page.get_by_label("法定时限（工作日）").fill("20")
    page.get_by_label("收费标准").fill("不收费")
    page.get_by_label("办理地点").fill("澧县澧阳街道澧州大道218号")
    page.get_by_label("办理时间").fill("工作日 8:00-12:00，14:30-17:30")
    page.get_by_label("咨询电话").fill("0736-3224512")
    page.get_by_label("可网上申请").check()
    expect(page.get_by_label("保存后立即发布到服务目录")).to_be_checked()

    # The new-service form starts with one empty row; fill it, then add a second one.
    expect(page.get_by_role("group", name=re.compile(r"^申请字段 \d+$"))).to_have_count(1)
    fill_field_row(field_row(page, 1), "herb", "药材名称", "string", required=True,
                   description="如 黄芪、白芍")
    page.get_by_role("button", name="添加一个申请字段").click()
    expect(page.get_by_role("status").filter(has_text="已添加申请字段 2")).to_be_visible()
    expect(field_row(page, 2)).to_be_visible()
    # The row operation keeps what was typed so far.
    expect(page.get_by_label("服务名称")).to_have_value(NAME)
    expect(field_row(page, 1).get_by_label("字段编码")).to_have_value("herb")
    expect(field_row(page, 1).get_by_label("必填")).to_be_checked()
    fill_field_row(field_row(page, 2), "stage", "生产阶段", "singlevaluelist", required=False,
                   values="raw=原料\nfinished=成品")
    page.get_by_role("main").get_by_role("button", name="保存", exact=True).click()

    no_errors(page)
    expect(flash(page)).to_contain_text(f"已新增服务“{NAME}”（{CODE}）并发布到服务目录。")
    expect(h1(page)).to_have_text(f"编辑服务：{NAME}")
    expect(page.locator(".admin-status-box")).to_contain_text("已发布")
    expect(field_row(page, 1).get_by_label("字段编码")).to_have_value("herb")
    expect(field_row(page, 2).get_by_label("字段编码")).to_have_value("stage")
    expect(field_row(page, 2).get_by_label("数据类型")).to_have_value("singlevaluelist")
    expect(field_row(page, 2).get_by_label("选项（仅列表类型）")).to_have_value(re.compile(r"raw=原料\s+finished=成品"))

    # ---- 3. a routing rule sends the service to 县科技局
    tap_link(page.get_by_role("navigation", name="管理后台"), "分办规则")
    tap_link(page.get_by_role("main"), "新增规则")
    expect(h1(page)).to_have_text("新增分办规则")
    page.get_by_label("规则名称").fill(RULE)
    page.get_by_label("优先级").fill("5")
    page.get_by_label("转至单位").select_option(label=f"{STI_SHORT}（sti）")
    expect(page.get_by_label("启用")).to_be_checked()
    page.get_by_label("服务编码", exact=True).fill(CODE)
    page.get_by_role("main").get_by_role("button", name="保存", exact=True).click()

    no_errors(page)
    expect(flash(page)).to_contain_text(f"已保存分办规则“{RULE}”。")
    expect(h1(page)).to_have_text("分办规则")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=RULE, exact=True))
    expect(card).to_contain_text(f"优先级 5 · 转至 {STI_SHORT}")
    expect(card).to_contain_text(CODE)

    tap_link(page.get_by_role("navigation", name="管理后台"), "分办测试")
    expect(h1(page)).to_have_text("分办测试")
    page.get_by_label("申请的服务").select_option(label=f"{CODE} {NAME}")
    page.get_by_role("button", name="测试分办").click()
    result = page.locator("section.route-result")
    expect(result.get_by_role("heading", name=f"结果：转至 {STI_FULL}")).to_be_visible()
    expect(result).to_contain_text(f"依据：分办规则“{RULE}”")
    expect(result.locator(".routing-reason")).to_contain_text(f"按分办规则“{RULE}”（优先级 5）转至{STI_SHORT}")
    hit = result.get_by_role("listitem").filter(has=page.get_by_role("link", name=RULE, exact=True))
    expect(hit).to_contain_text("符合，采用")

    # Before anything is submitted: today's figures for 县科技局 on the dashboard.
    before = received_by_bureau(page, today, STI_SHORT)
    log_out(page)

    # ---- 4. the enterprise finds the service by searching and applies
    log_in(page, people["enterprise"])
    expect(h1(page)).to_contain_text("我的申请")
    tap_link(page.get_by_role("navigation", name="主导航"), "首页")
    search = page.get_by_role("search")
    search.get_by_label("搜索服务").fill("炮制")
    search.get_by_role("button", name="搜索").click()
    hit = page.locator(".service-card").filter(has=page.get_by_role("link", name=NAME, exact=True))
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("可网上申请")
    hit.get_by_role("link", name=NAME, exact=True).click()
    expect(h1(page)).to_have_text(NAME)

    page.get_by_role("main").get_by_role("link", name="在线申请", exact=True).click()
    expect(h1(page)).to_have_text(NAME)
    page.get_by_label("药材名称").fill(HERB)
    page.get_by_role("group", name="生产阶段").get_by_label("成品", exact=True).check()
    expect(page.get_by_label("联系人", exact=True)).to_have_value(CONTACT)  # from the enterprise profile
    page.get_by_role("button", name="下一步：核对并上传材料").click()

    no_errors(page)
    expect(h1(page)).to_have_text("核对申请")
    ticket_box = page.locator("section.preview-ticket")
    expect(ticket_box).to_have_count(1)
    expect(ticket_box.get_by_role("heading", level=2)).to_have_text(f"送 {STI_FULL} 办理")
    expect(ticket_box.get_by_role("heading", level=3)).to_have_text(NAME)
    expect(ticket_box).to_contain_text(f"药材名称{HERB}")
    expect(ticket_box).to_contain_text("生产阶段成品")
    page.get_by_role("button", name="确认提交").click()  # no attachment

    no_errors(page)
    expect(flash(page)).to_contain_text("申请已提交。申请编号")
    expect(h1(page)).to_contain_text("申请 ")
    ticket_section = page.locator("section.ticket")
    expect(ticket_section).to_have_count(1)
    expect(ticket_section.get_by_role("heading", level=2)).to_contain_text(STI_FULL)
    expect(ticket_section.get_by_role("heading", level=2)).to_contain_text("已提交，待签收")
    expect(ticket_section.get_by_role("heading", level=3)).to_contain_text(NAME)
    found = re.search(r"办件编号 (\S+)", ticket_section.locator("p.muted").first.inner_text())
    assert found, ticket_section.inner_text()
    ticket = found.group(1)
    # The routing reason is for staff only.
    expect(page.get_by_text("分办依据")).to_have_count(0)
    log_out(page)

    # ---- 5. the 县科技局 handler finds the ticket and its routing reason
    log_in(page, people["handler"])
    tap_link(account_bar(page), "办件队列")
    expect(h1(page)).to_contain_text(f"办件队列 · {STI_SHORT}")
    page.locator("details.more-filters > summary").click()  # the queue folds its filters
    page.get_by_label("服务编码").fill(CODE)
    page.get_by_role("button", name="筛选").click()
    row = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=ticket, exact=True))
    expect(row).to_be_visible()
    expect(row).to_contain_text(COMPANY)
    expect(row).to_contain_text(NAME)
    expect(row).to_contain_text("已提交，待签收")
    row.get_by_role("link", name=ticket, exact=True).click()
    expect(h1(page)).to_contain_text(f"办件 {ticket}")
    bureau = page.locator("dl > div").filter(has=page.locator("dt").get_by_text("承办单位", exact=True))
    expect(bureau.locator("dd")).to_have_text(STI_FULL)
    reason = page.locator("p.routing-reason")
    expect(reason).to_contain_text("分办依据：")
    expect(reason).to_contain_text(f"按分办规则“{RULE}”（优先级 5）转至{STI_SHORT}")
    expect(page.get_by_role("heading", level=2, name=NAME)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(HERB)
    log_out(page)

    # ---- 6. the supervisor's dashboard counts the new ticket
    log_in(page, people["supervisor"])
    after = received_by_bureau(page, today, STI_SHORT)
    assert after == before + 1, f"县科技局 办件量 today: {before} before the submission, {after} after"
    services = page.get_by_role("table", name="按服务事项统计")
    service_row = services.get_by_role("row").filter(has=page.get_by_role("cell", name=CODE, exact=True))
    expect(service_row).to_have_count(1)
    expect(service_row.get_by_role("rowheader")).to_have_text(NAME)
    # cells: 服务编码, 承办单位, 办件量, … (the name is the row header)
    expect(service_row.get_by_role("cell").nth(2)).to_have_text("1")
