"""Journeys through the workbench in the browser, on a phone and a desktop: a lead's 转办, a 补正
round read by the enterprise (what was asked, by when, the stopped clock), the public progress
lookup, and the 通知 page with unread notices. Screenshots: test-artifacts/journeys/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "passw0rd-ok"
COMPANY = "澧县澧南米业有限公司"
LEAD = "amr-wb-lead"
HANDLER = "agri-wb-h"
ASK = "请补充绿色食品生产操作规程和产地环境检测报告。"
VALUES = {  # the required request fields of the services these journeys ask for
    "JC-001": {"product_name": "大米", "sample_quantity": "2", "test_items": "农药残留", "report_purpose": "internal"},
    "RZ-001": {"product_names": "澧南香米", "base_area": "300", "product_category": "crop"},
}


def uscc() -> str:
    from services.accounts.uscc import check_character

    first17 = "91430723MA4LXW002"
    return first17 + check_character(first17)


@pytest.fixture(scope="module")
def people(live_app) -> dict[str, str]:
    from sqlalchemy import select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.models import User

    with live_app.app_context():
        s = db.session
        if s.scalar(select(User).where(User.username == uscc())) is None:
            accounts.register_enterprise(s, accounts.EnterpriseProfile(
                company=COMPANY, uscc=uscc(), contact_name="钱进", mobile="13907361234",
                email="qianjin@example.com", township="澧南镇", industry="food", size="small"), PASSWORD)
        if s.scalar(select(User).where(User.username == LEAD)) is None:
            accounts.create_user(s, LEAD, "lead", PASSWORD, bureau="amr", email="amr-wb-lead@example.com",
                                 display_name="孙科长")
        if s.scalar(select(User).where(User.username == HANDLER)) is None:
            accounts.create_user(s, HANDLER, "handler", PASSWORD, bureau="agri", email="agri-wb-h@example.com",
                                 display_name="李办件")
    return {"enterprise": uscc(), "lead": LEAD, "handler": HANDLER}


def submit(live_app, people, service: str) -> tuple[str, str, str]:
    """(request number, ticket number, query code) of a new request by the enterprise."""
    from portal.extensions import db
    from services.accounts import users as accounts
    from services.requests import submission as reqsvc

    with live_app.app_context():
        user = accounts.get_by_username(db.session, people["enterprise"])
        req, _ = reqsvc.submit(db.session, user, reqsvc.Submission(
            services=[service], attributes={service: VALUES[service]}, description="浏览器测试"),
                               live_app.config["UPLOAD_DIR"])
        return req.number, req.tickets[0].number, req.query_code


def act(live_app, username: str, number: str, action: str, message: str = "", to_bureau: str | None = None):
    from portal.extensions import db
    from services.accounts import users as accounts
    from services.tickets import actions as tickets

    with live_app.app_context():
        user = accounts.get_by_username(db.session, username)
        tickets.perform(db.session, user, number, tickets.ActionInput(action, message, to_bureau))


def log_in(page, username: str) -> None:
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def shot(page, artifacts, name: str, device: str) -> None:
    folder = artifacts / "journeys"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{device}.png"), full_page=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_lead_transfers_and_lands_on_the_queue(page, device, live_app, people, artifacts):
    # 农产品质量安全检测 sent to 市场监管局 by mistake: its lead passes it to 农业农村局.
    _, ticket, _ = submit(live_app, people, "JC-001")
    log_in(page, people["lead"])
    expect(page).to_have_url(re.compile(r"/staff/queue"))  # staff land on their queue
    page.goto(f"/staff/tickets/{ticket}")
    page.locator("#act-transfer summary").click()
    page.locator("#act-transfer select").select_option("agri")
    page.locator("#act-transfer textarea").fill("属于农产品质量安全检测，请农业农村局办理")
    page.locator("#act-transfer button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("办件队列")
    expect(page.locator("body")).to_contain_text("已完成：转办")
    expect(page.locator("body")).to_contain_text("澧县农业农村局")
    no_sideways_scroll(page)
    shot(page, artifacts, "transfer-landing", device)


def test_a_info_round_tells_the_enterprise_what_by_when_and_that_the_clock_stopped(page, device, live_app,
                                                                                   people, artifacts):
    number, ticket, _ = submit(live_app, people, "RZ-001")  # 绿色食品认证申报: 农业农村局
    act(live_app, people["handler"], ticket, "accept")
    act(live_app, people["handler"], ticket, "request_info", ASK)
    log_in(page, people["enterprise"])
    page.goto(f"/requests/{number}")
    form = page.locator("form.info-form")
    expect(form.locator(".info-ask")).to_contain_text(ASK)
    pause = page.locator(".pause-notice")
    expect(pause).to_contain_text("计时已暂停")
    expect(pause).to_contain_text("请在")
    expect(pause).to_contain_text("新的办理期限为")
    no_sideways_scroll(page)
    shot(page, artifacts, "info-round-request", device)
    form.locator("textarea").fill("已补充生产操作规程，环境检测报告随后邮寄。")
    form.get_by_role("button", name="提交补正").click()
    expect(page.locator("body")).to_contain_text("补正材料已提交")
    expect(page.locator(".pause-notice")).to_have_count(0)
    expect(page.locator(".service-dues")).to_contain_text("办理期限")
    shot(page, artifacts, "info-round-answered", device)


def test_public_progress_lookup(page, device, live_app, people, artifacts):
    number, ticket, code = submit(live_app, people, "RZ-001")
    act(live_app, people["handler"], ticket, "accept")
    page.goto("/progress")
    page.get_by_label("申请编号").fill(number)
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    result = page.locator(".progress-result")
    expect(result).to_contain_text("绿色食品认证申报")
    expect(result).to_contain_text("提交于")
    expect(result).to_contain_text("办理期限")
    expect(result).to_contain_text("下一步")
    expect(result).not_to_contain_text(COMPANY)
    no_sideways_scroll(page)
    shot(page, artifacts, "progress-lookup", device)


def test_notifications_with_unread_items(page, device, live_app, people, artifacts):
    _, ticket, _ = submit(live_app, people, "RZ-001")
    act(live_app, people["handler"], ticket, "accept")
    log_in(page, people["enterprise"])
    page.goto("/account/notifications")
    expect(page.locator("h1")).to_contain_text("通知")
    expect(page.locator("main")).to_contain_text(ticket.rsplit("-", 1)[0])
    no_sideways_scroll(page)
    shot(page, artifacts, "notifications", device)


def test_a_ticket_with_two_services_shows_each_deadline(page, device, live_app, people, artifacts):
    # 农产品质量安全检测 promises 5 working days, 绿色食品认证申报 10: one 农业农村局 ticket.
    from portal.extensions import db
    from services.accounts import users as accounts
    from services.requests import submission as reqsvc

    with live_app.app_context():
        user = accounts.get_by_username(db.session, people["enterprise"])
        req, _ = reqsvc.submit(db.session, user, reqsvc.Submission(
            services=["JC-003", "RZ-001"], description="大米检测和绿色食品认证",
            attributes={"JC-003": {"product_type": "rice", "sample_quantity": "2", "test_type": "quant"},
                        "RZ-001": VALUES["RZ-001"]}), live_app.config["UPLOAD_DIR"])
        ticket = req.tickets[0].number
        assert len(req.tickets) == 1 and len(req.tickets[0].items) == 2
    act(live_app, people["handler"], ticket, "accept")
    log_in(page, people["handler"])
    page.goto(f"/staff/tickets/{ticket}")
    headings = page.locator("section h2[id^=svc-]")
    expect(headings).to_have_count(2)
    first, second = headings.nth(0).inner_text(), headings.nth(1).inner_text()
    assert "承诺 5 个工作日" in first and "承诺 10 个工作日" in second
    due_first, due_second = (re.search(r"办理期限 (\d{4}-\d{2}-\d{2})", h).group(1) for h in (first, second))
    assert due_first < due_second
    expect(page.locator(".contact-list").first).to_contain_text(due_first)
    no_sideways_scroll(page)
    shot(page, artifacts, "ticket-two-services", device)
