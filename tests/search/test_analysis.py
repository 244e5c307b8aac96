"""Analysis, pinyin parsing, query planning and the evaluator's internals."""

from __future__ import annotations

import pickle
import random

import pytest
from whoosh.analysis import Tokenizer
from whoosh.searching import Searcher

from search_index import CatalogIndex
from search_index.analysis import (
    ChineseTokenizer,
    WeightedChineseTokenizer,
    analyze_query,
    index_terms,
    normalize,
    weighted_value,
)
from search_index.pinyin import pinyin_fields, segment_pinyin
from search_index.query import clean_query, plan_query, to_whoosh_query
from search_index.schema import build_schema, doc_to_fields
from search_index.snapshot import Snapshot

from .fixtures import SERVICES


def _terms(text: str) -> set[str]:
    return {t for t, _s, _e in index_terms(text)}


def test_index_terms_cover_unigrams_bigrams_and_words() -> None:
    terms = _terms("汽车衡检定")
    assert {"汽", "车", "衡", "检", "定"} <= terms
    assert {"汽车", "车衡", "衡检", "检定"} <= terms
    assert "汽车衡" in terms  # jieba word of 3+ characters


def test_latin_is_lowercased_and_full_width_normalised() -> None:
    assert _terms("ＩＳＯ９００１ CMA") >= {"iso9001", "iso", "9001", "cma"}
    assert normalize("ＡＢＣ１２３（）") == "abc123()"


def test_token_offsets_point_into_the_text() -> None:
    text = "对汽车衡（地磅）检定"
    for term, start, end in index_terms(text):
        assert normalize(text)[start:end] == term


def test_tokenizer_is_a_picklable_module_level_class() -> None:
    tok = ChineseTokenizer()
    assert isinstance(tok, Tokenizer)
    clone = pickle.loads(pickle.dumps(tok))
    assert [t.text for t in clone("地磅")] == [t.text for t in tok("地磅")]
    schema = pickle.loads(pickle.dumps(build_schema()))
    assert schema["name"].analyzer == tok
    assert isinstance(schema["text"].analyzer, WeightedChineseTokenizer)
    tokens = list(tok("地磅年检", positions=True, chars=True))
    assert tokens[-1].pos == len(tokens) - 1


def test_query_analysis_drops_stopwords() -> None:
    qa = analyze_query("我们厂的地磅需要年检")
    assert {"厂", "地磅", "年检"} <= set(qa.terms)
    for stop in ("我们", "的", "需要", "厂的", "的地", "要年"):
        assert stop not in qa.terms
    # a query of nothing but stopwords is still searched as typed
    assert analyze_query("怎么办理").terms


def test_query_term_count_is_capped() -> None:
    qa = analyze_query("质量检验认证计量标准品牌专利商标" * 6)
    assert 0 < len(qa.terms) <= 24


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("dibang", ["di", "bang"]),
        ("di bang", ["di", "bang"]),
        ("qiangzhijianding", ["qiang", "zhi", "jian", "ding"]),
        ("xian", ["xian"]),
        ("lvse", ["lv", "se"]),
        ("lüse", ["lv", "se"]),
    ],
)
def test_segment_pinyin(typed: str, expected: list[str]) -> None:
    assert (expected, "") in segment_pinyin(typed)


def test_segment_pinyin_partial_and_non_pinyin() -> None:
    assert (["shang", "biao"], "zh") in segment_pinyin("shangbiaozh")
    assert segment_pinyin("db") == []
    assert segment_pinyin("iso") == []


def test_pinyin_fields() -> None:
    fields = pinyin_fields("汽车衡（地磅）检定", ["过磅"])
    assert {"qi", "che", "qiche", "dibang"} <= set(fields["py"].split())
    assert {"qch", "db", "qchdbjd"[:6]} <= set(fields["py_initials"].split())
    assert {"qichehengdibangjianding", "qchdbjd", "dibang", "db", "guobang", "gb"} <= set(
        fields["py_exact"].split()
    )


def test_clean_query() -> None:
    assert clean_query("  地磅\t年检  ") == ("地磅 年检", None)
    text, msg = clean_query("字" * 150)
    assert len(text) == 100 and "100" in (msg or "")
    assert clean_query(None) == ("", None)


def test_doc_to_fields_ignores_extra_keys_and_needs_a_code() -> None:
    fields = doc_to_fields(dict(SERVICES[0], whatever=object(), fields=[{"x": 1}]))
    assert fields["code"] == "JL-001" and "whatever" not in fields
    with pytest.raises(ValueError):
        doc_to_fields({"name": "无编号"})


@pytest.mark.parametrize(
    "query",
    [
        "地磅", "我们厂的地磅需要年检", "shangbiao", "di bang", "sbzc", "shangbiaozhu", "秤", "检验 认证", "CMA",
        "怎么注册商标", "想给产品申请绿色食品标志", "火箭发射商标", "检验 认证 申报", "shangbiao 注册 便利",
    ],
)
def test_evaluator_matches_the_equivalent_whoosh_query(ro_index: CatalogIndex, query: str) -> None:
    """The fast evaluator and Whoosh agree on which documents match."""
    snap = ro_index._current()
    plan = plan_query(query)
    searcher = Searcher(snap.reader, closereader=False)
    whoosh_docs = {hit.docnum for hit in searcher.search(to_whoosh_query(plan), limit=None)}
    _clauses, ours = snap.resolve(plan)
    assert ours == whoosh_docs
    assert ro_index.search(query).total == len(whoosh_docs)


def test_top_k_equals_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(300):
        clauses = []
        for _c in range(rng.randint(1, 8)):
            sd = {rng.randrange(60): rng.choice([rng.random() * 10, 1.0, 2.5]) for _ in range(rng.randint(1, 40))}
            w = rng.choice([1.0, 0.6, 0.3])
            clauses.append((sd, w, max(sd.values()) * w))
        allowed = frozenset(rng.sample(range(60), 30)) if rng.random() < 0.3 else None
        k = rng.randint(1, 30)
        brute: dict[int, float] = {}
        for sd, w, _ub in clauses:
            for d, s in sd.items():
                if allowed is None or d in allowed:
                    brute[d] = brute.get(d, 0.0) + s * w
        expected = sorted(brute.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        got = Snapshot.top_k(clauses, allowed, k)
        assert [d for d, _ in got] == [d for d, _ in expected]
        assert all(abs(a[1] - b[1]) < 1e-9 for a, b in zip(got, expected))


def test_fast_length_column_read_matches_whoosh(index: CatalogIndex) -> None:
    index.upsert([dict(SERVICES[0], name="新名字")])  # two segments, one deletion
    snap = index._current()
    for field in ("name", "text", "py"):
        expected = [snap.reader.doc_field_length(d, field, 0) or 0 for d in range(snap.maxdoc)]
        assert snap._field_lengths(field) == expected


def test_weighted_tokenizer_sums_section_weights() -> None:
    from whoosh.formats import Frequency

    value = weighted_value([(6.0, "地磅"), (2.0, "地磅检定"), (1.0, "")])
    weights = {w: wt for w, _f, wt, _v in Frequency().word_values(value, WeightedChineseTokenizer())}
    assert weights["地磅"] == 8.0  # 6 (keyword) + 2 (summary)
    assert weights["检定"] == 2.0
    assert WeightedChineseTokenizer()("no sections here").__next__().boost == 1.0


def test_tokens_and_postings_are_those_the_existing_indexes_were_built_with() -> None:
    """One tokenizer serves the plain and the weighted fields: same tokens
    (text, boost, position, offsets) and same postings for both indexes'
    text fields as the two tokenizers gave (tokens_golden.json), measured
    in a fresh process so that jieba has no user words of other tests."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-m", "tests.search.tokens_golden"], cwd=root,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    found = json.loads(out)
    expected = json.loads((Path(__file__).parent / "tokens_golden.json").read_text("utf-8"))
    assert found.keys() == expected.keys()
    for section in expected:
        differ = [i for i, (a, b) in enumerate(zip(found[section], expected[section])) if a != b]
        assert len(found[section]) == len(expected[section]) and not differ, (section, differ)


def test_weighted_tokenizer_is_the_tokenizer_with_weights_on() -> None:
    plain, weighted = ChineseTokenizer(), WeightedChineseTokenizer()
    assert isinstance(weighted, ChineseTokenizer) and weighted != plain
    assert pickle.loads(pickle.dumps(weighted)) == weighted and vars(weighted) == {}
    value = weighted_value([(3.0, "地磅"), (1.0, "检定")])
    tokens = [(t.text, t.boost, t.pos) for t in weighted(value, positions=True)]
    assert tokens[0] == ("地", 3.0, 0) and tokens[-1] == ("检定", 1.0, len(tokens) - 1)
    assert [t.text for t in plain("地磅", tokenize=False)] == ["地磅"]
    assert [t.text for t in weighted("地磅", tokenize=False)] == ["地", "磅", "地磅"]


def test_cache_eviction_keeps_results_right(built_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    import search_index.snapshot as snapshot_module

    monkeypatch.setattr(snapshot_module, "CACHE_MAX_ENTRIES", 40)  # evict all the time
    tiny = CatalogIndex(built_dir)
    reference = CatalogIndex(built_dir)
    queries = [s["name"] for s in SERVICES] + ["shangbiao", "dbjd", "火箭发射许可证", "秤", ""]
    for q in queries * 2:
        assert [h.code for h in tiny.search(q).hits] == [h.code for h in reference.search(q).hits], q
    snap = tiny._current()
    assert snap._cache_entries <= 40 or len(snap._cache) == 1
