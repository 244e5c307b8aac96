"""The admin console in Chromium: no serious axe problems, nothing wider than a phone, and a
service created with the request-field editor on a phone (buttons, no JavaScript needed)."""
from __future__ import annotations

import os
import threading

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DEVICES
from tests.helpers import PASSWORD, make_staff

pytestmark = pytest.mark.browser

PAGES = ["/admin/", "/admin/bureaus", "/admin/bureaus/amr", "/admin/categories", "/admin/categories/ip",
         "/admin/services", "/admin/services/new", "/admin/services/JL-001", "/admin/rules",
         "/admin/rules/new", "/admin/rules/test", "/admin/bundles", "/admin/bundles/new", "/admin/users",
         "/admin/users/new", "/admin/holidays", "/admin/audit"]
BLOCKING = {"serious", "critical"}
ADMIN = "adm-browser"


@pytest.fixture(scope="module")
def chromium():
    """Chromium for this module only (stopped before tests/browser starts its own: Playwright's
    sync API allows one instance at a time)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (./scripts/test does it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    try:
        playwright = sync_api.sync_playwright().start()
    except sync_api.Error as exc:
        pytest.skip(f"another Playwright instance runs in this session ({exc}); run this file alone")
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def server(app):
    """The test app (fixture catalog) served on 127.0.0.1 with an admin account."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    make_staff(app, ADMIN, "admin", None)
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


@pytest.fixture(params=list(DEVICES))
def device(request) -> str:
    return request.param


@pytest.fixture
def page(chromium, server, device):
    context = chromium.new_context(base_url=server, locale="zh-CN", **DEVICES[device])
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def tap(device):
    def press(locator):
        if DEVICES[device].get("has_touch"):
            locator.tap()
        else:
            locator.click()

    return press


def log_in(page, username: str) -> None:
    from playwright.sync_api import expect

    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    expect(page.get_by_role("navigation", name="账号").get_by_role("button", name="退出")).to_be_visible()


def test_admin_pages_pass_axe_and_fit_the_screen(page, device):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    log_in(page, ADMIN)
    problems = []
    for url in PAGES:
        response = page.goto(url)
        assert response.status == 200, url
        results = axe.run(page, context="main")  # the site header belongs to the public pages' tests
        for v in results.response["violations"]:
            if v["impact"] in BLOCKING:
                targets = "; ".join(", ".join(n["target"]) for n in v["nodes"][:3])
                problems.append(f"{url}: {v['id']} ({v['impact']}) {v['help']} -> {targets}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            problems.append(f"{url}: page is {overflow}px wider than the {device} screen")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("device", ["phone"])
def test_create_a_service_with_fields_on_a_phone(page, tap):
    from playwright.sync_api import expect

    log_in(page, ADMIN)
    page.goto("/admin/services/new")
    form = page.locator("form.service-form")
    for label, value in (("服务编码", "ZC-950"), ("服务名称", "地理标志产品保护咨询"),
                         ("服务简介", "地理标志申报咨询。"), ("受理条件", "澧县企业或协会。"),
                         ("申请材料", "申请书\n产品说明"),
                         ("办理流程", "提交\n审查\n答复"), ("设定依据", "《地理标志产品保护办法》"),
                         ("承诺时限（工作日）", "7"), ("收费标准", "不收费"), ("咨询电话", "0736-3200010")):
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("服务类别").select_option("ip")
    form.get_by_label("责任单位").select_option("amr")
    row = form.get_by_role("group", name="申请字段 1")
    row.get_by_label("字段编码").fill("product")
    row.get_by_label("字段名称").fill("产品名称")
    tap(form.get_by_role("button", name="添加一个申请字段"))
    row2 = form.get_by_role("group", name="申请字段 2")
    expect(row2).to_be_visible()
    expect(form.get_by_role("group", name="申请字段 1").get_by_label("字段编码")).to_have_value("product")
    row2.get_by_label("字段编码").fill("kind")
    row2.get_by_label("字段名称").fill("类别")
    row2.get_by_label("数据类型").select_option("singlevaluelist")
    row2.get_by_label("选项（仅列表类型）").fill("farm=农产品\nfood=食品")
    tap(row2.get_by_role("button", name="上移"))
    expect(form.get_by_role("group", name="申请字段 1").get_by_label("字段编码")).to_have_value("kind")
    tap(form.get_by_role("button", name="保存", exact=True).last)
    expect(page.get_by_role("heading", level=1)).to_have_text("编辑服务：地理标志产品保护咨询")
    page.goto("/services/ZC-950")
    expect(page.get_by_role("heading", level=1)).to_contain_text("地理标志产品保护咨询")
