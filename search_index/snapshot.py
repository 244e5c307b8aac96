"""Snapshot: one open generation of the index, and fast query evaluation.

Whoosh's pure-Python matcher tree needs 50-150 ms for a ten-term OR query over
10,000 services.  A snapshot instead reads each term's postings once (whole
blocks at a time), turns them into ``{docnum: score}`` dicts with BM25
(per-field BM25 with query-time field boosts, i.e. BM25F-style), caches them,
and ranks with term-at-a-time MaxScore pruning -- a few milliseconds.

Facet values live in per-document lists built from the small lexicons of
the ID fields at open time, so counting facets over the matches is a
``Counter`` over a list lookup.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from whoosh import index as windex
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from .query import MAX_PREFIX_EXPANSIONS, Bonus, FieldAnd, QueryPlan, TextTerm
from .schema import SCORED_FIELDS

__all__ = ["Snapshot", "Clause", "INDEXNAME", "FACETS"]

#: Whoosh's name for the index inside the directory (file prefix).
INDEXNAME = "MAIN"
#: Facets counted for every search.
FACETS = ("category", "bureau", "online")

# BM25 parameters per field: saturation k1 and length normalisation b.  The
# weighted ``text`` field has a large k1 so that its index-time weights
# (keyword 6 > summary 2 > body 1) are not flattened by saturation.
FIELD_K1: dict[str, float] = {"text": 6.0}
FIELD_B: dict[str, float] = {
    "name": 0.5,
    "text": 0.5,
    "py": 0.5,
    "py_initials": 0.5,
    "py_exact": 0.3,
}
DEFAULT_K1 = 1.2
#: A term in more than this share of a field's documents is matched but not
#: scored in that field (IDF ~ 0); only applied from UNIVERSAL_MIN_DOCS docs.
UNIVERSAL_DF = 0.75
UNIVERSAL_MIN_DOCS = 200
#: Upper bound on cached posting entries per snapshot (about 100 bytes each).
CACHE_MAX_ENTRIES = 1_500_000

# --------------------------------------------------------------------------
# Reading postings quickly
# --------------------------------------------------------------------------


def _leaf_postings(seg: Any, field: str, text: str) -> tuple[list[int], list[float]]:
    """Doc numbers and weights of a term in one segment (deletions included).

    Reads the W3 codec's blocks whole (unpickle + ``accumulate`` in C) instead
    of stepping the matcher posting by posting; falls back to the generic
    matcher protocol for any other matcher type."""
    try:
        m = seg.postings(field, text)
    except TermNotFound:  # the term is not in this segment
        return [], []
    if isinstance(m, FilterMatcher):  # deleted documents: filtered by the caller
        m = m.child
    ids: list[int] = []
    weights: list[float] = []
    if isinstance(m, W3LeafMatcher):
        while True:
            if m._data is None:
                m._read_data()
            block_ids, block_weights = m._data[0], m._data[1]
            ids.extend(block_ids if m._byteids else accumulate(block_ids))
            # Weights are stored as None (all 1.0), one float, or an array.
            if block_weights is None:
                weights.extend([1.0] * m._blocklength)
            elif isinstance(block_weights, float):
                weights.extend([block_weights] * m._blocklength)
            else:
                weights.extend(block_weights)
            if m._lastblock:
                break
            m._goto(m._nextoffset)
        return ids, weights
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


#: Whoosh stores field lengths as one byte; this decodes them.
_BYTE_TO_LENGTH = [byte_to_length(i) for i in range(256)]

#: A resolved query clause: (doc -> score, weight, upper bound of weight*score).
Clause = tuple[dict[int, float], float, float]


class Snapshot:
    """An open reader of one index generation plus its query caches."""

    def __init__(self, storage: FileStorage, generation: int) -> None:
        self.generation = generation
        # Reference counting: a snapshot replaced by a newer one is closed
        # once the last search using it has finished.
        self._state_lock = threading.Lock()
        self._users = 0
        self._retired = False
        self._closed = False
        # Per-snapshot caches (postings scores, docsets, length norms).
        self._cache: OrderedDict[tuple[str, str, str], tuple[Any, int]] = OrderedDict()
        self._cache_entries = 0
        self._cache_lock = threading.Lock()
        self._norms: dict[str, list[float]] = {}
        self._default_order: list[int] | None = None
        self._full_counts: dict[str, Counter[str]] = {}
        # Whoosh readers share file objects between matchers (seek + read),
        # so concurrent reads from several threads must be serialised.  Only
        # cache misses and the page's stored fields take this lock.
        self.io_lock = threading.RLock()
        ix = windex.FileIndex(storage, indexname=INDEXNAME)
        self.schema = ix.schema
        self.reader = ix.reader()
        try:
            self._load()
        except BaseException:
            self.close()
            raise

    def _load(self) -> None:
        reader = self.reader
        self.leaves: list[tuple[Any, int]] = list(reader.leaf_readers())
        # Deleted documents per segment (local numbers); None: no deletions.
        self.leaf_deleted: list[frozenset[int] | None] = [
            frozenset(range(seg.doc_count_all())).difference(seg.all_doc_ids())
            if seg.has_deletions()
            else None
            for seg, _offset in self.leaves
        ]
        self.maxdoc: int = reader.doc_count_all()
        self.live: frozenset[int] = frozenset(reader.all_doc_ids())
        self.n = len(self.live)

        # Facet columns from the (small) lexicons of the ID fields: value of
        # each document, and the documents of each value.
        self.facet_of: dict[str, list[str]] = {}
        self.facet_sets: dict[str, dict[str, frozenset[int]]] = {}
        for fname in FACETS + ("popular",):
            of = [""] * self.maxdoc
            sets: dict[str, frozenset[int]] = {}
            for btext in reader.lexicon(fname):
                value = btext.decode("utf-8")
                docs = self.docs(fname, value)
                sets[value] = docs
                for d in docs:
                    of[d] = value
            self.facet_of[fname] = of
            self.facet_sets[fname] = sets
        # Touch the text fields' length columns: a damaged index fails here,
        # at open time, rather than in the middle of a query.
        for fname in SCORED_FIELDS:
            self.norms(fname)

    # -- low level --------------------------------------------------------

    def acquire(self) -> bool:
        """Register a user; False if the snapshot is already closed."""
        with self._state_lock:
            if self._closed:
                return False
            self._users += 1
            return True

    def release(self) -> None:
        with self._state_lock:
            self._users -= 1
            close_now = self._retired and self._users <= 0
        if close_now:
            self.close()

    def retire(self) -> None:
        """No new users will come: close as soon as the current ones leave."""
        with self._state_lock:
            self._retired = True
            close_now = self._users <= 0
        if close_now:
            self.close()

    def close(self) -> None:
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.reader.close()
        except Exception:  # pragma: no cover - best effort
            pass
        # Whoosh's close() leaves memory maps referenced by the reader's
        # objects; dropping our references lets them (and their file
        # descriptors) go right away instead of at the next GC cycle.
        self.reader = None
        self.leaves = []
        self._cache.clear()

    def cached(self, key: tuple[str, str, str], size: Callable[[Any], int], make: Callable[[], Any]) -> Any:
        """LRU cache of computed posting data, bounded by CACHE_MAX_ENTRIES
        (the sum of ``size(value)`` over the cached values)."""
        cache = self._cache
        hit = cache.get(key)
        if hit is not None:
            with self._cache_lock:
                if key in cache:
                    cache.move_to_end(key)
            return hit[0]
        value = make()
        with self._cache_lock:
            if key not in cache:
                weight = max(1, size(value))
                cache[key] = (value, weight)
                self._cache_entries += weight
                while self._cache_entries > CACHE_MAX_ENTRIES and len(cache) > 1:
                    _key, (_old, old_weight) = cache.popitem(last=False)
                    self._cache_entries -= old_weight
        return value

    def postings(self, field: str, text: str) -> tuple[list[int], list[float]]:
        """Live doc numbers and weights of ``field:text`` (global doc numbers)."""
        if len(self.leaves) == 1 and self.leaf_deleted[0] is None:
            with self.io_lock:
                return _leaf_postings(self.leaves[0][0], field, text)
        ids: list[int] = []
        weights: list[float] = []
        for (seg, offset), deleted in zip(self.leaves, self.leaf_deleted):
            with self.io_lock:
                sids, sws = _leaf_postings(seg, field, text)
            if deleted and sids:
                # Postings are sorted by document: find the (few) deleted
                # ones by bisection and cut them out (C-level memmove).
                gone = deleted.intersection(sids)
                if len(gone) > 64:
                    pairs = [(d, w) for d, w in zip(sids, sws) if d not in gone]
                    sids, sws = [d for d, _w in pairs], [w for _d, w in pairs]
                elif gone:
                    sids, sws = list(sids), list(sws)
                    for i in sorted((bisect_left(sids, d) for d in gone), reverse=True):
                        del sids[i]
                        del sws[i]
            ids.extend(map(offset.__add__, sids) if offset else sids)
            weights.extend(sws)
        return ids, weights

    def docs(self, field: str, text: str) -> frozenset[int]:
        """Cached set of live documents containing ``field:text``."""
        return self.cached(
            ("docs", field, text), len, lambda: frozenset(self.postings(field, text)[0])
        )

    def norms(self, field: str) -> list[float]:
        """Per-document BM25 length normalisation ``k1*(1-b+b*len/avglen)``."""
        norms = self._norms.get(field)
        if norms is not None:
            return norms
        lengths = self._field_lengths(field)
        b = FIELD_B.get(field, 0.75)
        k1 = FIELD_K1.get(field, DEFAULT_K1)
        total = sum(lengths[d] for d in self.live) if self.live else 0
        avg = (total / self.n) if self.n and total else 1.0
        norms = [k1 * (1 - b + b * ln / avg) for ln in lengths]
        self._norms[field] = norms
        return norms

    def _field_lengths(self, field: str) -> list[int]:
        """Every document's length of *field* (as Whoosh stores it, one byte)."""
        with self.io_lock:
            return self._read_field_lengths(field)

    def _read_field_lengths(self, field: str) -> list[int]:
        lengths: list[int] = []
        for seg, _offset in self.leaves:
            count = seg.doc_count_all()
            seg_lengths: list[int] | None = None
            try:  # fast path: the W3 codec's one-byte length column, read raw
                col = seg._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
                if col is None:
                    seg_lengths = [0] * count
                else:
                    raw = col._dbfile.get(col._basepos, col._count)
                    seg_lengths = [_BYTE_TO_LENGTH[b] for b in raw] + [0] * (count - col._count)
            except (AttributeError, TypeError):  # another codec: ask per document
                seg_lengths = None
            if seg_lengths is None or len(seg_lengths) != count:
                seg_lengths = [seg.doc_field_length(d, field, 0) or 0 for d in range(count)]
            lengths.extend(seg_lengths)
        return lengths

    def _bm25(self, field: str, text: str, boost: float) -> dict[int, float]:
        ids, weights = self.postings(field, text)
        if not ids:
            return {}
        c = boost * self._idf(len(ids)) * (FIELD_K1.get(field, DEFAULT_K1) + 1.0)
        norms = self.norms(field)
        return {d: c * w / (w + norms[d]) for d, w in zip(ids, weights)}

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def field_scores(self, field: str, text: str) -> tuple[dict[int, float], float]:
        """Cached BM25 scores of one term in one field, and their maximum."""

        def make() -> tuple[dict[int, float], float]:
            sd = self._bm25(field, text, 1.0)
            return sd, (max(sd.values()) if sd else 0.0)

        return self.cached(("field", field, text), lambda v: len(v[0]), make)

    def text_scores(self, text: str) -> tuple[dict[int, float], float, frozenset[int]]:
        """Cached BM25F-style scores of one term over the scored fields (with
        their boosts), their maximum, and the documents that match only
        through near-universal fields.

        A term found in almost every document of a field (``df > 75 %``, e.g.
        "申请" in the process steps) has a BM25 IDF near zero there: that
        field is not scored, only matched -- it is the most expensive part
        of a term (the longest postings) and changes no ranking."""

        def make() -> tuple[dict[int, float], float, frozenset[int]]:
            parts: list[tuple[list[int], list[float], float, list[float]]] = []
            match_only: set[int] = set()
            for field, boost in SCORED_FIELDS.items():
                ids, weights = self.postings(field, text)
                if not ids:
                    continue
                if len(ids) > UNIVERSAL_DF * self.n and self.n >= UNIVERSAL_MIN_DOCS:
                    match_only.update(ids)
                    continue
                c = boost * self._idf(len(ids)) * (FIELD_K1.get(field, DEFAULT_K1) + 1.0)
                parts.append((ids, weights, c, self.norms(field)))
            combined: dict[int, float] = {}
            # The longest list becomes the dict; shorter ones are added to it.
            parts.sort(key=lambda p: -len(p[0]))
            for ids, weights, c, norms in parts:
                if not combined:
                    combined = {d: c * w / (w + norms[d]) for d, w in zip(ids, weights)}
                    continue
                get = combined.get
                for d, w in zip(ids, weights):
                    combined[d] = get(d, 0.0) + c * w / (w + norms[d])
            extra = frozenset(match_only.difference(combined))
            return combined, (max(combined.values()) if combined else 0.0), extra

        return self.cached(("text", "", text), lambda v: len(v[0]) + len(v[2]), make)

    def expand_prefix(self, field: str, prefix: str, limit: int) -> list[str]:
        """Up to *limit* indexed terms of *field* starting with *prefix*, in
        order.  Read segment by segment: Whoosh's multi-segment merge of
        term streams is much slower."""
        def make() -> tuple[str, ...]:
            found: set[bytes] = set()
            with self.io_lock:
                for seg, _offset in self.leaves:
                    for n, btext in enumerate(seg.expand_prefix(field, prefix)):
                        if n >= limit:
                            break
                        found.add(btext)
            return tuple(b.decode("utf-8") if isinstance(b, bytes) else b for b in sorted(found)[:limit])

        return list(self.cached(("prefix", field, f"{limit}:{prefix}"), len, make))

    def prewarm(self, terms: int, seconds: float) -> int:
        """Load the scores of the most frequent terms ahead of queries.

        Frequent terms have the longest postings, so they are what makes a
        first query slow; loading up to *terms* of them (for at most
        *seconds*) right after opening takes that cost off the queries.
        Returns how many terms were loaded."""
        deadline = time.perf_counter() + seconds
        if not self.leaves:
            return 0
        self.default_order()  # browsing order (empty query, suggestions)
        self.keyword_index()  # spelling suggestions
        seg = max((s for s, _o in self.leaves), key=lambda s: s.doc_count_all())
        with self.io_lock:
            frequent = heapq.nlargest(
                terms, ((info.doc_frequency(), text) for text, info in seg.iter_field("text"))
            )
        loaded = 0
        for _df, btext in frequent:
            if time.perf_counter() > deadline:
                break
            self.text_scores(btext.decode("utf-8") if isinstance(btext, bytes) else btext)
            loaded += 1
        return loaded

    def keyword_index(self) -> dict[str, tuple[str, ...]]:
        """Every indexed keyword, by each of its characters (suggestions)."""
        def make() -> dict[str, tuple[str, ...]]:
            index: dict[str, list[str]] = {}
            with self.io_lock:
                words = {b.decode("utf-8") for seg, _o in self.leaves for b in seg.lexicon("kw_exact")}
            for word in words:
                for ch in set(word):
                    index.setdefault(ch, []).append(word)
            return {ch: tuple(ws) for ch, ws in index.items()}

        return self.cached(("kwindex", "", ""), len, make)

    def default_rank(self) -> dict[int, int]:
        """Position of each document in :meth:`default_order`."""
        return self.cached(
            ("rank", "", ""), len, lambda: {d: i for i, d in enumerate(self.default_order())}
        )

    def default_order(self) -> list[int]:
        """Live documents, popular first, then by code (empty query order)."""
        if self._default_order is None:
            with self.io_lock:  # raw UTF-8 bytes sort like the strings
                codes = list(self.reader.column_reader("code", translate=False))
            popular = self.facet_of["popular"]
            self._default_order = sorted(self.live, key=lambda d: (popular[d] != "1", codes[d]))
        return self._default_order

    def count_values(self, facet: str, docs: frozenset[int] | set[int]) -> Counter[str]:
        """How many of *docs* have each value of *facet*.

        Counting walks the documents, so a large set is counted through its
        (smaller) complement: all-document counts minus the complement's."""
        values = self.facet_of[facet]
        if len(docs) * 2 <= self.n:
            return Counter(map(values.__getitem__, docs))
        full = self._full_counts.get(facet)
        if full is None:
            full = self._full_counts[facet] = Counter(map(values.__getitem__, self.live))
        rest = Counter(map(values.__getitem__, self.live.difference(docs)))
        counts = full.copy()
        counts.subtract(rest)
        return +counts  # drops zero counts

    def stored(self, docnum: int) -> dict[str, Any]:
        with self.io_lock:
            return self.reader.stored_fields(docnum)

    # -- query evaluation -------------------------------------------------

    def resolve(self, plan: QueryPlan) -> tuple[list[Clause], set[int]]:
        """The plan's clauses as ``(scores, weight, upper_bound)`` triples,
        and the set of matching documents.

        Without a minimum-should-match rule a document matches when any
        clause does (including the unscored near-universal fields, see
        :meth:`text_scores`); with one, it must have ``plan.min_match`` of
        the plan's word groups."""
        out: list[Clause] = []
        match_only: list[frozenset[int]] = []
        for c in plan.clauses:
            if isinstance(c, TextTerm):
                sd, mx, extra = self.text_scores(c.term)
                if sd:
                    out.append((sd, c.weight, mx * c.weight))
                if extra:
                    match_only.append(extra)
            elif isinstance(c, FieldAnd):
                sd = self._field_and(c)
                if sd:
                    out.append((sd, 1.0, max(sd.values())))
            elif isinstance(c, Bonus):
                docs: frozenset[int] | None = None
                for group in c.groups:
                    gdocs = frozenset().union(*(self.docs(c.field, t) for t in group))
                    docs = gdocs if docs is None else docs & gdocs
                    if not docs:
                        break
                if docs:
                    out.append((dict.fromkeys(docs, c.value), 1.0, c.value))
        if plan.min_match <= 1:
            return out, set().union(*(sd for sd, _w, _ub in out), *match_only)
        # Count, per document, the groups it has.
        coverage: Counter[int] = Counter()
        for g in plan.groups:
            has: set[int] = set()
            for t in g.terms:
                sd, _mx, extra = self.text_scores(t)
                has.update(sd)
                has.update(extra)
            for i in g.clauses:
                c = plan.clauses[i]
                if isinstance(c, FieldAnd):
                    has.update(self._field_and(c))
            coverage.update(has)
        need = plan.min_match
        return out, {d for d, n in coverage.items() if n >= need}

    def _field_and(self, c: FieldAnd) -> dict[int, float]:
        """Cached scores of a FieldAnd clause (sum of the parts' BM25)."""
        key = ("and", c.field, repr((c.terms, c.prefix, c.boost)))
        return self.cached(key, len, lambda: self._compute_field_and(c))

    def _compute_field_and(self, c: FieldAnd) -> dict[int, float]:
        parts = [self.field_scores(c.field, t)[0] for t in c.terms]
        if c.prefix:
            expansions = self.expand_prefix(c.field, c.prefix, MAX_PREFIX_EXPANSIONS)
            best: dict[int, float] = {}
            for t in expansions:
                for d, s in self.field_scores(c.field, t)[0].items():
                    if s > best.get(d, 0.0):
                        best[d] = s
            parts.append(best)
        if not parts or not all(parts):
            return {}
        parts.sort(key=len)
        docs = set(parts[0]).intersection(*parts[1:]) if len(parts) > 1 else parts[0].keys()
        boost = c.boost
        return {d: boost * sum(p[d] for p in parts) for d in docs}

    @staticmethod
    def top_k(
        clauses: list[Clause],
        allowed: frozenset[int] | set[int] | None,
        k: int,
    ) -> list[tuple[int, float]]:
        """The *k* best ``(docnum, score)`` pairs (MaxScore, term at a time).

        Clauses are processed from the highest possible contribution down.
        Once the k-th best score exceeds what all remaining clauses together
        could add, no new document can enter the top k: the remaining
        (usually long, low-IDF) clauses then only update known candidates
        instead of being scanned in full."""
        if k <= 0 or not clauses:
            return []
        order = sorted(clauses, key=lambda c: -c[2])
        acc: dict[int, float] = {}
        pruned = False
        done = 0.0  # upper bound of any accumulated score so far
        for i, (sd, weight, ub) in enumerate(order):
            # Recomputed (not decremented) so float error never goes negative.
            remaining = sum(c[2] for c in order[i + 1 :])
            done += ub
            if not pruned:
                get = acc.get
                if allowed is None:
                    for d, s in sd.items():
                        acc[d] = get(d, 0.0) + s * weight
                else:
                    for d in sd.keys() & allowed:
                        acc[d] = get(d, 0.0) + sd[d] * weight
                # theta <= done: only look for it once pruning is possible.
                if len(acc) >= k and remaining < done:
                    theta = heapq.nlargest(k, acc.values())[-1]
                    if remaining < theta:
                        pruned = True
                        floor = theta - remaining - 1e-9 * max(1.0, theta)
                        acc = {d: s for d, s in acc.items() if s >= floor}
            else:
                if len(acc) <= len(sd):
                    for d in acc:
                        found = sd.get(d)
                        if found is not None:
                            acc[d] += found * weight
                else:
                    for d, s in sd.items():
                        if d in acc:
                            acc[d] += s * weight
        return heapq.nsmallest(k, acc.items(), key=lambda kv: (-kv[1], kv[0]))
