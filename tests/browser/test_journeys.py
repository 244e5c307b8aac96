"""What a person does on the portal, on a phone and on a desktop screen."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WEIGHBRIDGE = "汽车衡（地磅）检定"
TRADEMARK = "商标注册便利化服务"


def search_from_box(page, tap, text):
    box = page.get_by_role("searchbox", name="搜索服务")
    expect(box).to_be_visible()
    box.fill(text)
    tap(page.get_by_role("search").get_by_role("button", name="搜索"))
    expect(page).to_have_url(re.compile(r"/search\?"))


def result_names(page):
    return [name.strip() for name in page.locator(".service-card .service-name").all_inner_texts()]


def test_browse_category_and_read_a_guide(page, tap):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("企业质量服务，一站找到、一次办好")
    tap(page.get_by_role("link", name=re.compile(r"^计量\s*\d+ 项服务$")))

    expect(page).to_have_url(re.compile(r"/categories/metrology$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"计量$"))
    cards = page.locator(".service-card")
    expect(cards.first).to_be_visible()
    count = cards.count()
    assert count >= 5, f"only {count} metrology services listed"
    expect(page.get_by_text(f"共 {count} 项服务")).to_be_visible()

    tap(page.get_by_role("link", name=WEIGHBRIDGE, exact=True))
    expect(page).to_have_url(re.compile(r"/services/JL-002$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(WEIGHBRIDGE)
    expect(page).to_have_title(re.compile(WEIGHBRIDGE))

    facts = page.locator(".key-facts")
    expect(facts.get_by_text("承诺时限")).to_be_visible()
    expect(facts).to_contain_text(re.compile(r"承诺时限\s*\d+ 个工作日"))

    expect(page.get_by_role("heading", name="申请材料")).to_be_visible()
    boxes = page.locator(".checklist").get_by_role("checkbox")
    assert boxes.count() >= 2
    first = boxes.first
    expect(first).not_to_be_checked()
    label = page.locator(".checklist label").first.inner_text()
    tap(page.get_by_label(label, exact=True))  # tapping the label ticks its box
    expect(first).to_be_checked()
    tap(page.get_by_label(label, exact=True))
    expect(first).not_to_be_checked()

    expect(page.get_by_role("heading", name="办理流程")).to_be_visible()
    steps = page.locator("ol.steps > li")
    assert steps.count() >= 2
    expect(steps.first).to_be_visible()

    expect(page.get_by_role("heading", name="设定依据")).to_be_visible()
    expect(page.locator("section", has=page.get_by_role("heading", name="设定依据"))).to_contain_text("《")

    contact = page.locator(".contact-list div", has_text="咨询电话")
    expect(contact).to_be_visible()
    phone = contact.get_by_role("link")
    expect(phone).to_have_text(re.compile(r"\d{3,}"))
    expect(phone).to_have_attribute("href", re.compile(r"^tel:\d+$"))

    # the breadcrumb leads back to the category
    crumbs = page.get_by_role("navigation", name="当前位置")
    expect(crumbs.get_by_role("link", name="计量")).to_be_visible()


def test_search_in_own_words_then_filter(page, tap):
    page.goto("/")
    search_from_box(page, tap, "我们厂的地磅需要年检")

    expect(page.get_by_role("heading", level=1)).to_have_text("搜索结果")
    expect(page.get_by_role("searchbox", name="搜索服务")).to_have_value("我们厂的地磅需要年检")
    first = page.locator(".service-card").first
    expect(first.locator(".service-name")).to_have_text(WEIGHBRIDGE)
    expect(first.locator(".service-name mark").first).to_be_visible()
    expect(page.locator(".result-count")).to_contain_text("我们厂的地磅需要年检")
    total_before = len(result_names(page))

    facets = page.get_by_role("complementary", name="筛选")
    category = facets.get_by_role("link", name=re.compile(r"^计量\s+\d+$"))
    if not category.is_visible():  # on a phone the filters are folded above the results
        tap(facets.locator("summary"))
    expected = int(category.inner_text().split()[-1])
    tap(category)

    expect(page).to_have_url(re.compile(r"category=metrology"))
    facets = page.get_by_role("complementary", name="筛选")
    chosen = facets.get_by_role("link", name=re.compile(r"^计量\s+\d+$"))
    expect(chosen).to_have_attribute("aria-current", "true")
    expect(page.locator(".result-count")).to_contain_text(f"找到 {expected} 项")
    tags = page.locator(".service-card .service-meta .tag:not(.tag-online)").all_inner_texts()
    assert tags and set(tags) == {"计量"}, tags
    assert len(tags) <= total_before
    expect(page.locator(".service-card").first.locator(".service-name")).to_have_text(WEIGHBRIDGE)

    # 全部 takes the filter off again
    tap(facets.get_by_role("link", name="全部").first)
    expect(page).not_to_have_url(re.compile(r"category="))


@pytest.mark.parametrize("query, within", [("sbzc", 1), ("shangbiao", 3)])
def test_pinyin_finds_trademark_registration(page, tap, query, within):
    page.goto("/search")
    expect(page.get_by_role("heading", level=1)).to_have_text("服务目录")
    search_from_box(page, tap, query)
    expect(page.locator(".service-card").first).to_be_visible()
    names = result_names(page)
    assert TRADEMARK in names[:within], names


def test_nonsense_search_shows_help(page, tap):
    page.goto("/")
    search_from_box(page, tap, "qqzzxxkk")
    expect(page.locator(".service-card")).to_have_count(0)
    help_box = page.locator(".no-results")
    expect(help_box.get_by_role("heading", name="没有找到匹配的服务")).to_be_visible()
    expect(help_box).to_contain_text("拼音")
    expect(page.locator(".result-count")).to_contain_text("找到 0 项")
    tap(help_box.get_by_role("link", name="服务部门名录"))
    expect(page).to_have_url(re.compile(r"/bureaus$"))
    expect(page.locator(".bureau-card").first).to_be_visible()


def test_switch_language_to_english_and_back(page, tap):
    page.goto("/categories/metrology")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    switcher = page.get_by_role("navigation", name="语言")
    expect(switcher.get_by_text("中文")).to_have_attribute("aria-current", "true")
    tap(switcher.get_by_role("link", name="English"))

    expect(page).to_have_url(re.compile(r"/categories/metrology$"))  # stays on the same page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Main navigation")
    for name in ("Home", "Service catalog", "Bureaus"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Skip to main content")).to_have_count(1)

    # the choice sticks while browsing
    tap(nav.get_by_role("link", name="Home", exact=True))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Browse by category")).to_be_visible()

    tap(page.get_by_role("navigation", name="Language").get_by_role("link", name="中文"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    nav = page.get_by_role("navigation", name="主导航")
    for name in ("首页", "服务目录", "服务部门"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="按类别查找")).to_be_visible()
