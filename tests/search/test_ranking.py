"""Relevance: names, keywords, pinyin, natural language, single characters."""

from __future__ import annotations

import pytest

from search_index import CatalogIndex

from .fixtures import SERVICES, codes


@pytest.mark.parametrize("service", SERVICES, ids=[s["code"] for s in SERVICES])
def test_exact_name_ranks_first(ro_index: CatalogIndex, service: dict) -> None:
    result = ro_index.search(service["name"])
    assert codes(result)[0] == service["code"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("地磅", "JL-001"),
        ("磅秤", "JL-001"),
        ("过磅", "JL-001"),
        ("年检", "JL-001"),
        ("电子秤", "JL-002"),
        ("加油机", "JL-002"),
        ("强检", "JL-002"),
        ("压力表", "JL-003"),
        ("企标", "BZ-001"),
        ("团体标准", "BZ-002"),
        ("送检", "JY-001"),
        ("农药残留", "JY-003"),
        ("CMA", "RZ-001"),
        ("cma", "RZ-001"),
        ("绿标", "RZ-002"),
        ("高企", "ZL-002"),
        ("老字号", "PP-001"),
        ("地理标志", "PP-002"),
        ("商标", "IP-001"),
        ("专利", "IP-002"),
        ("质押融资", "IP-003"),
        ("12315", "XF-001"),
        ("ISO9001", "ZL-001"),
    ],
)
def test_keyword_ranks_its_service_first(ro_index: CatalogIndex, query: str, expected: str) -> None:
    assert codes(ro_index.search(query))[0] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # full pinyin of a word of the name / a keyword
        ("shangbiao", "IP-001"),
        ("dibang", "JL-001"),
        ("qiangzhijianding", "JL-002"),
        ("lvseshipin", "RZ-002"),
        ("laozihao", "PP-001"),
        ("zhuanli", "IP-002"),
        # space-separated syllables
        ("shang biao", "IP-001"),
        ("di bang", "JL-001"),
        ("qiang zhi jian ding", "JL-002"),
        # initials
        ("sbzc", "IP-001"),
        ("db", "JL-001"),
        ("qzjd", "JL-002"),
        ("lzh", "PP-001"),
        ("gxjsqy", "ZL-002"),
        # partial pinyin (a prefix typed so far)
        ("shangbiaozhu", "IP-001"),
        ("qichehe", "JL-001"),
        # upper case and full-width letters
        ("ShangBiao", "IP-001"),
        ("ｄｉｂａｎｇ", "JL-001"),
    ],
)
def test_pinyin(ro_index: CatalogIndex, query: str, expected: str) -> None:
    assert codes(ro_index.search(query))[0] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我们厂的地磅需要年检", "JL-001"),
        ("想给产品申请绿色食品标志", "RZ-002"),
        ("怎么注册商标", "IP-001"),
        ("请问加油机怎么做强制检定？", "JL-002"),
        ("我想申请发明专利，需要准备哪些材料", "IP-002"),
        ("我们的化妆品要做微生物检测", "JY-002"),
        ("企业怎么申报中华老字号", "PP-001"),
        ("蔬菜农残检测在哪里办", "JY-003"),
        ("如何认定高新技术企业", "ZL-002"),
    ],
)
def test_natural_language_questions(ro_index: CatalogIndex, query: str, expected: str) -> None:
    assert codes(ro_index.search(query))[0] == expected


def test_stopwords_do_not_drown_real_words(ro_index: CatalogIndex) -> None:
    plain = ro_index.search("地磅 年检")
    chatty = ro_index.search("请问我们需要怎么办理地磅的年检吗")
    assert codes(chatty)[0] == codes(plain)[0] == "JL-001"
    # the function words add no matches of their own
    assert chatty.total == plain.total


def test_single_character(ro_index: CatalogIndex) -> None:
    result = ro_index.search("秤")
    assert set(codes(result)) == {"JL-001", "JL-002"}  # 磅秤, 电子秤


def test_partial_word_matches(ro_index: CatalogIndex) -> None:
    assert "JL-001" in codes(ro_index.search("汽车"))
    assert codes(ro_index.search("车衡"))[0] == "JL-001"
    assert codes(ro_index.search("老字"))[0] == "PP-001"


def test_name_outranks_body_mention(ro_index: CatalogIndex) -> None:
    # "商标" is in IP-001's name and only in PP-002's summary ("证明商标")
    result = ro_index.search("商标")
    assert codes(result)[0] == "IP-001"
    assert "PP-002" in codes(result)


def test_one_latin_letter_does_not_match_everything(ro_index: CatalogIndex) -> None:
    for q in ("a", "s", "Ｑ"):
        assert ro_index.search(q).total == 0


def test_scores_are_descending(ro_index: CatalogIndex) -> None:
    result = ro_index.search("检定 检验 认证")
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)


def test_empty_query_lists_everything_popular_first(ro_index: CatalogIndex) -> None:
    result = ro_index.search("", per_page=100)
    assert result.total == len(SERVICES)
    popular = sorted(s["code"] for s in SERVICES if s["popular"])
    others = sorted(s["code"] for s in SERVICES if not s["popular"])
    assert codes(result) == popular + others
    assert result.suggestions == []
    assert ro_index.search("   ").total == len(SERVICES)


def test_colloquial_words_find_the_official_name(index: CatalogIndex) -> None:
    index.delete(["JL-001"])
    index.upsert([{"code": "S-1", "name": "汽车衡周期检定", "category": "metrology", "bureau": "amr",
                   "summary": "对贸易结算用汽车衡开展周期检定。", "keywords": [], "online": True}])
    assert codes(index.search("我们厂的地磅需要年检"))[0] == "S-1"
    assert codes(index.search("过磅"))[0] == "S-1"


def test_most_words_must_match_in_longer_queries(ro_index: CatalogIndex) -> None:
    # three strong words: a service needs two of them
    assert ro_index.search("火箭发射商标").total == 0
    result = ro_index.search("检验 认证 申报", per_page=100)
    assert set(codes(result)) == {"RZ-001", "RZ-002"}
    # with two words (or stray single characters) any of them will do
    assert ro_index.search("火箭 商标").hits[0].code == "IP-001"
    assert ro_index.search("厂里的磅秤").hits[0].code == "JL-001"
    # pinyin satisfies its word
    assert ro_index.search("shangbiao 注册 便利").hits[0].code == "IP-001"
