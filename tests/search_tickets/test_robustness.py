"""Hostile input never raises; query syntax is plain text."""

from __future__ import annotations

import pytest

from search_index import TicketIndex

from .fixtures import AMR

HOSTILE = [
    "",
    " ",
    "\t\n",
    "　",  # ideographic space
    "x" * 1000,
    "地磅" * 500,
    "的" * 1000,
    "LX" + "9" * 998,
    "9" * 1000,
    "-" * 1000,
    "AND OR NOT * ? \" ( ) [ ] { } : ~ ^ \\",
    "a:b",
    "number:LX20261129000001-1",
    "bureau:1",
    "*",
    "LX2026*",
    "地磅 AND 年检",
    "NOT 检定",
    "\"汽车衡\"~2",
    "商标^10",
    "\x00\x01\x1b[31m地磅\u200b\ufeff",
    "😀🚀 emoji 地磅",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s %d {0} ${x}",
    "\u202e地磅",
    "𠀀𠀁𪚥",
    "ℌ𝔢𝔩𝔩𝔬 ﬁ ㎏",
    "--LX20261129000001--1--",
    "Ⅻ①②③",
    "\ud800",  # a lone surrogate
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("bureaus", [None, [AMR]])
def test_hostile_queries_never_raise(index: TicketIndex, query: str, bureaus) -> None:
    found = index.search(query, bureau_ids=bureaus)
    assert isinstance(found, list)
    assert all(isinstance(n, str) for n in found)


@pytest.mark.parametrize("query", [None, 42, b"\xe5\x9c\xb0\xe7\xa3\x85"])
def test_non_string_queries_return_nothing(index: TicketIndex, query) -> None:
    assert index.search(query, bureau_ids=None) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["", "   ", "，。！？", "*", "()"])
def test_empty_queries_return_nothing(index: TicketIndex, query: str) -> None:
    assert index.search(query, bureau_ids=None) == []


def test_query_syntax_is_plain_text(index: TicketIndex) -> None:
    assert index.search("地磅", bureau_ids=None) == ["LX20261129000001-1"]
    # no field prefixes: "bureau" and "body" are words that no ticket contains
    assert index.search("bureau:6", bureau_ids=[AMR]) == []
    assert index.search("body:地磅", bureau_ids=None) == []
    # no operators: OR is a required word, not a union
    assert index.search("地磅 OR 菜籽油", bureau_ids=None) == []
    # no wildcards: "*" is punctuation
    assert index.search("地*", bureau_ids=None) == index.search("地", bureau_ids=None)


def test_long_query_is_truncated_not_rejected(index: TicketIndex) -> None:
    assert index.search("菜籽油" + "，" * 990, bureau_ids=None) == ["LX20261129000001-2"]
    assert isinstance(index.search("菜籽油 " * 300, bureau_ids=None), list)


def test_odd_limits(index: TicketIndex) -> None:
    assert index.search("澧县", bureau_ids=None, limit="2") == index.search("澧县", bureau_ids=None)[:2]  # type: ignore[arg-type]
    assert len(index.search("澧县", bureau_ids=None, limit=None)) == 5  # type: ignore[arg-type]
    assert len(index.search("澧县", bureau_ids=None, limit=10**12)) == 5
