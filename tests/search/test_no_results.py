"""A search that finds nothing offers real ways on: corrections the index can give, a search with
fewer words (with its count), the 我有需求 path and the joint office's phone -- never a fixed list
of popular services. Anonymous visitors reach 我有需求 through the login, which leads back."""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from search_index import CatalogIndex
from tests.helpers import PASSWORD, make_enterprise, make_staff, soup

from .bundled import bundled_app_fixture, bundled_docs, bundled_index_fixture  # noqa: F401  (fixtures)

NEED = "我们新买了一台激光粒度仪，需要计量，有没有补贴"
JOINT_OFFICE_PHONE = "0736-3222306"  # services/data/catalog.json, bureau "joint-office"


def popular_names() -> set[str]:
    return {d["name"] for d in bundled_docs() if d.get("popular")}


def test_fewer_words_drops_the_words_that_find_nothing(bundled_index: CatalogIndex) -> None:
    result = bundled_index.search(NEED)
    assert result.total == 0
    assert result.fewer_words, result
    first = result.fewer_words[0]
    assert first.query == "计量 补贴"
    assert first.total == bundled_index.search(first.query).total > 0
    assert not set(result.suggestions) & popular_names()


def test_fewer_words_when_each_word_finds_something_but_not_together(bundled_index: CatalogIndex) -> None:
    q = "汽车衡 专利 茶叶 电梯"  # four real words, no service has two of them
    result = bundled_index.search(q)
    assert result.total == 0
    assert result.fewer_words
    for alt in result.fewer_words:
        assert len(alt.query.split()) < 4
        assert alt.total == bundled_index.search(alt.query).total > 0


def test_corrections_come_with_their_counts(bundled_index: CatalogIndex) -> None:
    for typo, right in (("地傍", "地磅"), ("shangbaio", "商标")):
        result = bundled_index.search(typo)
        assert result.total == 0
        found = {a.query: a.total for a in result.corrections}
        assert right in found, (typo, result.corrections)
        assert found[right] == bundled_index.search(right).total > 0


def test_nonsense_gets_no_made_up_suggestions(bundled_index: CatalogIndex) -> None:
    result = bundled_index.search("qqzzxxkk")
    assert result.total == 0
    assert result.corrections == [] and result.fewer_words == []  # not the five popular services


def test_alternatives_honour_the_filters(bundled_index: CatalogIndex) -> None:
    result = bundled_index.search(NEED, category="metrology")
    assert result.total == 0
    assert result.fewer_words
    alt = result.fewer_words[0]
    assert alt.total == bundled_index.search(alt.query, category="metrology").total > 0


# --------------------------------------------------------------------------- the pages
def test_no_results_page_offers_fewer_words_need_and_the_joint_office(bundled_app) -> None:
    client = bundled_app.test_client()
    page = soup(client.get("/search?q=" + quote(NEED)))
    box = page.select_one(".no-results")
    assert box is not None
    text = box.get_text(" ", strip=True)
    assert "您是不是要找" not in text  # no corrections for this one, and no fixed list instead
    links = {a.get_text(" ", strip=True): a["href"] for a in box.select(".fewer-words a")}
    assert any(label.startswith("计量 补贴") and label.endswith("项") for label in links), links
    href = next(h for label, h in links.items() if label.startswith("计量 补贴"))
    assert parse_qs(urlsplit(href).query)["q"] == ["计量 补贴"]
    need = box.select_one("a[href^='/need']")
    assert need is not None and "我有需求" in need.get_text()
    assert parse_qs(urlsplit(need["href"]).query)["q"] == [NEED]
    phone = box.select_one(f"a[href='tel:{JOINT_OFFICE_PHONE.replace('-', '')}']")
    assert phone is not None and phone.get_text() == JOINT_OFFICE_PHONE
    for name in popular_names():
        assert name not in text
    assert not page.select(".facets")  # nothing to filter


def test_no_results_under_a_filter_says_how_many_without_it(bundled_app) -> None:
    client = bundled_app.test_client()
    page = soup(client.get("/search?q=" + quote("地磅") + "&category=ip"))
    from portal.extensions import search

    with bundled_app.app_context():
        unfiltered = search.index.search("地磅").total
    link = next(a for a in page.select(".no-results a") if "去掉筛选条件" in a.get_text())
    assert link.get_text() == f"去掉筛选条件再搜一次（{unfiltered} 项）"
    assert parse_qs(urlsplit(link["href"]).query) == {"q": ["地磅"]}
    assert page.select_one(".facets details[open]")  # the filter in use is in sight


def test_home_page_names_the_joint_office_phone_and_the_need_path(bundled_app) -> None:
    client = bundled_app.test_client()
    page = soup(client.get("/"))
    help_box = page.select_one(".help-box")
    assert JOINT_OFFICE_PHONE in help_box.get_text()
    assert help_box.select_one("a[href='tel:07363222306']")
    need = help_box.select_one("a[href='/need']")
    assert need is not None and "我有需求" in need.get_text()
    assert "我有需求" in page.select_one(".hero a[href='/need']").get_text()  # also right under the search box


def test_the_need_link_goes_through_login_and_back(bundled_app) -> None:
    client = bundled_app.test_client()
    target = "/need?q=" + quote("激光粒度仪")
    response = client.get(target)
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert urlsplit(login_url).path == "/account/login"
    assert parse_qs(urlsplit(login_url).query)["next"] == ["/need?q=激光粒度仪"]
    uscc = make_enterprise(bundled_app)
    page = soup(client.get(login_url))
    token = page.select_one("input[name=csrf_token]")["value"]
    back = client.post(login_url, data={"login": uscc, "password": PASSWORD, "csrf_token": token})
    assert back.status_code == 302 and back.headers["Location"].startswith("/need")
    need = soup(client.get(back.headers["Location"]))
    assert need.select_one("textarea[name=description]").get_text().strip() == "激光粒度仪"


@pytest.mark.parametrize("role", ["handler"])
def test_staff_see_the_phone_but_no_need_link(bundled_app, role) -> None:
    client = bundled_app.test_client()
    make_staff(bundled_app, "search-h", role)
    from tests.helpers import login

    login(client, "search-h")
    page = soup(client.get("/search?q=" + quote(NEED)))
    box = page.select_one(".no-results")
    assert not box.select("a[href^='/need']")
    assert JOINT_OFFICE_PHONE in box.get_text()
