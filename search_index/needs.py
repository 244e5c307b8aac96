"""Ranking services for a need described in the applicant's own words (我有需求).

The same engine as search: the need is planned by ``query.plan_need`` (one analyzer, every
meaningful term OR-ed) and scored by the snapshot's BM25 (``Snapshot.resolve``/``top_k``).
Two rules on top of the score:

* services scoring less than ``MIN_SHARE`` of the best one are not offered (a stray common
  word should not bring in half the catalog);
* a need often asks for several things ("激光粒度仪要计量，有没有补贴"): each part (word) of
  the need that some service answers well -- at least ``COVER_SHARE`` of the best score -- gets
  its best service among the suggestions even when other parts' services score higher, so one
  frequent word (计量) cannot crowd out the only service for another (补贴).

The suggestions are then listed by score.
"""

from __future__ import annotations

from typing import Any

from .query import QueryPlan
from .results import SearchResult
from .snapshot import Snapshot

__all__ = ["COVER_SHARE", "MIN_SHARE", "NeedSearch", "rank_need"]

MIN_SHARE = 0.25
COVER_SHARE = 0.5
#: Candidates scored before the rules above are applied.
POOL = 200


def rank_need(snap: Snapshot, plan: QueryPlan, limit: int) -> list[tuple[int, float]]:
    """The best ``(docnum, score)`` pairs for the need, at most *limit*, best first."""
    if limit <= 0 or not plan.clauses:
        return []
    clauses, matched = snap.resolve(plan)
    pool = snap.top_k(clauses, None, min(len(matched), POOL))
    pool = [(d, s) for d, s in pool if s > 0]
    if not pool:
        return []
    best = pool[0][1]
    pool = [(d, s) for d, s in pool if s >= best * MIN_SHARE]
    selected: dict[int, float] = {pool[0][0]: pool[0][1]}
    # Each part of the need, the best-answered parts first.
    parts: list[tuple[float, list[tuple[int, float]]]] = []
    for group in plan.groups:
        docs: set[int] = set()
        for term in group.terms:
            scores, _mx, _extra = snap.text_scores(term)
            docs.update(scores)
        answers = [(d, s) for d, s in pool if d in docs and s >= best * COVER_SHARE]
        if answers:
            parts.append((answers[0][1], answers))
    parts.sort(key=lambda p: -p[0])
    for _score, answers in parts:
        if len(selected) >= limit:
            break
        if not any(d in selected for d, _s in answers):
            d, s = answers[0]
            selected[d] = s
    for d, s in pool:
        if len(selected) >= limit:
            break
        selected.setdefault(d, s)
    return sorted(selected.items(), key=lambda kv: (-kv[1], kv[0]))


class NeedSearch:
    """``CatalogIndex.search_need`` under the name and signature of ``CatalogIndex.search``
    (``CatalogIndex.needs``), for code that joins search hits to services."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def search(self, q: str = "", *, per_page: int = 5, highlight: bool = True, **_filters: Any) -> SearchResult:
        """The need's suggestions; category/bureau/online/page are not used for needs."""
        return self.index.search_need(q, limit=per_page, highlight=highlight)
