"""<mark> highlighting and HTML escaping."""

from __future__ import annotations

import html
import re

from search_index import CatalogIndex

from .fixtures import by_code


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", markup))


def test_name_and_snippet_are_marked(ro_index: CatalogIndex) -> None:
    hit = ro_index.search("地磅").hits[0]
    # what was typed is marked, not the synonym 汽车衡 that also matched
    assert hit.name_html == "汽车衡（<mark>地磅</mark>）检定"
    assert "<mark>地磅</mark>" in hit.snippet_html
    assert _text(hit.snippet_html) == by_code("JL-001")["summary"]


def test_adjacent_matches_merge_into_one_mark(ro_index: CatalogIndex) -> None:
    hit = ro_index.search("商标注册便利化服务").hits[0]
    assert hit.name_html == "<mark>商标注册便利化服务</mark>"


def test_pinyin_query_marks_the_chinese_characters(ro_index: CatalogIndex) -> None:
    assert ro_index.search("dibang").hits[0].name_html == "汽车衡（<mark>地磅</mark>）检定"
    assert ro_index.search("sbzc").hits[0].name_html == "<mark>商标注册</mark>便利化服务"


def test_snippet_falls_back_to_the_matching_field(ro_index: CatalogIndex) -> None:
    # "研发费用" only appears in ZL-002's materials
    hit = ro_index.search("研发费用").hits[0]
    assert hit.code == "ZL-002"
    assert "<mark>研发费用</mark>" in hit.snippet_html


def test_html_in_names_is_escaped(index: CatalogIndex) -> None:
    evil = {
        "code": "EVIL-1",
        "name": '消费维权<script>alert("x")</script>投诉',
        "category": "quality",
        "bureau": "amr",
        "summary": "<b>受理</b> & 投诉 <img src=x onerror=alert(1)>",
        "keywords": ["维权"],
        "online": True,
    }
    index.upsert([evil])
    for q in ("维权", "script", "", "投诉"):
        hits = [h for h in index.search(q, per_page=100).hits if h.code == "EVIL-1"]
        assert hits, q
        hit = hits[0]
        for markup in (hit.name_html, hit.snippet_html):
            assert "<script" not in markup and "<img" not in markup and "<b>" not in markup
            assert re.sub(r"</?mark>", "", markup).count("<") == 0
        assert _text(hit.name_html) == evil["name"]
        assert "&lt;script&gt;" in re.sub(r"</?mark>", "", hit.name_html)
    marked = [h for h in index.search("script").hits if h.code == "EVIL-1"][0]
    assert "<mark>script</mark>" in marked.name_html


def test_highlight_can_be_turned_off(ro_index: CatalogIndex) -> None:
    hit = ro_index.search("地磅", highlight=False).hits[0]
    assert "<mark>" not in hit.name_html + hit.snippet_html
    assert hit.name_html == "汽车衡（地磅）检定"


def test_full_width_query_marks_half_width_text(ro_index: CatalogIndex) -> None:
    hit = ro_index.search("ＣＭＡ").hits[0]
    assert hit.code == "RZ-001"
    assert "<mark>CMA</mark>" in hit.snippet_html
