"""Page and per_page handling."""

from __future__ import annotations

import math

import pytest

from search_index import CatalogIndex

from .fixtures import SERVICES, codes

N = len(SERVICES)


def test_pages_concatenate_to_the_full_list(ro_index: CatalogIndex) -> None:
    full = codes(ro_index.search("", per_page=100))
    pages = [codes(ro_index.search("", page=p, per_page=6)) for p in range(1, 5)]
    assert sum(pages, []) == full
    assert [len(p) for p in pages] == [6, 6, 6, N - 18]


def test_query_pages_concatenate(ro_index: CatalogIndex) -> None:
    q = "检验 认证"
    full = ro_index.search(q, per_page=100)
    assert full.total > 5
    parts = sum((codes(ro_index.search(q, page=p, per_page=3)) for p in range(1, full.pages * 10 + 1)), [])
    assert parts[: full.total] == codes(full)


def test_result_fields(ro_index: CatalogIndex) -> None:
    result = ro_index.search("", page=2, per_page=7)
    assert (result.total, result.page, result.per_page, result.pages) == (N, 2, 7, math.ceil(N / 7))


@pytest.mark.parametrize("page", [0, -1, -100])
def test_page_below_one_is_one(ro_index: CatalogIndex, page: int) -> None:
    result = ro_index.search("", page=page, per_page=5)
    assert result.page == 1
    assert codes(result) == codes(ro_index.search("", page=1, per_page=5))


def test_page_beyond_the_last_is_empty_with_total(ro_index: CatalogIndex) -> None:
    result = ro_index.search("检定", page=99, per_page=10)
    assert result.hits == []
    assert result.total > 0
    assert result.page == 99
    assert result.suggestions == []  # there are results, just not on this page


@pytest.mark.parametrize(("per_page", "expected"), [(0, 1), (-5, 1), (1, 1), (100, 100), (1000, 100)])
def test_per_page_is_clamped(ro_index: CatalogIndex, per_page: int, expected: int) -> None:
    result = ro_index.search("", per_page=per_page)
    assert result.per_page == expected
    assert len(result.hits) == min(expected, N)
