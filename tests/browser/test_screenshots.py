"""Screenshots for a human look (test-artifacts/, git-ignored): Chinese text must render as text."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def distinct_cjk_glyphs(page) -> bool:
    """Without a CJK font every character is drawn as the same empty box: compare two glyphs' pixels."""
    return page.evaluate(
        """() => {
            const font = getComputedStyle(document.body).fontFamily;
            const draw = (ch) => {
                const c = document.createElement('canvas');
                c.width = c.height = 40;
                const g = c.getContext('2d');
                g.font = `32px ${font}`;
                g.fillText(ch, 2, 32);
                return c.toDataURL();
            };
            return draw('澧') !== draw('县') && draw('质') !== draw('量');
        }"""
    )


@pytest.mark.parametrize("device", ["phone"])
def test_phone_home_screenshot(page, artifacts):
    page.goto("/")
    page.get_by_role("heading", level=1).wait_for()
    assert distinct_cjk_glyphs(page), "Chinese renders as boxes: install fonts-noto-cjk"
    page.screenshot(path=str(artifacts / "phone-home.png"), full_page=True)
    assert (artifacts / "phone-home.png").stat().st_size > 10_000


@pytest.mark.parametrize("device", ["desktop"])
def test_desktop_guide_screenshot(page, artifacts):
    page.goto("/services/JL-002")
    page.get_by_role("heading", level=1).wait_for()
    assert distinct_cjk_glyphs(page), "Chinese renders as boxes: install fonts-noto-cjk"
    page.screenshot(path=str(artifacts / "desktop-guide.png"), full_page=True)
    assert (artifacts / "desktop-guide.png").stat().st_size > 10_000
