"""The bureau restriction: a handler only ever sees the tickets of the bureaus given."""

from __future__ import annotations

import pytest

from search_index import TicketIndex
from search_index.tickets import build_tiers, bureau_restriction

from .fixtures import AGRI, AMR, MIIT, STI, tickets

EVERY_QUERY = [
    "LX20261129000001-1", "LX20261129000001-2", "LX20261129000001", "LX2026112900000", "LX202611",
    "91430723MA4L0LJ12X", "91430723MA4T9XY81C", "MA4T9XY81C", "澧县兰江食品有限公司", "兰江", "鑫达", "地磅",
    "绿色食品", "菜籽油", "申请", "澧县", "有限公司", "茶叶",
]


def _owners() -> dict[str, set[int]]:
    return {t["number"]: set(t["bureau_ids"]) for t in tickets()}


@pytest.mark.parametrize("bureaus", [{AMR}, {STI}, {AGRI}, {MIIT}, {AMR, STI}, {999}])
@pytest.mark.parametrize("query", EVERY_QUERY)
def test_only_tickets_of_the_given_bureaus(index: TicketIndex, bureaus: set[int], query: str) -> None:
    owners = _owners()
    found = index.search(query, bureau_ids=bureaus)
    assert all(owners[n] & bureaus for n in found), found
    # ... and nothing of those bureaus that matches is lost
    everything = index.search(query, bureau_ids=None)
    assert found == [n for n in everything if owners[n] & bureaus]


def test_exact_number_of_another_bureau_is_not_found(index: TicketIndex) -> None:
    assert index.search("LX20261201000003-1", bureau_ids=[AMR]) == []
    assert index.search("LX20261201000003-1", bureau_ids=[STI]) == ["LX20261201000003-1"]
    # the request has an AMR ticket and an AGRI/MIIT ticket
    assert index.search("LX20261129000001", bureau_ids=[AMR]) == ["LX20261129000001-1"]
    assert index.search("LX20261129000001-2", bureau_ids=[AMR]) == []


def test_co_handling_bureau_sees_the_ticket(index: TicketIndex) -> None:
    # LX20261129000001-2 belongs to AGRI, co-handled by MIIT
    assert index.search("菜籽油", bureau_ids=[MIIT]) == ["LX20261129000001-2"]
    assert index.search("LX20261129000001-2", bureau_ids=[MIIT]) == ["LX20261129000001-2"]
    assert index.search("菜籽油", bureau_ids=[AGRI]) == ["LX20261129000001-2"]
    assert index.search("菜籽油", bureau_ids=[AMR, STI]) == []


def test_none_means_every_bureau(index: TicketIndex) -> None:
    assert set(index.search("澧县", bureau_ids=None)) == {
        "LX20261129000001-1", "LX20261129000001-2", "LX20261130000002-1", "LX20261201000003-1",
        "LX20261202000004-1",
    }


@pytest.mark.parametrize("empty", [[], set(), (), frozenset(), iter(())])
def test_empty_bureau_set_sees_nothing(index: TicketIndex, empty) -> None:
    assert index.search("澧县", bureau_ids=empty) == []
    assert index.search("LX20261129000001-1", bureau_ids=empty) == []


def test_bureau_ids_given_as_strings_or_any_iterable(index: TicketIndex) -> None:
    assert index.search("菜籽油", bureau_ids=["6"]) == ["LX20261129000001-2"]
    assert index.search("菜籽油", bureau_ids=(b for b in [AGRI])) == ["LX20261129000001-2"]


def test_invalid_bureau_ids_never_widen_the_search(index: TicketIndex) -> None:
    assert index.search("澧县", bureau_ids=["x", None, 1.5, True]) == []
    assert index.search("澧县", bureau_ids=["x", AGRI]) == index.search("澧县", bureau_ids=[AGRI])


def test_bureau_ids_is_required(index: TicketIndex) -> None:
    with pytest.raises(TypeError):
        index.search("澧县")  # type: ignore[call-arg]


def test_restriction_is_part_of_every_query() -> None:
    """The restriction is a Whoosh clause (a filter inside the query), on every tier."""
    restriction = bureau_restriction([MIIT, AGRI])
    assert str(restriction) == "(bureau:4 OR bureau:6)"
    assert bureau_restriction([]) is None
    assert len(build_tiers("LX20261129000001 兰江")) >= 3


def test_a_ticket_without_bureaus_is_only_found_unrestricted(index: TicketIndex) -> None:
    orphan = dict(tickets()[0], number="LX20261203000009-1", bureau_ids=[], text="无主办件")
    index.upsert([orphan])
    assert index.search("无主办件", bureau_ids=None) == ["LX20261203000009-1"]
    assert index.search("无主办件", bureau_ids=[AMR, STI, AGRI, MIIT]) == []
