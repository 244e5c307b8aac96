"""我有需求 suggests services from the same relevance engine as search, over the whole need: every
meaningful word of it OR-ed and ranked by the engine's score, each part of the need answered."""
from __future__ import annotations

import pytest

from search_index import CatalogIndex
from tests.helpers import csrf, login, make_enterprise, soup

from .bundled import bundled_app_fixture, bundled_index_fixture  # noqa: F401  (fixtures)

HERBS = "我们是做中药饮片的小厂，想知道产品出口前要做哪些检测和认证。"  # the form's own example
HERB_TESTING = "中药材质量检验委托服务"
INSTRUMENT = "我们新买了一台激光粒度仪，需要计量，有没有补贴"
CALIBRATION = "非强制检定计量器具校准"
SUBSIDY = "质量强县奖补资金兑付"


def names(result) -> list[str]:
    return [h.name_html.replace("<mark>", "").replace("</mark>", "") for h in result.hits]


def test_the_forms_own_example_finds_herb_testing(bundled_index: CatalogIndex) -> None:
    assert bundled_index.search(HERBS).total <= 1  # as a search it is too long to match in full
    found = names(bundled_index.search_need(HERBS))
    assert found[0] == HERB_TESTING, found
    assert len(found) <= 5


def test_each_part_of_a_need_is_answered(bundled_index: CatalogIndex) -> None:
    # 计量 brings a dozen services, 补贴 only one: both parts are answered
    found = names(bundled_index.search_need(INSTRUMENT))
    assert CALIBRATION in found and SUBSIDY in found, found
    # the short searches agree
    assert SUBSIDY in names(bundled_index.search("补贴"))
    assert CALIBRATION in names(bundled_index.search("计量", per_page=50))


def test_ranked_by_the_search_score(bundled_index: CatalogIndex) -> None:
    result = bundled_index.search_need("我们厂的地磅需要年检，不知道找谁")
    assert names(result)[0] == "汽车衡（地磅）检定"
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert bundled_index.search_need("我们厂的地磅").hits[0].score == pytest.approx(
        bundled_index.search("我们厂的地磅").hits[0].score)  # the same engine, the same score


@pytest.mark.parametrize("text", ["", "   ", "的了吗", "\x00\x01", "x" * 5000, "地" * 3000])
def test_odd_needs_never_fail(bundled_index: CatalogIndex, text: str) -> None:
    result = bundled_index.search_need(text)
    assert len(result.hits) <= 5


def test_the_need_page_suggests_them(bundled_app) -> None:
    client = bundled_app.test_client()
    login(client, make_enterprise(bundled_app))
    for need, expected in ((HERBS, [HERB_TESTING]), (INSTRUMENT, [CALIBRATION, SUBSIDY])):
        page = soup(client.post("/need", data={
            "csrf_token": csrf(client, "/need"), "description": need, "contact_name": "李华",
            "contact_mobile": "13907361234", "action": "suggest"}))
        shown = [a.get_text() for a in page.select(".suggest-box .service-name a")]
        for name in expected:
            assert name in shown, (need, shown)
        summaries = [p.get_text() for p in page.select(".suggest-box .service-summary")]
        assert all(summaries), summaries
