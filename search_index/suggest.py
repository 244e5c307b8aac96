"""'Did you mean' suggestions for queries without results.

Whoosh's spelling corrector scans the whole vocabulary with a Python
Levenshtein when the index has several segments (hundreds of milliseconds at
10,000 services), so the candidates are narrowed first:

1. keywords one edit away from the query or one of its words (candidates:
   keywords sharing a character, from a per-snapshot character index);
2. for Latin input, names/keywords whose pinyin is two edits away
   (candidates: pinyin terms sharing the first three letters), shown as the
   Chinese word they come from ("shangbaio" -> 商标);
3. service names sharing the most characters with the query;
4. popular services, so that the list is never empty.

Results are cached per snapshot and query.
"""

from __future__ import annotations

import heapq
from collections import Counter

import jieba

from .analysis import STOPWORDS, is_cjk, normalize
from .pinyin import unit_terms
from .query import QueryPlan
from .snapshot import Snapshot

__all__ = ["MAX_SUGGESTIONS", "edit_distance", "suggest"]

MAX_SUGGESTIONS = 5
#: How many pinyin terms sharing a prefix are compared at most.
MAX_PINYIN_CANDIDATES = 400


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance of *a* and *b* (insertions,
    deletions, substitutions, adjacent transpositions), or ``limit + 1``
    as soon as it is known to exceed *limit*."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else limit + 1


def suggest(snap: Snapshot, plan: QueryPlan) -> list[str]:
    """Up to MAX_SUGGESTIONS strings for a query that found nothing."""
    key = ("suggest", "", plan.text)
    return list(snap.cached(key, lambda v: 1, lambda: tuple(_suggest(snap, plan))))


def _suggest(snap: Snapshot, plan: QueryPlan) -> list[str]:
    out: dict[str, None] = {}

    def add(s: str) -> None:
        if s and len(out) < MAX_SUGGESTIONS:
            out.setdefault(s, None)

    text = normalize(plan.text)
    qa = plan.analysis
    words = [w for w in (qa.words if qa else []) if len(w) >= 3 and all(is_cjk(c) for c in w)]
    # The whole query may be a two-character keyword typo ("地傍"); single
    # words must be longer, or one edit would be half the word.
    for candidate in dict.fromkeys(([text] if 2 <= len(text) <= 12 else []) + words):
        for kw in _near_keywords(snap, candidate):
            add(kw)
    for chunk in qa.latin if qa else []:
        letters = chunk.replace(" ", "")
        if len(letters) >= 4 and any(v in letters for v in "aeiouv"):
            for term in _near_pinyin(snap, letters):
                add(_pinyin_source(snap, term))

    chars = [ch for ch in dict.fromkeys(text) if is_cjk(ch) and ch not in STOPWORDS]
    if chars and len(out) < MAX_SUGGESTIONS:
        shared: Counter[int] = Counter()
        for ch in chars[:30]:
            shared.update(snap.docs("name", ch))
        rank = snap.default_rank()
        best = heapq.nsmallest(
            MAX_SUGGESTIONS, shared.items(), key=lambda kv: (-kv[1], rank.get(kv[0], 0))
        )
        for d, _n in best:
            add(snap.stored(d).get("name", ""))
    for d in snap.default_order()[: MAX_SUGGESTIONS * 2]:
        add(snap.stored(d).get("name", ""))
    return list(out)


def _near_keywords(snap: Snapshot, text: str) -> list[str]:
    """Keywords one edit away from *text* (most frequent first)."""
    by_char = snap.keyword_index()
    candidates: set[str] = set()
    for ch in set(text):
        candidates.update(by_char.get(ch, ()))
    near = [kw for kw in candidates if kw != text and edit_distance(kw, text, 1) <= 1]
    near.sort(key=lambda kw: (-len(snap.docs("kw_exact", kw)), kw))
    return near[:3]


def _near_pinyin(snap: Snapshot, letters: str) -> list[str]:
    """Indexed pinyin terms within two edits of *letters* (best first)."""
    scored: list[tuple[int, int, str]] = []
    for term in snap.expand_prefix("py_exact", letters[:3], MAX_PINYIN_CANDIDATES):
        if len(term) >= 4 and term != letters:
            dist = edit_distance(term, letters, 2)
            if dist <= 2:
                scored.append((dist, -len(snap.docs("py_exact", term)), term))
    return [t for _d, _n, t in sorted(scored)[:2]]


def _pinyin_source(snap: Snapshot, term: str) -> str:
    """The Chinese word (keyword or word of a name) whose pinyin or initials
    is *term*, falling back to the service name."""
    docs = snap.docs("py_exact", term)
    if not docs:
        return ""
    stored = snap.stored(min(docs))
    name = stored.get("name", "") or ""
    candidates = [k for k in (stored.get("keywords", "") or "").split("\n") if k]
    candidates += [w for w in jieba.cut_for_search(normalize(name), HMM=False) if len(w) >= 2]
    for word in candidates:
        if term in unit_terms(word):
            return word
    return name
