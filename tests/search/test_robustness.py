"""Hostile input never breaks search; no-result queries get suggestions."""

from __future__ import annotations

import pytest

from search_index import CatalogIndex, SearchResult

HOSTILE = [
    "",
    " ",
    "\t\n",
    "x" * 1500,
    "检定" * 700,
    "AND OR NOT * ? \" ( ) [ ] { } : ~ ^ \\",
    "a:b",
    "name:地磅",
    "地磅 AND 年检",
    "NOT 检定",
    "\"汽车衡\"~2",
    "商标^10",
    "专*",
    "中文ASCII全角ＡＢＣ１２３混合",
    "\x00\x01\x1b[31m地磅\u200b\ufeff",
    "😀🚀 emoji 地磅",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s %d {0} ${x}",
    "ｑｚｊｄ",
    "\u202e地磅",
    "𠀀𠀁𪚥",  # CJK extension B characters
    "ℌ𝔢𝔩𝔩𝔬 ﬁ ㎏",  # NFKC-expanding characters
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_never_raise(ro_index: CatalogIndex, query: str) -> None:
    result = ro_index.search(query)
    assert isinstance(result, SearchResult)
    assert result.total >= 0
    assert len(result.query) <= 100
    if result.total == 0:  # any alternative offered finds something (none is made up)
        assert all(alt.total > 0 for alt in result.corrections + result.fewer_words)
    for hit in result.hits:
        assert "<script" not in hit.name_html + hit.snippet_html


def test_operators_are_plain_text(ro_index: CatalogIndex) -> None:
    # "NOT 检定" must not exclude 检定 services
    assert ro_index.search("NOT 检定").total == ro_index.search("检定").total
    assert ro_index.search("地磅 AND 年检").hits[0].code == "JL-001"
    assert ro_index.search("name:地磅").hits[0].code == "JL-001"


def test_long_query_is_truncated_with_message(ro_index: CatalogIndex) -> None:
    result = ro_index.search("地磅" + "的" * 300)
    assert result.message == "查询内容过长，已截取前 100 个字。"
    assert len(result.query) == 100
    assert result.hits[0].code == "JL-001"


def test_control_characters_are_removed_with_message(ro_index: CatalogIndex) -> None:
    result = ro_index.search("地\x00磅")
    assert result.query == "地 磅"
    assert result.message
    assert ro_index.search("地磅").message is None


def test_full_width_is_normalised(ro_index: CatalogIndex) -> None:
    assert ro_index.search("ＩＳＯ９００１").hits[0].code == "ZL-001"


def test_no_results_give_only_real_suggestions(ro_index: CatalogIndex) -> None:
    result = ro_index.search("火箭发射许可证")
    assert result.total == 0 and result.hits == [] and result.pages == 0
    # no fixed list of popular services any more (tests/search/test_no_results.py has the rest)
    assert result.corrections == [] and result.fewer_words == []
    result = ro_index.search("地磅 火箭 发射 登月")
    assert result.total == 0
    assert [(a.query, a.total) for a in result.fewer_words] == [("地磅", ro_index.search("地磅").total)]


def test_typo_suggests_the_right_words(ro_index: CatalogIndex) -> None:
    assert "地磅" in ro_index.search("地傍").suggestions  # one character off a keyword
    assert "商标" in ro_index.search("shangbaio").suggestions  # pinyin typo
    # names merely sharing characters with the query are no longer offered as corrections
    result = ro_index.search("老鹰字典")
    assert result.total == 0 and result.suggestions == []


def test_non_string_query(ro_index: CatalogIndex) -> None:
    assert ro_index.search(None).total > 0  # type: ignore[arg-type]
    assert ro_index.search(12315).hits[0].code == "XF-001"  # type: ignore[arg-type]
