"""Forms as a new user meets them, on a phone and a desktop: registration with several wrong
fields shows every problem at once beside its field; an empty application form does too; a
一件事 bundle asks 产品名称 once and groups the other questions under their service."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "passw0rd-ok"
FIRST17 = {"phone": "91430723MA4LF0001", "desktop": "91430723MA4LF0002"}


def uscc_for(device: str, *, bad: bool = False) -> str:
    from services.accounts import uscc

    first = FIRST17[device]
    good = uscc.check_character(first)
    if not bad:
        return first + good
    return first + next(c for c in uscc.CHARSET if c != good)


def shot(page, artifacts, name: str, device: str) -> None:
    folder = artifacts / "journeys"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{device}.png"), full_page=True)


def error_of(page, field_id: str):
    return page.locator(f"#{field_id}-err")


def fits_the_screen(page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the screen"


@pytest.fixture(scope="module")
def bundles(live_app):
    from portal.extensions import db
    from services import seed

    with live_app.app_context():
        seed.load_bundles(db.session)


def enterprise(live_app, code: str, company: str) -> str:
    """An enterprise account made directly in the live server's database (once per code)."""
    from sqlalchemy import select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.models import Enterprise

    with live_app.app_context():
        if db.session.scalar(select(Enterprise.id).where(Enterprise.uscc == code)) is None:
            accounts.register_enterprise(db.session, accounts.EnterpriseProfile(
                company=company, uscc=code, contact_name="周敏", mobile="13907361299", email="zm@example.com",
                township="澧阳街道", industry="food", size="small"), PASSWORD)
    return code


def log_in(page, tap, login: str) -> None:
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(login)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="登录"))
    expect(page).to_have_url(re.compile(r"/my/requests$"))


# --------------------------------------------------------------------------- registration
def test_registration_shows_every_wrong_field_at_once(page, tap, device, artifacts, live_app):
    from services.accounts import users as accounts

    page.goto("/account/register")
    for label in ("所在乡镇（街道）", "所属行业", "企业规模"):  # required, and marked so
        expect(page.locator("label", has_text=label).locator("xpath=following-sibling::span[1]")).to_have_text("*")
    with live_app.app_context():
        rule = str(accounts.password_rule())
    expect(page.locator("#password-hint")).to_have_text(rule)

    page.get_by_label("企业名称").fill("澧县表单测试食品有限公司")
    page.get_by_label("统一社会信用代码").fill(uscc_for(device, bad=True))
    page.get_by_label("联系人").fill("周敏")
    page.get_by_label("手机号码").fill("1390736")
    page.get_by_label("电子邮箱").fill("zhoumin@")
    page.get_by_label("密码", exact=True).fill("abc1")
    page.get_by_label("再次输入密码").fill("abc2")
    tap(page.get_by_role("button", name="注册"))

    summary = page.locator(".form-error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("li")).to_have_count(8)
    for field_id, words in [("uscc", "校验位"), ("mobile", "11 位手机号码"), ("email", "邮箱格式不正确"),
                            ("township", "乡镇"), ("industry", "行业"), ("size", "规模"),
                            ("password", "至少 8 位"), ("confirm", "不一致")]:
        error = error_of(page, field_id)
        expect(error).to_be_visible()
        expect(error).to_contain_text(words)
        # beside its own input, in the same field block
        assert error.evaluate(f"el => el.closest('.field').contains(document.getElementById('{field_id}'))")
        expect(page.locator(f"#{field_id}")).to_have_attribute("aria-invalid", "true")
    fits_the_screen(page)
    shot(page, artifacts, "register-all-errors", device)

    # fix everything in one go
    page.get_by_label("统一社会信用代码").fill(uscc_for(device))
    page.get_by_label("手机号码").fill("13907361299")
    page.get_by_label("电子邮箱").fill("zhoumin@example.com")
    page.get_by_label("所在乡镇（街道）").select_option(label="澧阳街道")
    page.get_by_label("所属行业").select_option(label="化妆品")
    page.get_by_label("企业规模").select_option(label="小型企业")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    tap(page.get_by_role("button", name="注册"))
    expect(page).to_have_url(re.compile(r"/my/requests$"))
    expect(page.locator(".flash-success")).to_contain_text(uscc_for(device))

    # registering the same code again: told the code is registered, offered login and reset
    tap(page.get_by_role("navigation", name="账号").get_by_role("button", name="退出"))
    expect(page.locator(".flash-success")).to_contain_text("您已安全退出")
    page.goto("/account/register")
    page.get_by_label("企业名称").fill("澧县表单测试食品有限公司")
    page.get_by_label("统一社会信用代码").fill(uscc_for(device))
    tap(page.get_by_role("button", name="注册"))
    expect(error_of(page, "uscc")).to_contain_text("统一社会信用代码已注册")
    expect(page.locator("main")).not_to_contain_text("用户名已被使用")
    expect(page.locator("#uscc-taken").get_by_role("link", name="用该代码登录")).to_be_visible()
    shot(page, artifacts, "register-code-taken", device)


# --------------------------------------------------------------------------- apply
def test_an_empty_application_reports_everything_at_once(page, tap, device, artifacts, live_app):
    code = fix_code("91430723MA4LF01" + ("1" if device == "phone" else "2") + "0")
    enterprise(live_app, code, "澧县空表测试有限公司")
    log_in(page, tap, code)
    page.goto("/apply?services=JC-001")
    expect(page.get_by_role("heading", level=1)).to_have_text("产品质量委托检验")
    page.get_by_label("联系人").fill("")
    page.get_by_label("联系电话（手机）").fill("")
    tap(page.get_by_role("button", name="下一步：核对并上传材料"))

    summary = page.locator(".form-error-summary")
    expect(summary).to_be_visible()
    for text in ("请填写联系人", "请填写手机号码", "产品名称及规格型号：此项为必填项", "样品数量：此项为必填项",
                 "检验项目或依据标准：此项为必填项", "报告用途：此项为必填项"):
        expect(summary).to_contain_text(text)
    expect(summary.locator("li")).to_have_count(6)
    for field_id in ("contact_name", "contact_mobile", "f_product_name", "f_sample_quantity", "f_test_items",
                     "f_report_purpose"):
        expect(error_of(page, field_id)).to_be_visible()
    fits_the_screen(page)
    shot(page, artifacts, "apply-empty-form", device)


def fix_code(code: str) -> str:
    """The login for a code built above: its last character made the real check character."""
    from services.accounts import uscc

    return code[:17] + uscc.check_character(code[:17])


# --------------------------------------------------------------------------- bundle
def test_a_bundle_asks_shared_fields_once(page, tap, device, artifacts, live_app, bundles):
    code = fix_code("91430723MA4LF02" + ("1" if device == "phone" else "2") + "0")
    enterprise(live_app, code, "澧县农品测试合作社")
    log_in(page, tap, code)
    page.goto("/apply?bundle=farm-brand")
    expect(page.get_by_role("heading", level=1)).to_have_text("农产品品牌打造")
    form = page.locator("form.stack-form", has=page.get_by_role("button", name="下一步：核对并上传材料"))
    expect(form.locator("label", has_text=re.compile(r"^产品名称$"))).to_have_count(1)
    expect(form.locator("label", has_text="申报产品名称")).to_have_count(0)
    shared = form.locator("fieldset.shared-fields")
    expect(shared.locator("legend")).to_contain_text("共用信息")
    expect(shared).to_contain_text("用于：绿色食品认证申报、农业区域公用品牌与农产品品牌培育、地理标志产品保护与地理标志商标申报")
    legends = form.locator("fieldset.service-fields > legend")
    expect(legends).to_have_count(4)
    for i, name in enumerate(["农产品质量安全检测", "绿色食品认证申报", "农业区域公用品牌与农产品品牌培育",
                              "地理标志产品保护与地理标志商标申报"]):
        expect(legends.nth(i)).to_contain_text(name)
    fits_the_screen(page)
    shot(page, artifacts, "bundle-form", device)

    # answer everything: the one 产品名称 answer reaches all three services
    page.get_by_label("产品名称", exact=True).fill("澧县大米")
    sections = form.locator("fieldset.service-fields")
    sections.nth(0).get_by_label("蔬菜").check()
    sections.nth(0).get_by_label("样品批次数").fill("2")
    sections.nth(0).locator("input[type=radio]").first.check()
    sections.nth(1).get_by_label("基地面积（亩）").fill("300")
    sections.nth(1).locator("input[type=radio]").first.check()
    sections.nth(2).locator("input[type=radio]").first.check()
    sections.nth(3).locator("input[type=radio]").first.check()
    tap(page.get_by_role("button", name="下一步：核对并上传材料"))
    expect(page.get_by_role("heading", level=1)).to_have_text("核对申请")
    expect(page.locator(".form-error-summary")).to_have_count(0)
    for name in ("申报产品名称", "产品名称"):
        expect(page.locator("dl.contact-list div", has=page.locator("dt", has_text=re.compile(f"^{name}$")))
               .locator("dd").first).to_have_text("澧县大米")
    expect(page.locator("dd", has_text="澧县大米")).to_have_count(3)
    shot(page, artifacts, "bundle-preview", device)
