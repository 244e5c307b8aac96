"""An enterprise on a phone: register, log in again, find a service, submit a 一件事 bundle with
an attachment, find it under 我的申请, and look its progress up without logging in."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("device", ["phone"])]

COMPANY = "澧县兰江生物科技有限公司"
USCC = "91350100M000100Y43"
WRONG_USCC = "91350100M000100Y44"  # one character off: the check character no longer fits
PASSWORD = "passw0rd-ok"
BUNDLE = "new-product"
BUNDLE_NAME = "新产品上市"
TRADEMARK = "商标注册便利化服务"
SUBMITTED = "已提交，待签收"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def bundles(live_app):
    """Load the bundled 一件事 bundles into the live server's database (seed() leaves them out).

    Returns, per bundle code, the names of the bureaus responsible for its services, which is
    where routing sends them while the database holds no routing rules.
    """
    from sqlalchemy import func, select

    from portal.extensions import db
    from services import seed
    from services.models import Bundle, RoutingRule

    with live_app.app_context():
        assert seed.load_bundles(db.session) >= 1
        assert not db.session.scalar(select(func.count(RoutingRule.id))), "routing rules would move services"
        bureaus = {b.code: list(dict.fromkeys(i.service.bureau.name for i in b.items))
                   for b in db.session.scalars(select(Bundle))}
    return bureaus


# --------------------------------------------------------------------------- helpers
def axe_check(axe, page, failures: list[str], name: str) -> None:
    """Collect serious/critical axe-core findings; the test reports them all at the end."""
    violations = axe.run(page).response["violations"]
    for v in violations:
        if v["impact"] in BLOCKING:
            targets = "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
            failures.append(f"{name}: {v['id']} ({v['impact']}): {v['help']} -> {targets}")


def account_bar(page):
    return page.get_by_role("navigation", name="账号")


def fill_registration(page, uscc: str) -> None:
    page.get_by_label("企业名称").fill(COMPANY)
    page.get_by_label("统一社会信用代码").fill(uscc)
    page.get_by_label("所在乡镇（街道）").select_option(label="澧阳街道")
    page.get_by_label("所属行业").select_option(label="化妆品")
    page.get_by_label("企业规模").select_option(label="小型企业")
    page.get_by_label("联系人").fill("王兰")
    page.get_by_label("手机号码").fill("13907361234")
    page.get_by_label("电子邮箱").fill("x@example.com")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)


def fill_required_request_fields(form) -> list[str]:
    """Answer every required request field of the apply form; returns the labels answered."""
    answered = []
    # radio and checkbox groups: a fieldset whose legend carries the * marker
    for group in form.locator("fieldset.choice-group").all():
        if group.locator("legend .req").count():
            group.locator("input[type=radio], input[type=checkbox]").first.check()
            answered.append(group.locator("legend").inner_text())
    for control in form.locator("input[required], select[required], textarea[required]").all():
        kind = (control.get_attribute("type") or "").lower()
        tag = control.evaluate("el => el.tagName.toLowerCase()")
        if tag == "select":
            value = control.locator("option:not([value=''])").first.get_attribute("value")
            control.select_option(value)
        elif control.input_value():
            continue  # e.g. the contact person, filled in from the enterprise profile
        elif kind == "date":
            control.fill("2026-12-20")
        elif kind == "number" or control.get_attribute("inputmode") in ("decimal", "numeric"):
            control.fill("3")
        elif kind in ("tel",):
            control.fill("13907361234")
        elif kind in ("email",):
            control.fill("x@example.com")
        else:
            control.fill("澧兰牌山茶油护肤霜")
        answered.append(control.get_attribute("id") or "")
    return answered


# --------------------------------------------------------------------------- the journey
def test_enterprise_registers_applies_for_a_bundle_and_tracks_it(page, tap, axe, artifacts, tmp_path, bundles):
    axe_failures: list[str] = []

    # 1. register, first with a mistyped credit code
    page.goto("/account/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("企业注册")
    axe_check(axe, page, axe_failures, "register")
    fill_registration(page, WRONG_USCC)
    tap(page.get_by_role("button", name="注册"))

    summary = page.locator(".form-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("校验位")
    uscc_box = page.get_by_label("统一社会信用代码")
    error = page.locator("#uscc-err")
    expect(error).to_be_visible()
    expect(error).to_contain_text("校验位")
    expect(uscc_box).to_have_attribute("aria-invalid", "true")
    expect(uscc_box).to_have_attribute("aria-describedby", re.compile(r"\buscc-err\b"))
    # the error sits in the same field block as the input, right after it
    assert error.evaluate("(el) => el.closest('.field').contains(document.getElementById('uscc'))")
    # what was typed is kept, except the passwords
    expect(page.get_by_label("企业名称")).to_have_value(COMPANY)
    expect(page.get_by_label("所属行业")).to_have_value("cosmetics")

    fill_registration(page, USCC)
    tap(page.get_by_role("button", name="注册"))
    expect(page).to_have_url(re.compile(r"/my/requests$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申请")
    expect(page.locator(".flash-success")).to_contain_text(USCC)
    expect(account_bar(page).locator(".who")).to_have_text(COMPANY)
    expect(page.locator(".empty")).to_contain_text("您还没有提交过申请")

    # 2. log out, log in again with the credit code
    tap(account_bar(page).get_by_role("button", name="退出"))
    expect(page.locator(".flash-success")).to_contain_text("您已安全退出")
    expect(account_bar(page).get_by_role("link", name="登录")).to_be_visible()
    expect(account_bar(page).locator(".who")).to_have_count(0)

    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(USCC)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="登录"))
    expect(page).to_have_url(re.compile(r"/my/requests$"))
    expect(account_bar(page).locator(".who")).to_have_text(COMPANY)

    # 3. find a service by searching, open its apply form, come back
    tap(page.get_by_role("navigation", name="主导航").get_by_role("link", name="首页"))
    box = page.get_by_role("searchbox", name="搜索服务")
    box.fill("商标")
    tap(page.get_by_role("search").get_by_role("button", name="搜索"))
    expect(page).to_have_url(re.compile(r"/search\?"))
    tap(page.get_by_role("link", name=TRADEMARK, exact=True))
    expect(page).to_have_url(re.compile(r"/services/ZC-001$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TRADEMARK)
    tap(page.locator("#apply").get_by_role("link", name="在线申请"))
    expect(page).to_have_url(re.compile(r"/apply\?services=ZC-001$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TRADEMARK)
    expect(page.locator(".eyebrow")).to_have_text("第 1 步，共 2 步：填写申请")
    expect(page.get_by_label("商标名称或文字")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/services/ZC-001$"))

    # 4. the 新产品上市 bundle, with an attachment
    tap(page.get_by_role("navigation", name="主导航").get_by_role("link", name="一件事一次办"))
    expect(page).to_have_url(re.compile(r"/bundles$"))
    tap(page.get_by_role("link", name=f"申请“{BUNDLE_NAME}”"))
    expect(page).to_have_url(re.compile(rf"/apply\?bundle={BUNDLE}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(BUNDLE_NAME)
    expect(page.locator(".selected-services li")).to_have_count(3)
    axe_check(axe, page, axe_failures, "apply form")
    form = page.locator("form.stack-form", has=page.get_by_role("button", name="下一步：核对并上传材料"))
    answered = fill_required_request_fields(form)
    assert len(answered) >= 5, answered
    tap(page.get_by_role("button", name="下一步：核对并上传材料"))

    expect(page.get_by_role("heading", level=1)).to_have_text("核对申请")
    expect(page.locator(".form-error-summary")).to_have_count(0)
    sections = page.locator("section.preview-ticket")
    expected_bureaus = bundles[BUNDLE]
    expect(sections).to_have_count(len(expected_bureaus))
    for bureau in expected_bureaus:
        expect(page.get_by_role("heading", level=2, name=f"送 {bureau} 办理")).to_be_visible()
    expect(sections.locator("h3")).to_have_count(3)  # all three services, each under its bureau
    axe_check(axe, page, axe_failures, "preview")
    page.screenshot(path=str(artifacts / "phone-bundle-preview.png"), full_page=True)

    pdf = tmp_path / "营业执照.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("上传申请材料").set_input_files(str(pdf))
    tap(page.get_by_role("button", name="确认提交"))

    expect(page).to_have_url(re.compile(r"/requests/LX\d+$"))
    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("申请已提交")
    match = re.search(r"申请编号\s*(LX\d+)，查询码\s*([A-Z0-9]{6})", flash.inner_text())
    assert match, flash.inner_text()
    number, query_code = match.groups()
    assert page.url.endswith(f"/requests/{number}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(number)
    expect(heading.locator(".status")).to_have_text(SUBMITTED)
    expect(page.locator(".eyebrow")).to_have_text("一件事一次办")
    tickets = page.locator("section.ticket")
    expect(tickets).to_have_count(len(expected_bureaus))
    for bureau in expected_bureaus:
        expect(tickets.locator("h2", has_text=bureau)).to_contain_text(SUBMITTED)
    attachment = page.get_by_role("link", name="营业执照.pdf")
    expect(attachment).to_be_visible()
    expect(attachment).to_have_attribute("href", re.compile(r"/attachments/\d+$"))
    axe_check(axe, page, axe_failures, "request page")
    page.screenshot(path=str(artifacts / "phone-bundle-request.png"), full_page=True)

    # the attachment is served back as the same bytes
    response = page.request.get(attachment.get_attribute("href"))
    assert response.status == 200
    assert response.body() == PDF

    # 5. 我的申请 lists it
    tap(account_bar(page).get_by_role("link", name="我的申请"))
    expect(page).to_have_url(re.compile(r"/my/requests$"))
    card = page.locator(".request-card", has=page.get_by_role("link", name=number))
    expect(card).to_have_count(1)
    expect(card.locator(".status")).to_have_text(SUBMITTED)
    expect(card).to_contain_text(TRADEMARK)

    # 6. public progress lookup after logging out
    tap(account_bar(page).get_by_role("button", name="退出"))
    expect(account_bar(page).get_by_role("link", name="登录")).to_be_visible()
    tap(page.get_by_role("navigation", name="主导航").get_by_role("link", name="进度查询"))
    expect(page).to_have_url(re.compile(r"/progress$"))
    page.get_by_label("申请编号").fill(number)
    page.get_by_label("查询码").fill(query_code)
    tap(page.get_by_role("main").get_by_role("button", name="查询"))
    result = page.locator(".progress-result")
    expect(result).to_be_visible()
    expect(result.get_by_role("heading", level=2)).to_have_text(f"{number}：{SUBMITTED}")
    for bureau in expected_bureaus:  # each ticket: its bureau, status, services and what comes next
        standing = result.locator(".standing").filter(has=page.get_by_role("heading", level=3, name=bureau))
        expect(standing.get_by_role("heading", level=3)).to_contain_text(SUBMITTED)
        expect(standing).to_contain_text("等待承办部门签收")
    expect(result).to_contain_text(TRADEMARK)
    expect(page.get_by_role("main")).not_to_contain_text(COMPANY)
    expect(page.get_by_role("main")).not_to_contain_text("营业执照")

    assert not axe_failures, "axe found serious problems:\n" + "\n".join(axe_failures)
