"""The bitmap evaluation agrees with Whoosh's own on the same queries, across segments,
deletions and merges; schema and merge-policy invariants."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh import formats
from whoosh import index as windex
from whoosh import query as wq

from search_index import TicketIndex, ticket_writing
from search_index import tickets as mod

ENTERPRISES = [
    ("澧县兰江食品有限公司", "91430723MA4L0LJ12X"), ("湖南城头山茶业专业合作社", "93430723MA4PQR7K5B"),
    ("澧县鑫达机械制造有限责任公司", "91430723MA4T9XY81C"), ("澧县红星米业有限公司", "91430723MA4R5Q2W3E"),
    ("湖南澧阳电子科技股份有限公司", "91430723MA4K8H6J7N"),
]
SERVICES = ["汽车衡（地磅）检定", "绿色食品认证申报", "商标注册便利化服务", "高新技术企业认定辅导", "产品质量委托检验"]
PHRASES = ["需要办理首次检定", "菜籽油申报绿色食品", "附茶园基地照片", "发明专利3项", "最大秤量100吨",
           "已补正土壤检测报告", "请尽快安排现场检查", "ISO 9001 认证", "大米质量抽检", "电子秤年检"]
QUERIES = ["地磅", "检定", "兰江", "澧县兰江食品有限公司", "有限公司", "绿色食品 菜籽油", "茶", "认证", "ISO", "9001",
           "LX2026112", "LX20261129000003", "LX20261129000003-1", "91430723MA4T9XY81C", "MA4R5Q", "红星 大米",
           "年检", "湖南 科技", "不存在的词", "专利 鑫达", "质量"]
BUREAU_SETS = [None, [1], [6], [2, 4], [5]]


def _docs(n: int, seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ent, uscc = rng.choice(ENTERPRISES)
        req = f"LX20261129{i // 2:06d}"
        out.append({
            "number": f"{req}-{i % 2 + 1}", "request_number": req, "status": rng.choice(["submitted", "accepted"]),
            "bureau_ids": rng.sample([1, 2, 4, 5, 6], rng.choice([1, 1, 2])), "enterprise": ent, "uscc": uscc,
            "services": [rng.choice(SERVICES)], "text": "，".join(rng.sample(PHRASES, rng.randint(0, 3))),
        })
    return out


def _whoosh_matches(index: TicketIndex, q: str, bureau_ids) -> set[str]:
    """What Whoosh's own matchers find for the same tier queries."""
    restriction = None if bureau_ids is None else mod.bureau_restriction(bureau_ids)
    ix = windex.FileIndex(index._storage, indexname=mod.INDEXNAME)
    found: set[str] = set()
    with ix.searcher() as s:
        for _name, tq in mod.build_tiers(q):
            query = tq if restriction is None else wq.And([tq, restriction])
            found |= {s.stored_fields(d)["number"] for d in s.docs_for_query(query)}
    return found


@pytest.fixture(scope="module")
def churned(tmp_path_factory: pytest.TempPathFactory) -> TicketIndex:
    """An index with several rebuild segments, upserts, deletions and merges."""
    saved = mod.SEGMENT_DOCS, ticket_writing.MERGE_FACTOR, ticket_writing.MAX_MERGE_TIER
    # rebuild segments of 150 documents (tier 2), never merged; upsert segments merged 3 by 3
    mod.SEGMENT_DOCS, ticket_writing.MERGE_FACTOR, ticket_writing.MAX_MERGE_TIER = 150, 3, 1
    try:
        idx = TicketIndex(tmp_path_factory.mktemp("engine") / "index")
        docs = _docs(400)
        idx.rebuild(docs)
        rng = random.Random(9)
        for k in range(40):
            changed = [dict(d, bureau_ids=[rng.choice([1, 2, 4, 5, 6])], text=d["text"] + "，已受理")
                       for d in rng.sample(docs, rng.randint(1, 4))]
            idx.upsert(changed)
            if k % 5 == 0:
                idx.delete([rng.choice(docs)["number"]])
    finally:
        mod.SEGMENT_DOCS, ticket_writing.MERGE_FACTOR, ticket_writing.MAX_MERGE_TIER = saved
    return idx


def test_the_churned_index_has_several_segments_and_deletions(churned: TicketIndex) -> None:
    ix = windex.FileIndex(churned._storage, indexname=mod.INDEXNAME)
    segments = ix._segments()
    assert len(segments) >= 4  # three from the rebuild, the upserts (merged)
    assert any(s.has_deletions() for s in segments)
    assert churned.doc_count() == sum(s.doc_count() for s in segments)


@pytest.mark.parametrize("bureaus", BUREAU_SETS)
@pytest.mark.parametrize("query", QUERIES)
def test_bitmaps_agree_with_whoosh(churned: TicketIndex, query: str, bureaus) -> None:
    found = churned.search(query, bureau_ids=bureaus, limit=10_000)
    assert len(found) == len(set(found))
    assert set(found) == _whoosh_matches(churned, query, bureaus)


def test_results_follow_the_tiers(churned: TicketIndex) -> None:
    """Each hit sits in the first tier that matches it."""
    q = "澧县兰江食品有限公司"
    found = churned.search(q, bureau_ids=None, limit=10_000)
    ix = windex.FileIndex(churned._storage, indexname=mod.INDEXNAME)
    with ix.searcher() as s:
        tier_of: dict[str, int] = {}
        for t, (_name, tq) in enumerate(mod.build_tiers(q)):
            for d in s.docs_for_query(tq):
                tier_of.setdefault(s.stored_fields(d)["number"], t)
    assert [tier_of[n] for n in found] == sorted(tier_of[n] for n in found)


def test_every_field_has_the_existence_format() -> None:
    """The compact posting pool and the bitmaps assume it."""
    schema = mod.build_schema()
    indexed = [name for name in schema.names() if schema[name].indexed]
    assert indexed and all(type(schema[name].format) is formats.Existence for name in indexed)
    assert schema.stored_names() == ["number"]


def test_merge_policy_keeps_order_and_bounds_segments(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ticket_writing, "MERGE_FACTOR", 4)
    idx = TicketIndex(tmp_path / "index")
    docs = _docs(30)
    idx.rebuild(docs[:10])
    for d in docs[10:]:
        idx.upsert([d])  # one small segment per call, merged by tiers
    ix = windex.FileIndex(idx._storage, indexname=mod.INDEXNAME)
    assert len(ix._segments()) <= 1 + 2 * 4
    # newest first: the upserted tickets in reverse order, then the rebuilt ones
    assert idx.search("LX2026112", bureau_ids=None, limit=100) == [d["number"] for d in reversed(docs)]


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([], 0), ([100_000, 1, 1, 1], 0), ([100_000] + [1] * 10, 10), ([5, 50, 3, 4, 2, 1, 1, 1, 1, 1, 1, 1], 10),
        ([100_000] + [50] * 9, 0), ([100_000] + [50] * 10, 10), ([20_000] * 12, 0),
    ],
)
def test_merge_run(sizes: list[int], expected: int) -> None:
    class Seg:
        def __init__(self, n: int) -> None:
            self.n = n

        def doc_count_all(self) -> int:
            return self.n

    segs = [Seg(n) for n in sizes]
    run = ticket_writing.merge_run(segs)
    assert len(run) == expected
    assert run == segs[len(segs) - expected:] if expected else run == []
