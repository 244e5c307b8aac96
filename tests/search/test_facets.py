"""Facet counts and filters."""

from __future__ import annotations

from collections import Counter

import pytest

from search_index import CatalogIndex

from .fixtures import SERVICES, codes


def _expected(services: list[dict], key: str) -> dict[str, int]:
    if key == "online":
        c = Counter("true" if s["online"] else "false" for s in services)
        return {"true": c["true"], "false": c["false"]}
    return dict(Counter(s[key] for s in services))


def test_facets_of_the_whole_catalog(ro_index: CatalogIndex) -> None:
    result = ro_index.search("")
    for key in ("category", "bureau", "online"):
        assert result.facets[key] == _expected(SERVICES, key)


def test_facets_count_the_query_matches(ro_index: CatalogIndex) -> None:
    result = ro_index.search("认证", per_page=100)
    matched = [s for s in SERVICES if s["code"] in set(codes(result))]
    assert result.total == len(matched) > 2
    assert result.facets["category"] == _expected(matched, "category")
    assert result.facets["bureau"] == _expected(matched, "bureau")
    assert sum(result.facets["online"].values()) == result.total


@pytest.mark.parametrize(
    ("kwargs", "predicate"),
    [
        ({"category": "metrology"}, lambda s: s["category"] == "metrology"),
        ({"bureau": "agri"}, lambda s: s["bureau"] == "agri"),
        ({"online": False}, lambda s: not s["online"]),
        ({"online": True}, lambda s: s["online"]),
        ({"category": "ip", "online": True}, lambda s: s["category"] == "ip" and s["online"]),
        ({"category": "testing", "bureau": "amr"}, lambda s: s["category"] == "testing" and s["bureau"] == "amr"),
    ],
)
def test_filters_on_empty_query(ro_index: CatalogIndex, kwargs: dict, predicate) -> None:
    result = ro_index.search("", per_page=100, **kwargs)
    expected = {s["code"] for s in SERVICES if predicate(s)}
    assert set(codes(result)) == expected
    assert result.total == len(expected)


def test_filters_on_a_query(ro_index: CatalogIndex) -> None:
    everything = ro_index.search("检验", per_page=100)
    filtered = ro_index.search("检验", category="testing", per_page=100)
    assert 0 < filtered.total < everything.total
    assert set(codes(filtered)) == {
        c for c in codes(everything) if next(s for s in SERVICES if s["code"] == c)["category"] == "testing"
    }
    # ranking order is kept within the filter
    assert codes(filtered) == [c for c in codes(everything) if c in set(codes(filtered))]


def test_each_facet_ignores_its_own_filter(ro_index: CatalogIndex) -> None:
    result = ro_index.search("", category="metrology", online=True)
    # category counts are those of all online services (other categories stay visible)
    online = [s for s in SERVICES if s["online"]]
    assert result.facets["category"] == _expected(online, "category")
    # bureau and online counts honour the category filter
    metrology = [s for s in SERVICES if s["category"] == "metrology"]
    assert result.facets["online"] == _expected(metrology, "online")
    assert result.facets["bureau"] == _expected([s for s in metrology if s["online"]], "bureau")
    assert result.total == len([s for s in metrology if s["online"]])


def test_unknown_filter_value_gives_no_results_but_facets(ro_index: CatalogIndex) -> None:
    result = ro_index.search("检定", category="no-such-category")
    assert result.total == 0 and result.hits == []
    assert result.facets["category"]  # the real categories are still offered
    assert result.unfiltered_total == ro_index.search("检定").total  # what dropping the filter would find


@pytest.mark.parametrize("query", ["", "认证", "检", "申请", "企业", "检验 检测 认证 标准"])
def test_facet_counts_equal_a_recount_of_the_matches(ro_index: CatalogIndex, query: str) -> None:
    result = ro_index.search(query, per_page=100)
    matched = [s for s in SERVICES if s["code"] in set(codes(result))]
    assert len(matched) == result.total
    for key in ("category", "bureau", "online"):
        expected = _expected(matched, key)
        if key != "online":
            expected = {k: v for k, v in expected.items() if v}
        assert result.facets[key] == expected
