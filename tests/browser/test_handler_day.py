"""A handler's day in the browser: the queue, claim, 签收受理, 要求补正; the enterprise answers
with a PDF; the handler completes the ticket; the enterprise rates it. The history (办理记录) on
both sides lists every step in order."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "passw0rd-ok"
COMPANY = "澧县澧州精密仪器有限公司"
CONTACT = "赵敏"
HANDLER = "amr-day-h"
HANDLER_NAME = "周办件"
SERVICE = "BZ-004"  # 标准查询与标准文本服务: online, answered by amr
SERVICE_NAME = "标准查询与标准文本服务"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

ASK = "请一次性补充以下材料：1. 营业执照副本（加盖公章）；2. 所需标准的用途说明。"
ANSWER = "已补充营业执照副本和用途说明，请查收。"
RESULT = "已提供 GB/T 19001-2016 标准文本查询结果，请登录查看。"
COMMENT = "办理很快，说明清楚。"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def lixian_uscc() -> str:
    """A valid 统一社会信用代码 used by no other test (澧县 430723, computed check character)."""
    from services.accounts.uscc import check_character

    first17 = "91430723MA4LXD001"
    return first17 + check_character(first17)


@pytest.fixture(scope="module")
def people(live_app) -> dict[str, str]:
    """An enterprise and an amr handler on the live server (created once for the module)."""
    from sqlalchemy import select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.models import User

    uscc = lixian_uscc()
    with live_app.app_context():
        s = db.session
        if s.scalar(select(User).where(User.username == uscc)) is None:
            accounts.register_enterprise(s, accounts.EnterpriseProfile(
                company=COMPANY, uscc=uscc, contact_name=CONTACT, mobile="13907365678",
                email="zhaomin@example.com", township="澧阳街道", industry="food", size="small"), PASSWORD)
        if s.scalar(select(User).where(User.username == HANDLER)) is None:
            accounts.create_user(s, HANDLER, "handler", PASSWORD, bureau="amr", email="amr-day-h@example.com",
                                 display_name=HANDLER_NAME)
    return {"enterprise": uscc, "handler": HANDLER}


@pytest.fixture
def submitted(live_app, people) -> dict[str, str]:
    """The enterprise's request for BZ-004, submitted through services.requests.submission (one ticket, amr)."""
    from portal.extensions import db
    from services.accounts import users as accounts
    from services.requests import submission as reqsvc

    with live_app.app_context():
        user = accounts.get_by_username(db.session, people["enterprise"])
        req, created = reqsvc.submit(db.session, user, reqsvc.Submission(
            services=[SERVICE], attributes={SERVICE: {"standard_no": "GB/T 19001-2016"}},
            description="需要查询质量管理体系标准"), live_app.config["UPLOAD_DIR"])
        assert created and len(req.tickets) == 1
        assert req.tickets[0].bureau.code == "amr", req.tickets[0].routing_reason
        return {"request": req.number, "ticket": req.tickets[0].number}


# --------------------------------------------------------------------------- helpers
def log_in(page, tap, username: str) -> None:
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="登录"))
    expect(account_bar(page).get_by_role("button", name="退出")).to_be_visible()


def log_out(page, tap) -> None:
    tap(account_bar(page).get_by_role("button", name="退出"))
    expect(page.get_by_text("您已安全退出。")).to_be_visible()
    expect(account_bar(page).get_by_role("link", name="登录")).to_be_visible()


def account_bar(page):
    return page.get_by_role("navigation", name="账号")


def flash(page):
    return page.get_by_role("status").filter(has=page.locator(".flash"))


def fact(page, term: str):
    """The value (<dd>) beside a term (<dt>) of the page's fact list."""
    row = page.locator("dl > div").filter(has=page.locator("dt").get_by_text(term, exact=True))
    return row.locator("dd")


def heading_status(page):
    return page.get_by_role("heading", level=1).locator(".status")


def history(page) -> list[str]:
    items = page.get_by_role("region", name="办理记录").get_by_role("listitem")
    expect(items.first).to_be_visible()
    return [re.sub(r"\s+", " ", t).strip() for t in items.all_inner_texts()]


def assert_in_order(lines: list[str], expected: list[str]) -> None:
    """Every expected snippet appears, each in its own later line, in this order."""
    at = 0
    for snippet in expected:
        for i in range(at, len(lines)):
            if snippet in lines[i]:
                at = i + 1
                break
        else:
            raise AssertionError(f"{snippet!r} missing (or out of order) in the history:\n"
                                 + "\n".join(lines))


def action(page, tap, label: str, *, field: str | None = None, text: str = "") -> None:
    """Open the <details> of one action on the ticket page, fill its message and submit it."""
    box = page.locator("details").filter(has=page.locator("summary").get_by_text(label, exact=True))
    expect(box).to_have_count(1)
    tap(box.locator("summary"))
    if field:
        box.get_by_label(field).fill(text)
    tap(box.get_by_role("button", name=label, exact=True))
    expect(flash(page)).to_contain_text(f"已完成：{label}。")
    expect(page.get_by_role("alert")).to_have_count(0)


def open_ticket_from_queue(page, tap, ticket: str) -> None:
    tap(account_bar(page).get_by_role("link", name="办件队列"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("办件队列")
    page.locator("details.more-filters > summary").click()  # the filters beyond the search box fold away
    page.get_by_label("服务编码").fill(SERVICE)
    tap(page.get_by_role("button", name="筛选"))
    row = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=ticket, exact=True))
    expect(row).to_be_visible()
    expect(row).to_contain_text(COMPANY)
    expect(row).to_contain_text(SERVICE_NAME)
    tap(row.get_by_role("link", name=ticket, exact=True))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"办件 {ticket}")


def open_request(page, tap, number: str) -> None:
    """The enterprise lands on 我的申请 after logging in and opens its request from there."""
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的申请")
    tap(page.get_by_role("link", name=number, exact=True))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"申请 {number}")


# --------------------------------------------------------------------------- the day
def test_handler_day(page, tap, people, submitted):
    number, ticket = submitted["request"], submitted["ticket"]

    # Morning: the handler finds the new ticket in the queue, claims and accepts it.
    log_in(page, tap, people["handler"])
    open_ticket_from_queue(page, tap, ticket)
    expect(heading_status(page)).to_have_text("已提交，待签收")
    expect(fact(page, "办件人")).to_have_text("未认领")
    expect(fact(page, "签收期限")).to_have_text(DATE)
    expect(fact(page, "办理期限")).to_have_count(0)

    tap(page.get_by_role("button", name="认领", exact=True))
    expect(flash(page)).to_contain_text("已认领。")
    expect(fact(page, "办件人")).to_have_text(HANDLER_NAME)
    expect(page.get_by_role("button", name="认领", exact=True)).to_have_count(0)

    action(page, tap, "签收受理")
    expect(heading_status(page)).to_have_text("已受理")
    expect(fact(page, "办理期限")).to_have_text(DATE)
    due = fact(page, "办理期限").inner_text().strip()
    expect(fact(page, "签收期限")).to_have_count(0)

    action(page, tap, "要求补正", field="需要补正的全部材料（一次列明）", text=ASK)
    expect(heading_status(page)).to_have_text("待补正材料")
    assert_in_order(history(page), ["签收受理", ASK])
    log_out(page, tap)

    # The enterprise sees the 补正 notice and answers it with a PDF.
    log_in(page, tap, people["enterprise"])
    open_request(page, tap, number)
    expect(heading_status(page)).to_have_text("待补正材料")
    expect(page.get_by_text(f"办件编号 {ticket}")).to_be_visible()
    expect(page.locator(".pause-notice")).to_contain_text("计时已暂停")  # no running 办理期限 while waiting
    expect(page.locator(".service-due")).to_have_text("计时已暂停（待补正）")
    assert_in_order(history(page), [ASK])
    info = page.locator("form").filter(has=page.get_by_role("heading", name="补正材料", exact=True))
    expect(info).to_be_visible()
    expect(info.locator(".info-ask")).to_contain_text(ASK)  # what the bureau asked, beside the answer
    info.get_by_label("补正说明").fill(ANSWER)
    info.get_by_label("补正材料文件").set_input_files(
        files=[{"name": "营业执照副本.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    tap(info.get_by_role("button", name="提交补正"))
    expect(flash(page)).to_contain_text("补正材料已提交")
    expect(heading_status(page)).to_have_text("办理中")
    expect(page.get_by_role("heading", name="补正材料", exact=True)).to_have_count(0)
    attachments = page.get_by_role("region", name="附件")
    expect(attachments.get_by_role("link", name="营业执照副本.pdf")).to_be_visible()
    log_out(page, tap)

    # Afternoon: the handler reads the answer and completes the ticket.
    log_in(page, tap, people["handler"])
    open_ticket_from_queue(page, tap, ticket)
    expect(heading_status(page)).to_have_text("办理中")
    expect(page.get_by_role("region", name="办理记录")).to_contain_text(ANSWER)
    expect(page.get_by_role("region", name="附件").get_by_role("link", name="营业执照副本.pdf")).to_be_visible()
    action(page, tap, "办结", field="办结结果", text=RESULT)
    expect(heading_status(page)).to_have_text("已办结")
    # No more actions on a closed ticket.
    expect(page.get_by_role("region", name="办理", exact=True)).to_have_count(0)
    staff_history = history(page)
    assert_in_order(staff_history, [
        "已提交，待签收 提交至县市场监管局",
        "认领",
        f"已受理 已签收受理，办理期限 {due}",
        f"已受理 → 待补正材料 {ASK}",
        f"待补正材料 → 办理中 {ANSWER}",
        f"办理中 → 已办结 {RESULT}",
    ])
    assert any(HANDLER_NAME in line and "认领" in line for line in staff_history), staff_history
    log_out(page, tap)

    # The enterprise rates the result.
    log_in(page, tap, people["enterprise"])
    open_request(page, tap, number)
    expect(heading_status(page)).to_have_text("已办结")
    rating = page.locator("form").filter(has=page.get_by_role("heading", name="评价本次服务"))
    expect(rating).to_be_visible()
    rating.get_by_label("5 非常满意").check()
    rating.get_by_label("评价内容（选填）").fill(COMMENT)
    tap(rating.get_by_role("button", name="提交评价"))
    expect(flash(page)).to_contain_text("感谢您的评价。")
    expect(page.get_by_role("region", name="办理记录")).to_contain_text(f"评价：5 分（非常满意），{COMMENT}")
    expect(page.get_by_role("heading", name="评价本次服务")).to_have_count(0)
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)

    lines = history(page)
    assert_in_order(lines, [
        "已提交，待签收 提交至县市场监管局",
        f"已受理 已签收受理，办理期限 {due}",
        f"待补正材料 {ASK}",
        f"办理中 {ANSWER}",
        f"已办结 {RESULT}",
        f"评价：5 分（非常满意），{COMMENT}",
    ])
    # Internal steps (routing, claim) stay on the staff side.
    assert not any("认领" in line for line in lines), lines
    assert not any("内部记录" in line for line in lines), lines

    # Reloading does not bring a second rating form back.
    page.reload()
    expect(page.get_by_role("region", name="办理记录")).to_contain_text("评价：5 分")
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)
