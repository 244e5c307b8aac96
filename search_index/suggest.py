"""Help for a search that found nothing: other searches that do find something.

* **Corrections** ("您是不是要找"): keywords one edit away from the query or one of its
  words (candidates: keywords sharing a character, from a per-snapshot character index), and,
  for Latin input, names/keywords whose pinyin is two edits away (candidates: pinyin terms
  sharing the first three letters), shown as the Chinese word they come from ("shangbaio" ->
  商标). Whoosh's own spelling corrector scans the whole vocabulary with a Python Levenshtein,
  hundreds of milliseconds at 10,000 services, hence the narrowing.
* **Fewer words**: the query's words that find nothing are dropped first; if the rest still
  finds nothing together, smaller and smaller sets of them are tried, until one does.

Every alternative is searched (under the same filters) and offered only with its result count
above zero, so a link never leads to another empty page. Results are cached per snapshot,
query and filters.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import jieba

from .analysis import is_cjk, normalize
from .pinyin import unit_terms
from .query import QueryPlan, plan_query
from .results import Alternative
from .snapshot import Snapshot

__all__ = ["MAX_CORRECTIONS", "MAX_FEWER", "alternatives", "edit_distance"]

MAX_CORRECTIONS = 3
MAX_FEWER = 2
#: How many pinyin terms sharing a prefix are compared at most.
MAX_PINYIN_CANDIDATES = 400
#: "Fewer words" looks at the first this many words and runs at most this many searches.
MAX_FEWER_WORDS = 8
MAX_FEWER_SEARCHES = 40


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


Allowed = frozenset[int] | None


def alternatives(snap: Snapshot, plan: QueryPlan, allowed: Allowed,
                 filter_key: str = "") -> tuple[list[Alternative], list[Alternative]]:
    """``(corrections, fewer_words)`` for a query that found nothing among *allowed* documents
    (None: all); each alternative finds at least one document there."""
    key = ("alternatives", filter_key, plan.text)
    found = snap.cached(key, lambda v: 1, lambda: _alternatives(snap, plan, allowed))
    return list(found[0]), list(found[1])


def _counter(snap: Snapshot, allowed: Allowed) -> Callable[[str], int]:
    def count(text: str) -> int:
        sub = plan_query(text)
        if sub.is_empty:
            return 0
        _clauses, matched = snap.resolve(sub)
        return len(matched if allowed is None else matched & allowed)

    return count


def _alternatives(snap: Snapshot, plan: QueryPlan, allowed: Allowed) -> tuple[tuple, tuple]:
    count = _counter(snap, allowed)
    return tuple(_corrections(snap, plan, count)), tuple(_fewer_words(plan, count))


def _corrections(snap: Snapshot, plan: QueryPlan, count: Callable[[str], int]) -> list[Alternative]:
    candidates: dict[str, None] = {}
    text = normalize(plan.text)
    qa = plan.analysis
    words = [w for w in (qa.words if qa else []) if len(w) >= 3 and all(is_cjk(c) for c in w)]
    # The whole query may be a two-character keyword typo ("地傍"); single
    # words must be longer, or one edit would be half the word.
    for candidate in dict.fromkeys(([text] if 2 <= len(text) <= 12 else []) + words):
        for kw in _near_keywords(snap, candidate):
            candidates.setdefault(kw, None)
    for chunk in qa.latin if qa else []:
        letters = chunk.replace(" ", "")
        if len(letters) >= 4 and any(v in letters for v in "aeiouv"):
            for term in _near_pinyin(snap, letters):
                word = _pinyin_source(snap, term)
                if word:
                    candidates.setdefault(word, None)
    out: list[Alternative] = []
    for candidate in candidates:
        if candidate == plan.text:
            continue
        n = count(candidate)
        if n:
            out.append(Alternative(candidate, n))
        if len(out) >= MAX_CORRECTIONS:
            break
    return out


def _fewer_words(plan: QueryPlan, count: Callable[[str], int]) -> list[Alternative]:
    qa = plan.analysis
    words = list(dict.fromkeys(g.word for g in (qa.groups if qa else []) if g.strong and g.word))
    if len(words) < 2:
        return []
    words = words[:MAX_FEWER_WORDS]
    # A word that finds nothing on its own cannot help: those are dropped first.
    alone = {w: count(w) for w in words}
    useful = [w for w in words if alone[w]]
    searches = len(words)
    for size in range(len(useful), 0, -1):
        if size == len(words):  # that is the query itself
            continue
        found: list[Alternative] = []
        for combo in itertools.combinations(useful, size):
            if size == 1:
                found.append(Alternative(combo[0], alone[combo[0]]))
                continue
            if searches >= MAX_FEWER_SEARCHES:
                break
            searches += 1
            text = " ".join(combo)
            n = count(text)
            if n:
                found.append(Alternative(text, n))
        if found:
            found.sort(key=lambda a: -a.total)
            return found[:MAX_FEWER]
    return []


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
