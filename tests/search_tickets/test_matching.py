"""What a query finds: Chinese words, service and enterprise names, numbers, USCCs."""

from __future__ import annotations

import pytest

from search_index import TicketIndex

ALL = None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # a Chinese word of the description (free text)
        ("菜籽油", {"LX20261129000001-2"}),
        ("电子汽车衡", {"LX20261129000001-1"}),
        ("土壤检测报告", {"LX20261130000002-1"}),
        ("发明专利", {"LX20261201000003-1"}),
        # a request-field value and a public reply are free text too
        ("现场检定", {"LX20261129000001-1"}),
        ("已补正", {"LX20261130000002-1"}),
        # a service name, whole or by a word
        ("汽车衡（地磅）检定", {"LX20261129000001-1"}),
        ("地磅", {"LX20261129000001-1"}),
        ("绿色食品", {"LX20261129000001-2"}),
        ("商标注册", {"LX20261202000004-1"}),
        # an enterprise name, whole or partial
        ("澧县兰江食品有限公司", {"LX20261129000001-1", "LX20261129000001-2"}),
        ("兰江食品", {"LX20261129000001-1", "LX20261129000001-2"}),
        ("兰江", {"LX20261129000001-1", "LX20261129000001-2"}),
        ("城头山茶业", {"LX20261130000002-1"}),
        ("鑫达机械", {"LX20261201000003-1", "LX20261202000004-1"}),
        # several words: all are required
        ("兰江 菜籽油", {"LX20261129000001-2"}),
        ("鑫达 商标", {"LX20261202000004-1"}),
        ("兰江 专利", set()),
    ],
)
def test_words(index: TicketIndex, query: str, expected: set[str]) -> None:
    assert set(index.search(query, bureau_ids=ALL)) == expected


def test_single_character(index: TicketIndex) -> None:
    assert set(index.search("茶", bureau_ids=ALL)) == {"LX20261130000002-1"}


def test_synonym_of_the_catalog(index: TicketIndex) -> None:
    # "高企" is the colloquial "高新技术企业" (the service name); the text also says 高企
    assert "LX20261201000003-1" in index.search("高新技术企业", bureau_ids=ALL)
    assert "LX20261201000003-1" in index.search("高企", bureau_ids=ALL)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("LX20261129000001-1", ["LX20261129000001-1"]),
        ("lx20261129000001-2", ["LX20261129000001-2"]),
        ("ＬＸ２０２６１１３００００００２－１", ["LX20261130000002-1"]),  # full-width input
        (" LX20261201000003-1 ", ["LX20261201000003-1"]),
    ],
)
def test_full_ticket_number(index: TicketIndex, query: str, expected: list[str]) -> None:
    assert index.search(query, bureau_ids=ALL) == expected


def test_request_number_finds_all_its_tickets(index: TicketIndex) -> None:
    assert set(index.search("LX20261129000001", bureau_ids=ALL)) == {"LX20261129000001-1", "LX20261129000001-2"}


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("LX2026112900000", {"LX20261129000001-1", "LX20261129000001-2"}),
        ("LX20261129", {"LX20261129000001-1", "LX20261129000001-2"}),
        ("LX202612", {"LX20261201000003-1", "LX20261202000004-1"}),
        ("LX2026", set()),  # shorter than MIN_NUMBER_PREFIX: not a number query
    ],
)
def test_number_prefix(index: TicketIndex, prefix: str, expected: set[str]) -> None:
    assert set(index.search(prefix, bureau_ids=ALL)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("91430723MA4T9XY81C", {"LX20261201000003-1", "LX20261202000004-1"}),
        ("91430723ma4t9xy81c", {"LX20261201000003-1", "LX20261202000004-1"}),
        ("MA4T9XY81C", {"LX20261201000003-1", "LX20261202000004-1"}),  # the part after the region code
        ("4T9XY8", {"LX20261201000003-1", "LX20261202000004-1"}),  # from the middle
        ("93430723MA4PQR", {"LX20261130000002-1"}),  # a prefix
        ("91430723MA4L0LJ12X", {"LX20261129000001-1", "LX20261129000001-2"}),
        ("91430723MA4L0LJ12Y", set()),  # wrong check character
    ],
)
def test_uscc_exact_and_partial(index: TicketIndex, query: str, expected: set[str]) -> None:
    assert set(index.search(query, bureau_ids=ALL)) == expected


def test_number_combined_with_a_word(index: TicketIndex) -> None:
    assert index.search("LX20261129000001 菜籽油", bureau_ids=ALL) == ["LX20261129000001-2"]
    assert index.search("LX20261129000001 茶叶", bureau_ids=ALL) == []


def test_latin_and_digits_in_text(index: TicketIndex) -> None:
    assert index.search("100", bureau_ids=ALL) == ["LX20261129000001-1"]


def test_stopwords_are_dropped(index: TicketIndex) -> None:
    assert index.search("我厂的菜籽油", bureau_ids=ALL) == ["LX20261129000001-2"]


def test_a_lone_character_between_words_is_not_required(index: TicketIndex) -> None:
    # no ticket says "镇"; "地磅" and "检定" (for 年检) are in LX20261129000001-1
    assert index.search("我们镇的地磅需要年检", bureau_ids=ALL) == ["LX20261129000001-1"]
    assert index.search("我们厂的地磅需要年检", bureau_ids=ALL) == ["LX20261129000001-1"]
    assert index.search("茶", bureau_ids=ALL) == ["LX20261130000002-1"]  # alone, it is the query
