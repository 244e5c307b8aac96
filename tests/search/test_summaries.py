"""Result summaries are readable sentences of the service's description or guide: never the keyword
or pinyin fields, never a fragment cut inside brackets or a list of 《》 titles; the description
when it holds the match, else the guide sentence that matches, else the start of the description."""
from __future__ import annotations

import html
import re

import pytest

from search_index import CatalogIndex
from search_index.highlight import GUIDE_SECTIONS, SNIPPET_CHARS, guide_units, service_snippet
from search_index.schema import doc_to_fields

from .bundled import bundled_docs, bundled_index_fixture, by_name  # noqa: F401  (fixture)

QUERIES = ["补贴", "强检", "电子秤", "申请表", "计量", "检测", "营业执照", "计量法", "委托书", "药典", "地磅年检",
           "身份证复印件", "中华人民共和国", "xueyaji", "sbzc", "认证", "检验检测机构资质认定", "奖补资金"]
LABELS = tuple(f"{label}：" for label in GUIDE_SECTIONS.values())


def plain(markup: str) -> str:
    return html.unescape(re.sub(r"</?mark>", "", markup))


def readable_source(doc: dict, text: str) -> bool:
    """*text* (marks and "…" taken off) is a stretch of the summary, or a labelled guide unit."""
    core = text.strip("…")
    if core and core in doc["summary"]:
        return True
    for label, unit in guide_units(doc_to_fields(doc).get("guide", "")):
        if core.startswith(label + "：") and core[len(label) + 1:].strip("…") in unit:
            return True
    return False


@pytest.mark.parametrize("q", QUERIES)
def test_every_summary_is_a_readable_sentence(bundled_index: CatalogIndex, q: str) -> None:
    docs = {d["code"]: d for d in bundled_docs()}
    result = bundled_index.search(q, per_page=100)
    assert result.hits, q
    for hit in result.hits:
        doc = docs[hit.code]
        text = plain(hit.snippet_html)
        assert readable_source(doc, text), (q, hit.code, text)
        assert "、".join(doc["keywords"][:3]) not in text, (q, hit.code, text)  # never the keyword list
        core = text.strip("…")
        assert core.count("《") == core.count("》") and core.count("（") == core.count("）"), (q, hit.code, text)
        assert core[:1] not in "；、，》）" and core[-1:] not in "；、，《（", (q, hit.code, text)
        assert not re.match(r"^[^《]*》", core), (q, hit.code, text)
        assert len(core) <= SNIPPET_CHARS + 2, (q, hit.code, len(core))


def test_keyword_match_shows_the_description_not_the_keywords(bundled_index: CatalogIndex) -> None:
    # 补贴 is only a keyword of 质量强县奖补资金兑付: the summary used to be "奖补资金、补贴、奖励、…"
    hit = next(h for h in bundled_index.search("补贴").hits if h.code == "ZL-015")
    assert plain(hit.snippet_html) == by_name("质量强县奖补资金兑付")["summary"]


def test_a_matching_guide_sentence_is_quoted_whole_with_its_label(bundled_index: CatalogIndex) -> None:
    # 身份证复印件 is in the materials of the 强检 services only, never in their description
    result = bundled_index.search("身份证复印件")
    hit = next(h for h in result.hits if h.code == "JL-001")
    assert hit.snippet_html.startswith("申请材料：")
    assert "<mark>身份证复印件</mark>" in hit.snippet_html
    assert plain(hit.snippet_html).startswith("申请材料：营业执照副本复印件（个人使用者提供身份证复印件）")
    assert not plain(hit.snippet_html).startswith("…")


def test_a_weak_match_in_a_material_title_keeps_the_description(bundled_index: CatalogIndex) -> None:
    # 纺织服装产品质量检验 mentions 检测 only in 《检验检测委托协议书》: its description says more
    hit = next(h for h in bundled_index.search("检测", per_page=100).hits if h.name_html == "纺织服装产品质量检验")
    assert plain(hit.snippet_html) == by_name("纺织服装产品质量检验")["summary"]


def test_pinyin_and_keywords_are_never_quoted(index: CatalogIndex) -> None:
    index.upsert([{
        "code": "PY-1", "name": "血压计检定", "category": "metrology", "bureau": "amr",
        "summary": "为诊所和药店的血压计提供周期检定。",
        "keywords": ["xueyaji", "血压表", "强检", "电子血压计"],
        "conditions": "本县医疗机构。",
        "legal_basis": "《中华人民共和国计量法》；《强制检定的工作计量器具检定管理办法》",
        "materials": ["《强制检定计量器具登记表》"], "online": True,
    }])
    for q in ("xueyaji", "血压表", "xyj", "强制检定的工作计量器具检定管理办法"):
        hits = [h for h in index.search(q).hits if h.code == "PY-1"]
        assert hits, q
        text = plain(hits[0].snippet_html)
        assert text == "为诊所和药店的血压计提供周期检定。", (q, text)


def test_a_long_description_is_cut_at_sentence_ends() -> None:
    summary = ("第一句介绍服务的对象和范围，说明由哪个部门负责。" * 3 + "第二句讲到检定证书的领取方式和时间。"
               + "第三句说明收费标准。")
    out = service_snippet(summary, "", ["证书"])
    text = plain(out)
    assert "<mark>证书</mark>" in out
    assert text.endswith("。") or text.endswith("。…"), text
    core = text.strip("…")
    assert core in summary and core[0] == "第", text  # starts at a sentence, not mid-word


def test_a_list_of_titles_is_never_cut_inside() -> None:
    titles = "；".join(f"《第{i}号管理办法实施细则》" for i in range(12))
    out = service_snippet("", "c\t依据" + titles + "。", ["管理办法"])
    assert out == "" or "》；《" not in plain(out).strip("…")[-3:]
    summary = "本服务为企业提供咨询。"
    out = service_snippet(summary, "m\t" + titles, ["管理办法"])
    assert plain(out) == summary  # the titles cannot be quoted whole: the description instead
