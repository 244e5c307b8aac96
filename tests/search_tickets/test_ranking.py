"""Best match first: identifier tiers, then names, then free text; newest first within a tier."""

from __future__ import annotations

from pathlib import Path

from search_index import TicketIndex

from .fixtures import AMR, ticket


def _doc(number: str, **kw) -> dict:
    base = dict(ticket("LX20261129000001-1"), number=number, request_number=number.split("-")[0])
    base.update(kw)
    return base


def test_exact_number_before_longer_numbers_with_that_prefix(index_dir: Path) -> None:
    docs = [_doc(f"LX20261129000001-{i}") for i in range(1, 13)]
    idx = TicketIndex(index_dir)
    idx.rebuild(docs)
    found = idx.search("LX20261129000001-1", bureau_ids=None)
    assert found[0] == "LX20261129000001-1"
    assert set(found[1:]) == {"LX20261129000001-10", "LX20261129000001-11", "LX20261129000001-12"}


def test_names_rank_before_free_text(index_dir: Path) -> None:
    in_text = _doc("LX20261201000001-1", services=["产品质量委托检验"], text="顺便咨询地磅的检定周期")
    in_name = _doc("LX20261101000002-1", services=["汽车衡（地磅）检定"], text="")
    idx = TicketIndex(index_dir)
    idx.rebuild([in_name, in_text])  # the free-text one is newer
    assert idx.search("地磅", bureau_ids=None) == ["LX20261101000002-1", "LX20261201000001-1"]


def test_exact_enterprise_name_first(index_dir: Path) -> None:
    exact = _doc("LX20261101000001-1", enterprise="澧县兰江食品有限公司")
    longer = _doc("LX20261201000002-1", enterprise="澧县兰江食品有限公司第二分公司")
    idx = TicketIndex(index_dir)
    idx.rebuild([exact, longer])
    assert idx.search("澧县兰江食品有限公司", bureau_ids=None) == ["LX20261101000001-1", "LX20261201000002-1"]


def test_newest_first_within_a_tier(index_dir: Path) -> None:
    docs = [_doc(f"LX202611{d:02d}{d:06d}-1") for d in range(1, 21)]  # oldest first, as the database yields
    idx = TicketIndex(index_dir)
    idx.rebuild(docs)
    assert idx.search("兰江", bureau_ids=None) == [d["number"] for d in reversed(docs)]
    # a ticket changed since the rebuild comes first (most recently active)
    idx.upsert([docs[4]])
    assert idx.search("兰江", bureau_ids=[AMR])[0] == docs[4]["number"]
    idx.upsert([docs[7], docs[2]])
    found = idx.search("兰江", bureau_ids=None)
    assert found[:3] == [docs[2]["number"], docs[7]["number"], docs[4]["number"]]
    assert sorted(found) == sorted(d["number"] for d in docs)


def test_limit(index_dir: Path) -> None:
    docs = [_doc(f"LX20261129{i:06d}-1") for i in range(1, 31)]
    idx = TicketIndex(index_dir)
    idx.rebuild(docs)
    assert len(idx.search("兰江", bureau_ids=None)) == 30
    assert idx.search("兰江", bureau_ids=None, limit=5) == [d["number"] for d in reversed(docs)][:5]
    assert idx.search("兰江", bureau_ids=None, limit=0) == []
    assert idx.search("兰江", bureau_ids=None, limit=-3) == []
    idx.upsert(docs[:3])  # spread over several segments: the limit still holds
    assert len(idx.search("兰江", bureau_ids=None, limit=4)) == 4
    assert len(set(idx.search("兰江", bureau_ids=None, limit=100))) == 30


def test_default_limit_is_500(index_dir: Path) -> None:
    docs = [_doc(f"LX20261129{i:06d}-1") for i in range(1, 601)]
    idx = TicketIndex(index_dir)
    idx.rebuild(docs)
    assert len(idx.search("兰江", bureau_ids=None)) == 500
    assert len(idx.search("兰江", bureau_ids=None, limit=1000)) == 600
