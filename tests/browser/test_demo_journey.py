"""The demo county as a newcomer finds it after `./scripts/serve` (`init --demo`, mail written to the
local mailbox): the amr lead's queue and figures are full, and a forgotten password is reset through
the 本地邮箱 page without any mail server — on a phone and on a desktop."""
from __future__ import annotations

import threading

import pytest

from services import seed
from tests import databases
from tests.conftest import make_app

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PHARMA = "91430723MA4L5T6W83"  # 湖南澧州药业有限公司, a demo enterprise


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The portal after `init --demo` with MAIL_BACKEND = "folder", served on 127.0.0.1."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    instance = tmp_path_factory.mktemp("demo-browser")
    uri = name = None
    if databases.using_postgres():
        uri, name = databases.new_template("demobrowser")
    app = make_app(instance, uri, MAIL_BACKEND="folder", MAIL_FOLDER=str(instance / "mail"))
    result = app.test_cli_runner().invoke(args=["init", "--demo"])
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in mail lead here
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["portal.db"].engine.dispose()
        if name:
            databases.drop(name)


@pytest.fixture
def new_page(browser, demo_server, device):
    from tests.browser.conftest import DEVICES

    contexts = []

    def make():
        context = browser.new_context(base_url=demo_server, locale="zh-CN", **DEVICES[device])
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, tap, username: str, password: str = seed.DEMO_PASSWORD) -> None:
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    tap(page.get_by_role("main").get_by_role("button", name="登录"))
    expect(page.get_by_role("navigation", name="账号").get_by_role("button", name="退出")).to_be_visible()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_demo_lead_finds_a_working_queue_and_figures(new_page, tap, device, artifacts):
    page = new_page()
    log_in(page, tap, "amr-lead")
    page.goto("/staff/queue")
    rows = page.locator(".ticket-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 5
    expect(page.locator(".badge-overdue").first).to_be_visible()
    assert "兰江" in page.locator("main").inner_text() or "梦溪" in page.locator("main").inner_text()
    no_sideways_scroll(page)
    page.screenshot(path=str(artifacts / "journeys" / f"demo-queue-{device}.png"), full_page=False)
    page.goto("/dashboard/bureau")
    values = page.locator("#kpis .kpi-value").all_inner_texts()
    assert values and int(values[0]) > 20
    page.screenshot(path=str(artifacts / "journeys" / f"demo-dashboard-{device}.png"), full_page=False)
    page.goto("/staff/follow-ups")
    expect(page.locator("main")).to_contain_text("LX")


def test_a_forgotten_password_is_reset_through_the_local_mailbox(new_page, tap, device, artifacts):
    visitor = new_page()
    visitor.goto("/account/reset")
    visitor.get_by_label("统一社会信用代码或用户名").fill(PHARMA)
    tap(visitor.get_by_role("main").get_by_role("button", name="发送重设邮件"))
    expect(visitor.get_by_text("我们已发送重设密码的邮件")).to_be_visible()

    admin = new_page()
    log_in(admin, tap, "admin")
    tap(admin.get_by_role("navigation", name="管理后台").get_by_role("link", name="本地邮箱"))
    newest = admin.locator(".mail-item").first
    expect(newest.locator(".mail-subject")).to_contain_text("重设密码")
    expect(newest.locator(".mail-meta").first).to_contain_text("demo-pharma@example.com")
    link = newest.locator(".mail-body a")
    expect(link).to_be_visible()
    no_sideways_scroll(admin)
    admin.screenshot(path=str(artifacts / "journeys" / f"demo-mailbox-{device}.png"), full_page=False)

    visitor.goto(link.get_attribute("href"))
    password = f"Newpass{device}2026"
    visitor.get_by_label("新密码", exact=True).fill(password)
    visitor.get_by_label("再次输入新密码").fill(password)
    tap(visitor.get_by_role("main").get_by_role("button", name="保存新密码"))
    expect(visitor.get_by_text("密码已重设，请用新密码登录。")).to_be_visible()
    log_in(visitor, tap, PHARMA, password)
