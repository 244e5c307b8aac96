"""Searching as a newcomer would, on a phone and on a desktop screen: a search that finds nothing
offers real ways on (fewer words with their counts, 我有需求 with the login leading back to it, the
joint office's phone); on the phone the filters come before the results and the header is compact."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "passw0rd-ok"
COMPANY = "澧县澧兰精密粉体有限公司"
NEED = "我们新买了一台激光粒度仪，需要计量，有没有补贴"
CALIBRATION = "非强制检定计量器具校准"
SUBSIDY = "质量强县奖补资金兑付"
JOINT_OFFICE_PHONE = "0736-3222306"  # services/data/catalog.json: bureau "joint-office"
PHONE_HEADER_MAX = 120  # px of the 844 px phone screen
DESKTOP_HEADER_MAX = 160


def search_uscc() -> str:
    """A valid 统一社会信用代码 used by no other test."""
    from services.accounts.uscc import check_character

    first17 = "91430723MA4QRCH01"
    return first17 + check_character(first17)


@pytest.fixture(scope="module")
def enterprise(live_app) -> str:
    from sqlalchemy import select

    from portal.extensions import db
    from services.accounts import users as accounts
    from services.models import User

    uscc = search_uscc()
    with live_app.app_context():
        if db.session.scalar(select(User).where(User.username == uscc)) is None:
            accounts.register_enterprise(db.session, accounts.EnterpriseProfile(
                company=COMPANY, uscc=uscc, contact_name="钱进", mobile="13907362468",
                email="qianjin@example.com", township="澧阳街道", industry="food", size="small"), PASSWORD)
    return uscc


def header_height(page) -> float:
    box = page.locator("header.site-header").bounding_box()
    assert box is not None
    return box["height"]


def shot(page, artifacts, name: str, device: str, full_page: bool = True) -> None:
    folder = artifacts / "journeys"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{device}.png"), full_page=full_page)


def test_a_search_that_finds_nothing_leads_on(page, tap, device, artifacts, enterprise, axe):
    page.goto("/")
    box = page.get_by_role("searchbox", name="搜索服务")
    box.fill(NEED)
    tap(page.get_by_role("search").get_by_role("button", name="搜索"))
    expect(page.locator(".result-count")).to_contain_text("找到 0 项")
    help_box = page.locator(".no-results")
    expect(help_box.get_by_role("heading", name="没有找到匹配的服务")).to_be_visible()
    # no fixed list of popular services: a search with fewer words, with its count
    fewer = help_box.locator(".fewer-words a")
    expect(fewer.first).to_be_visible()
    label = fewer.first.inner_text()
    match = re.fullmatch(r"(.+?)\s+(\d+) 项", label.strip())
    assert match, label
    words, count = match.group(1), int(match.group(2))
    assert "计量" in words and count > 0, label
    # the joint office's real phone number, and the way to 我有需求
    phone = help_box.get_by_role("link", name=JOINT_OFFICE_PHONE)
    expect(phone).to_be_visible()
    expect(phone).to_have_attribute("href", "tel:07363222306")
    need_link = help_box.get_by_role("link", name=re.compile("我有需求"))
    expect(need_link).to_be_visible()
    shot(page, artifacts, "search-no-results", device)
    serious = [v["id"] for v in axe.run(page).response["violations"] if v["impact"] in {"serious", "critical"}]
    assert not serious, serious

    tap(fewer.first)
    expect(page.locator(".result-count")).to_contain_text(f"找到 {count} 项")
    expect(page.get_by_role("searchbox", name="搜索服务")).to_have_value(words)
    expect(page.locator(".service-card")).not_to_have_count(0)

    # back to the empty search, on to 我有需求: the login page leads back to it with the words kept
    page.go_back()
    tap(page.locator(".no-results").get_by_role("link", name=re.compile("我有需求")))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    page.get_by_label("统一社会信用代码或用户名").fill(enterprise)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="登录"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我有需求")
    expect(page.get_by_label("请用自己的话描述遇到的问题或需求")).to_have_value(NEED)
    tap(page.get_by_role("button", name="帮我找服务"))
    names = page.locator(".suggest-box .service-name")
    expect(names.first).to_be_visible()
    found = [n.strip() for n in names.all_inner_texts()]
    assert CALIBRATION in found and SUBSIDY in found, found
    shot(page, artifacts, "need-suggestions", device)


@pytest.mark.parametrize("device", ["phone"])
def test_phone_filters_come_before_the_results_and_the_header_is_compact(page, tap, device, artifacts, enterprise):
    page.goto("/search?q=" + quote("检测"))
    assert header_height(page) <= PHONE_HEADER_MAX, header_height(page)
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link")).to_have_count(5)
    for link in nav.get_by_role("link").all():
        expect(link).to_be_in_viewport()

    toggle = page.locator(".facets summary")
    first_result = page.locator(".service-card").first
    expect(toggle).to_be_visible()
    t, r = toggle.bounding_box(), first_result.bounding_box()
    assert t["y"] + t["height"] <= r["y"], (t, r)
    assert t["y"] < 844, t  # on the first screen
    category = page.get_by_role("complementary", name="筛选").get_by_role("link", name=re.compile(r"^检验检测\s+\d+$"))
    expect(category).to_be_hidden()  # folded until asked for
    shot(page, artifacts, "search-filters-folded", device, full_page=False)
    tap(toggle)
    expect(category).to_be_visible()
    expected = int(category.inner_text().split()[-1])
    shot(page, artifacts, "search-filters-open", device)
    tap(category)
    expect(page).to_have_url(re.compile("category=testing"))
    expect(page.locator(".result-count")).to_contain_text(f"找到 {expected} 项")
    # the chosen filter stays in sight, above the results
    chosen = page.get_by_role("complementary", name="筛选").get_by_role("link", name=re.compile(r"^检验检测\s+\d+$"))
    expect(chosen).to_be_visible()
    expect(chosen).to_have_attribute("aria-current", "true")
    expect(toggle).to_contain_text("已选 1 项")

    # logged in, the header keeps every link and stays compact
    page.goto("/account/login")
    page.get_by_label("统一社会信用代码或用户名").fill(enterprise)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    tap(page.get_by_role("main").get_by_role("button", name="登录"))
    bar = page.get_by_role("navigation", name="账号")
    expect(bar.get_by_role("button", name="退出")).to_be_attached()
    page.goto("/search?q=" + quote("检测"))
    for name in ("我的申请", "我有需求", "通知", "账号"):
        expect(bar.get_by_role("link", name=re.compile(name))).to_be_visible()
    expect(bar.get_by_role("button", name="退出")).to_be_visible()
    assert header_height(page) <= PHONE_HEADER_MAX, header_height(page)
    shot(page, artifacts, "search-header-enterprise", device, full_page=False)


@pytest.mark.parametrize("device", ["desktop"])
def test_desktop_filters_are_an_open_sidebar(page, device, artifacts):
    page.goto("/search?q=" + quote("检测"))
    assert header_height(page) <= DESKTOP_HEADER_MAX, header_height(page)
    facets = page.get_by_role("complementary", name="筛选")
    category = facets.get_by_role("link", name=re.compile(r"^检验检测\s+\d+$"))
    expect(category).to_be_visible()  # no toggle to open first
    f, r = facets.bounding_box(), page.locator(".service-card").first.bounding_box()
    assert f["x"] >= r["x"] + r["width"], (f, r)  # beside the results, on the right
    assert abs(f["y"] - r["y"]) < 80, (f, r)
    shot(page, artifacts, "search-results", device)
