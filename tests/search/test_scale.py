"""Behaviour that only shows on a larger catalog (a few hundred services)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from search_index import CatalogIndex

from .fixtures import codes

OBJECTS = ["汽车衡", "电子秤", "加油机", "压力表", "水表", "电能表", "化妆品", "茶叶", "水泥", "电梯"]
ACTIONS = ["检定", "校准", "检验", "认证咨询", "备案", "评价"]


def _catalog(n: int) -> list[dict]:
    rng = random.Random(5)
    docs = []
    for i in range(n):
        obj, act = rng.choice(OBJECTS), rng.choice(ACTIONS)
        docs.append({
            "code": f"S-{i:04d}", "name": f"{obj}{act}", "category": rng.choice(["metrology", "testing"]),
            "bureau": "amr", "summary": f"为企业提供{obj}{act}服务。", "keywords": [obj],
            # every service has the same process: "申请" is a near-universal word
            "process": ["在线提交申请", "受理", "办结"], "online": i % 3 != 0,
        })
    return docs


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> CatalogIndex:
    path: Path = tmp_path_factory.mktemp("big") / "index"
    idx = CatalogIndex(path)
    idx.rebuild(_catalog(300))
    return idx


def test_near_universal_word_still_matches_everything(big: CatalogIndex) -> None:
    result = big.search("申请", per_page=100)
    assert result.total == 300
    assert len(result.hits) == 100
    everything = sum((codes(big.search("申请", page=p, per_page=100)) for p in (1, 2, 3)), [])
    assert sorted(everything) == [f"S-{i:04d}" for i in range(300)]


def test_universal_word_does_not_disturb_ranking(big: CatalogIndex) -> None:
    plain = codes(big.search("电梯评价", per_page=10))
    chatty = codes(big.search("申请电梯评价", per_page=10))
    assert plain == chatty
    exact = sum(1 for d in _catalog(300) if d["name"] == "电梯评价")
    hits = big.search("电梯评价", per_page=exact + 1).hits
    assert [h.name_html for h in hits[:exact]] == ["<mark>电梯评价</mark>"] * exact
    assert hits[exact].name_html != "<mark>电梯评价</mark>"


@pytest.mark.parametrize("query", ["电子秤 检定", "检验", "dianti", "水表校准备案", "茶叶"])
def test_pages_concatenate_on_a_larger_catalog(big: CatalogIndex, query: str) -> None:
    full = big.search(query, per_page=100)
    parts: list[str] = []
    for page in range(1, full.pages * (100 // 7) + 2):
        parts += codes(big.search(query, page=page, per_page=7))
    assert parts[: min(100, full.total)] == codes(full)
    assert len(parts) == full.total


def test_filters_on_a_larger_catalog(big: CatalogIndex) -> None:
    result = big.search("检定", category="testing", online=True, per_page=100)
    assert result.total > 0
    assert sum(result.facets["category"].values()) >= result.total
    assert result.facets["online"]["true"] == result.total


def test_many_deletions(tmp_path: Path) -> None:
    idx = CatalogIndex(tmp_path / "index")
    docs = _catalog(300)
    idx.rebuild(docs)
    gone = {d["code"] for d in docs[::2]}  # half of them, across the segment
    idx.delete(sorted(gone))
    assert idx.doc_count() == 150
    for q in ("电梯", "申请", "dianti", ""):
        result = idx.search(q, per_page=100)
        found = sum((codes(idx.search(q, page=p, per_page=100)) for p in range(1, result.pages + 1)), [])
        assert not gone & set(found)
        assert len(found) == result.total
    assert idx.search("").total == 150
