"""On a 390 px phone nothing scrolls sideways, the navigation is easy to tap, the search box is there."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("device", ["phone"])]

PAGES = {
    "home": "/",
    "category": "/categories/metrology",
    "guide": "/services/JL-002",
    "search": "/search?q=" + quote("我们厂的地磅需要年检"),
    "catalog": "/search",
    "bureaus": "/bureaus",
    "english-home": "/lang/en?next=/",
    "english-guide": "/lang/en?next=/services/JL-002",
}
MIN_TAP = 40  # px, CSS pixels


def overflowing(page):
    """Elements whose right edge sticks out of the viewport (what makes a page scroll sideways)."""
    return page.evaluate(
        """(width) => {
            const clippedByAncestor = (el) => {
                for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                    const clips = getComputedStyle(p).overflowX !== 'visible';
                    if (clips && p.getBoundingClientRect().right <= width + 1) return true;
                }
                return false;
            };
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.right > width + 1 && !clippedByAncestor(el)) {
                    const name = el.tagName.toLowerCase() + (el.className ? '.' + el.className : '');
                    out.push(name + ' right=' + Math.round(r.right));
                }
            }
            return out.slice(0, 10);
        }""",
        page.viewport_size["width"],
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_no_horizontal_scrolling(page, name):
    page.goto(PAGES[name])
    # A phone browser zooms out to fit content that is too wide, which makes innerWidth grow with
    # it: so check innerWidth against the real screen width as well as scrollWidth against innerWidth.
    screen = page.viewport_size["width"]
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width == screen, (
        f"{name} is wider than the {screen}px screen: scrollWidth={scroll_width}, innerWidth={inner_width}; "
        f"sticking out: {overflowing(page)}")


@pytest.mark.parametrize("name", ["home", "category", "guide", "search"])
def test_navigation_is_tappable_and_search_is_visible(page, name):
    page.goto(PAGES[name])
    nav = page.get_by_role("navigation", name="主导航")
    links = nav.get_by_role("link")
    expect(links).to_have_count(5)  # 首页 服务目录 一件事一次办 服务部门 进度查询, wrapping onto two rows
    for i in range(5):
        link = links.nth(i)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["height"] >= MIN_TAP, f"{link.inner_text()} is {box['height']:.0f}px high"
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{link.inner_text()} is off screen: {box}"
    switcher = page.get_by_role("navigation", name="语言").get_by_role("link", name="English")
    assert switcher.bounding_box()["height"] >= 24  # WCAG 2.5.8 minimum target size

    box = page.get_by_role("searchbox", name="搜索服务")
    if name == "guide":
        expect(box).to_have_count(0)  # the guide has no search box (the nav leads to the catalog)
        return
    if name == "category":
        box.scroll_into_view_if_needed()  # in the sidebar, below the list of services
    expect(box).to_be_visible()
    expect(box).to_be_in_viewport()
    r = box.bounding_box()
    assert r["width"] >= 200 and r["height"] >= MIN_TAP, r
    button = page.get_by_role("search").get_by_role("button", name="搜索")
    expect(button).to_be_in_viewport()
    assert button.bounding_box()["height"] >= MIN_TAP


@pytest.mark.parametrize("name", ["home", "english-home"])
def test_header_fits_on_one_row(page, name):
    """Brand and language switcher share the top row; 中文 / English never break inside a word."""
    page.goto(PAGES[name])
    switcher = page.locator(".lang-switch > *")
    expect(switcher).to_have_count(2)
    boxes = [switcher.nth(i).bounding_box() for i in range(2)]
    for box in boxes:
        assert box["height"] < 40, f"language switcher item wraps: {boxes}"
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2, boxes
    assert boxes[1]["x"] + boxes[1]["width"] <= 390
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] + brand["width"] <= boxes[0]["x"], (brand, boxes)


def test_guide_checklist_boxes_are_tappable(page):
    page.goto(PAGES["guide"])
    rows = page.locator(".checklist li")
    assert rows.count() >= 2
    for i in range(rows.count()):
        assert rows.nth(i).bounding_box()["height"] >= MIN_TAP - 4
