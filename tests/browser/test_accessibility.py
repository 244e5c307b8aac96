"""axe-core finds no serious or critical accessibility problem on the public pages."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "category": "/categories/metrology",
    "guide": "/services/JL-002",
    "offline-guide": "/services/JL-003",
    "search": "/search?q=%E5%9C%B0%E7%A3%85",  # 地磅
    "facet": "/search?q=%E6%A3%80%E6%B5%8B&category=testing",  # 检测
    "no-results": "/search?q=qqzzxxkk",
    "bureaus": "/bureaus",
    "bureau": "/bureaus/amr",
    "404": "/no-such-page",
    "english-home": "/lang/en?next=/",
    "english-guide": "/lang/en?next=/services/ZC-001",
}
BLOCKING = {"serious", "critical"}


def report(violations):
    lines = []
    for v in violations:
        targets = "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_axe_violations(page, axe, name):
    response = page.goto(PAGES[name])
    assert response.status == (404 if name == "404" else 200)
    if name.startswith("english"):
        assert page.locator("html").get_attribute("lang") == "en"
    results = axe.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {PAGES[name]}:\n{report(blocking)}"


@pytest.mark.parametrize("device", ["desktop"])
def test_keyboard_skip_link_and_checklist(page):
    """From the top of a guide: Tab reaches the skip link first, Enter jumps to the content,
    and a material on the checklist can be ticked with the space bar."""
    from playwright.sync_api import expect

    page.goto("/services/JL-002")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # it shows itself when focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    first = page.locator(".checklist").get_by_role("checkbox").first
    first.focus()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    outline = first.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "focused checkbox shows no focus ring"
