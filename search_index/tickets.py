"""TicketIndex: full-text search over tickets (工单/办件) for the staff queues.

Works on plain dicts; no Flask, no database.  One document per ticket::

    {"number": "LX20261129000001-1", "request_number": "LX20261129000001",
     "status": "submitted", "bureau_ids": [3, 7],
     "enterprise": "澧县兰江食品有限公司", "uscc": "91350100M000100Y43",
     "services": ["汽车衡（地磅）检定"], "text": "description, field values, public replies"}

What a query matches
--------------------
* Chinese words and phrases, analysed like the catalog
  (:class:`search_index.analysis.ChineseTokenizer`: CJK unigrams + bigrams +
  jieba words, Latin words).  The query is cut into words with jieba, minus
  the catalog's stopwords; every word is required (AND).  A word of two or
  more CJK characters matches where all its bigrams occur in one field (no
  positions are indexed); a single character counts only in a query without
  longer words.  The catalog's colloquial synonyms apply ("地磅" also finds
  "汽车衡").
* A ticket or request number, whole or as a prefix of at least
  ``MIN_NUMBER_PREFIX`` characters ("LX2026112900000"), any letter case,
  full-width or not.
* A USCC, whole or any fragment of at least ``MIN_ID_TOKEN`` characters
  (overlapping ``USCC_GRAM``-grams are indexed).
* The enterprise name, whole (one term) or by its words.

Query text is never parsed as query syntax: the Whoosh query is built term by
term (:func:`build_tiers`), so ``AND``, ``*``, ``"``, ``:`` … are plain text.

Ranking ("best match first")
----------------------------
Results come in tiers, each tier newest first:

1. the exact ticket or request number;
2. a number prefix or a USCC (fragment);
3. the exact enterprise name;
4. every word found in the enterprise name or the service names;
5. every word found anywhere (free text included).

A ticket appears once, in its best tier.  Word frequencies (BM25) are not
used: among tickets that all contain the words, the recent ones matter most to
staff, and this order lets a search stop after ``limit`` hits instead of
scoring every posting of a common word.  "Newest" is index order: the order in
which ``rebuild`` received the documents (the database yields them oldest
first), then tickets upserted since, most recent last.

Bureau restriction
------------------
Every tier's query is ``And([tier_query, Or(bureau terms)])``: the restriction
is a clause of the Whoosh query itself, evaluated with the rest, so no hit can
escape it.  ``None`` means every bureau; an empty collection returns ``[]``
without searching.

Evaluation (speed)
------------------
Whoosh stores the index (segments, postings, locking, atomic commits).
Whoosh's pure-Python matchers need hundreds of milliseconds to intersect
common terms over 100,000 tickets, so the tier queries -- plain ``Term`` /
``And`` / ``Or`` trees -- are evaluated over per-segment bitmaps instead: a
term's postings are read once (whole blocks at a time) into a Python integer
with one bit per document, cached (LRU, ``BITMAP_CACHE_BYTES``) and combined
with C-speed ``&`` / ``|``; a ``Prefix`` expands the segment's lexicon (and
is cached the same way).  Only the ticket number is stored; every field
indexes term existence only (no frequencies, lengths or positions).  The
tests check that this evaluation matches Whoosh's own
(``searcher.docs_for_query``) on the same queries.

``rebuild`` writes one segment per ``SEGMENT_DOCS`` documents, as separate
files (a compound segment would be copied into memory by every reader); later
upserts add small segments, merged by size tiers (``MERGE_FACTOR``).  Segment
and document order is chronological, which the search walks backwards.

Concurrency and maintenance
---------------------------
* Writers in one process serialise on a per-directory lock, then take
  Whoosh's file lock (other processes) with a timeout.
* ``rebuild`` builds the new index in a temporary sub-directory and swaps it in
  with one atomic TOC write.  It does not block ``upsert``/``delete``: changes
  made by this process while a rebuild runs go to the live index *and* are
  replayed into the new one before the swap.
* Each thread keeps its own reader, reopened when the generation on disk
  changes (a commit by this process or another one).
* A missing, stale (another schema version, or fields whose type, format
  or analysis differ from :func:`build_schema` even without a version
  bump) or unreadable index makes ``search``/``doc_count`` raise
  :class:`TicketIndexUnavailable`, and ``available()`` return False.
  ``upsert``/``delete`` on such an index raise it too, after writing
  nothing: the caller must not count the change as applied (the search
  outbox keeps it) and rebuilds the index from the database, which
  includes it.  A partial index, which would silently miss tickets, is
  never created.  Changes that fail while a rebuild of this process runs
  are still replayed into the new index.
* Nothing a killed process leaves behind blocks the next one: Whoosh's
  locks are ``flock`` locks, which the kernel releases with the process;
  a commit switches generations with one atomic TOC rename (files of an
  unfinished commit are removed by the next commit); the temporary
  directory of an unfinished rebuild is removed by the next rebuild.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

import jieba
from whoosh import fields, formats
from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import KeywordAnalyzer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.util.filelock import try_for

from .analysis import (
    MAX_QUERY_CHARS,
    STOPWORDS,
    SYNONYMS,
    ChineseTokenizer,
    clean_text,
    ensure_jieba,
    is_cjk,
    normalize,
)

__all__ = [
    "TicketIndex",
    "TicketIndexUnavailable",
    "build_schema",
    "build_tiers",
    "bureau_restriction",
    "doc_to_fields",
]

log = logging.getLogger(__name__)

#: Whoosh's name for the index inside the directory (file prefix); distinct
#: from the catalog's, so both could even share a directory.
INDEXNAME = "TICKETS"
#: Bump when the schema or the analysis changes: an index written by another
#: version is reported unavailable (and rebuilt by the caller).
SCHEMA_VERSION = "2"
META_FILE = "ticket_index.json"

#: Number prefixes of MIN_NUMBER_PREFIX ("LX202611": a month) to
#: MAX_INDEXED_PREFIX characters are indexed terms; longer prefixes are found
#: by expanding the (sorted) lexicon of whole numbers, which then holds few
#: matches.  Shorter ones are not number queries.
MIN_NUMBER_PREFIX = 8
MAX_INDEXED_PREFIX = 13
#: At most this many whole numbers per segment for one prefix.
MAX_PREFIX_EXPANSIONS = 2_000
#: USCCs are indexed as overlapping n-grams of this size; a USCC fragment
#: (any part, MIN_ID_TOKEN characters or more) matches where all its n-grams
#: occur.
USCC_GRAM = 3
#: Shortest letters-and-digits query token tried as a number / USCC fragment.
MIN_ID_TOKEN = 6
#: Caps that keep a pathological query bounded.
MAX_WORDS = 10
MAX_LIMIT = 10_000

#: Documents per segment written by ``rebuild``.
SEGMENT_DOCS = 100_000
#: Upsert segments are merged when MERGE_FACTOR of them of the same size tier
#: (1-9, 10-99, … documents) are the newest ones, up to tier MAX_MERGE_TIER.
MERGE_FACTOR = 10
MAX_MERGE_TIER = 3
#: Postings per block (Whoosh's default is 128; bitmaps read whole lists).
POSTINGS_BLOCK = 1024
#: Memory for cached term bitmaps, shared by every index of the process.
BITMAP_CACHE_BYTES = 96 * 1024 * 1024

#: Seconds a writer waits for another writer (thread or process).
WRITE_LOCK_TIMEOUT = 60.0
#: Seconds a rebuild waits for another process's rebuild of the same index.
REBUILD_LOCK_TIMEOUT = 3600.0
LOCK_RETRY_DELAY = 0.05

_TOC_RE = re.compile(r"^_%s_([0-9]+)\.toc$" % INDEXNAME)
_ALNUM_RE = re.compile("[0-9a-z]+")


class TicketIndexUnavailable(Exception):
    """The ticket index is missing, stale or unreadable; rebuild it."""


# --------------------------------------------------------------------------
# Schema and documents
# --------------------------------------------------------------------------


def _words_field() -> fields.FieldType:
    """Chinese-analysed text, term existence only."""
    return fields.FieldType(formats.Existence(), ChineseTokenizer())


def _terms_field() -> fields.FieldType:
    """Space-separated terms (already normalised), term existence only
    (``fields.KEYWORD`` would store frequencies)."""
    return fields.FieldType(formats.Existence(), KeywordAnalyzer())


def build_schema() -> fields.Schema:
    """The ticket schema (a new instance each time: schemas are mutable).

    Every indexed field has the Existence format (see ``_ExistencePool``)."""
    return fields.Schema(
        # The ticket number as given: the only stored field, what search returns.
        number=fields.STORED(),
        # The normalised ticket number (the key of updates and deletions) and
        # request number; prefixes of either, up to MAX_INDEXED_PREFIX.
        key=fields.ID(),
        req=fields.ID(),
        idp=_terms_field(),
        # USCC n-grams.
        uscc=_terms_field(),
        # The whole enterprise name (normalised, without spaces).
        ent=fields.ID(),
        # Owning and co-handling bureau ids: the access restriction.
        bureau=_terms_field(),
        status=fields.ID(),
        # Enterprise and service names; the free text.
        head=_words_field(),
        text=_words_field(),
    )


def _field_signature(field: fields.FieldType) -> tuple[Any, ...]:
    """What must match between a field on disk and the same field of
    :func:`build_schema` for this code to read and write it: the field and
    format types, the stored/unique/scorable flags, the vector format and the
    analyzer's components (by class)."""
    analyzer = getattr(field, "analyzer", None)
    if analyzer is None:
        parts: tuple[str, ...] | None = None
    elif hasattr(analyzer, "items"):  # a composite analyzer
        parts = tuple(type(a).__name__ for a in analyzer.items)
    else:
        parts = (type(analyzer).__name__,)
    fmt = getattr(field, "format", None)
    vector = getattr(field, "vector", None)
    return (
        type(field).__name__,
        type(fmt).__name__ if fmt is not None else None,
        bool(field.stored),
        bool(getattr(field, "unique", False)),
        bool(getattr(field, "scorable", False)),
        type(vector).__name__ if vector else None,
        parts,
    )


def schema_compatible(schema: Any) -> bool:
    """True when *schema* (read from an index) has exactly the fields of
    :func:`build_schema`, each of the same kind (see ``_field_signature``).
    A format change without a ``SCHEMA_VERSION`` bump is caught here instead
    of failing in the writer ("field … does not have the Existence format")."""
    try:
        found = {name: _field_signature(field) for name, field in schema.items()}
    except Exception:
        return False
    expected = {name: _field_signature(field) for name, field in build_schema().items()}
    return found == expected


def _codec() -> W3Codec:
    codec = W3Codec(blocklimit=POSTINGS_BLOCK)
    # Nothing is scored: skip the per-posting field-length lookups (which
    # stat a file for every posting when a field has no lengths).
    codec.length_stats = False
    return codec


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return "\n".join(_text(v) for v in value if v is not None)
    return str(value)


def _compact(value: Any) -> str:
    """Normalised (NFKC, lowercase) text without whitespace."""
    return "".join(normalize(_text(value)).split())


def _number_key(value: Any) -> str:
    """The indexed form of a ticket/request number."""
    return _compact(value)


def _prefix_terms(*numbers: str) -> list[str]:
    terms: set[str] = set()
    for num in numbers:
        for n in range(MIN_NUMBER_PREFIX, min(len(num), MAX_INDEXED_PREFIX) + 1):
            terms.add(num[:n])
    return sorted(terms)


def _grams(alnum: str) -> list[str]:
    if len(alnum) <= USCC_GRAM:
        return [alnum] if alnum else []
    return list(dict.fromkeys(alnum[i : i + USCC_GRAM] for i in range(len(alnum) - USCC_GRAM + 1)))


def _uscc_terms(uscc: str) -> list[str]:
    return sorted(_grams("".join(_ALNUM_RE.findall(uscc))))


def _bureau_term(value: Any) -> str | None:
    """A bureau id as its index term, or None when it is not an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
    try:
        ivalue = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and value != ivalue:
        return None
    return str(ivalue)


def doc_to_fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """Convert a ticket document into Whoosh field values (ValueError when
    it has no number or a bureau id that is not an integer)."""
    if not isinstance(doc, Mapping):
        raise ValueError(f"ticket document must be a mapping, not {type(doc).__name__}")
    number = "".join(_text(doc.get("number")).split())
    if not number:
        raise ValueError("ticket document without a number")
    bureaus = doc.get("bureau_ids") or ()
    if isinstance(bureaus, (str, int)):
        bureaus = [bureaus]
    terms = set()
    for b in bureaus:
        term = _bureau_term(b)
        if term is None:
            raise ValueError(f"ticket {number}: invalid bureau id {b!r}")
        terms.add(term)
    services = doc.get("services") or ()
    if isinstance(services, str):
        services = [services]
    enterprise = _text(doc.get("enterprise"))
    key, req = _number_key(number), _number_key(doc.get("request_number"))
    out = {
        "number": number,
        "key": key,
        "req": req,
        "idp": " ".join(_prefix_terms(key, req)),
        "uscc": " ".join(_uscc_terms(_compact(doc.get("uscc")))),
        "ent": _compact(enterprise),
        "bureau": " ".join(sorted(terms)),
        "status": _text(doc.get("status")).strip(),
        "head": "\n".join(t for t in (enterprise, _text(list(services))) if t),
        "text": _text(doc.get("text")),
    }
    return {k: v for k, v in out.items() if v != ""}


# --------------------------------------------------------------------------
# Queries (built term by term, never parsed)
# --------------------------------------------------------------------------


def _char_class(ch: str) -> int:
    """0 = separator, 1 = CJK, 2 = other letter/digit."""
    if is_cjk(ch):
        return 1
    if ch.isalnum():
        return 2
    return 0


def _runs(text: str) -> Iterator[tuple[int, str]]:
    """(class, run) for the CJK runs and the letter/digit runs of *text*;
    letter/digit runs keep inner hyphens ("lx2026-1")."""
    i, n = 0, len(text)
    while i < n:
        cls = _char_class(text[i])
        if cls == 0:
            i += 1
            continue
        j = i + 1
        while j < n:
            c = _char_class(text[j])
            if c == cls:
                j += 1
            elif cls == 2 and text[j] == "-" and j + 1 < n and _char_class(text[j + 1]) == 2:
                j += 2
            else:
                break
        yield cls, text[i:j]
        i = j


def _cjk_form(field: str, word: str) -> wq.Query:
    if len(word) == 1:
        return wq.Term(field, word)
    grams = [wq.Term(field, g) for g in dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1))]
    return grams[0] if len(grams) == 1 else wq.And(grams)


@dataclass(frozen=True)
class _Word:
    """One required word of a query.

    ``kind`` is "cjk" (``forms``: the word and its synonyms), "latin"
    (``forms[0]``: a letters/digits run, hyphens allowed) or "id" (a latin
    run that may also be a number or a USCC fragment)."""

    kind: str
    forms: tuple[str, ...]

    def in_field(self, field: str) -> wq.Query:
        if self.kind == "cjk":
            alts = [_cjk_form(field, f) for f in self.forms]
            return alts[0] if len(alts) == 1 else wq.Or(alts)
        parts = [wq.Term(field, p) for p in self.forms[0].split("-") if p]
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def anywhere(self) -> wq.Query:
        return wq.Or([self.in_field("head"), self.in_field("text")])

    def exact_number(self) -> wq.Query | None:
        """The ticket or request with exactly this number."""
        token = self.forms[0]
        if len(token) < MIN_NUMBER_PREFIX:
            return None
        return wq.Or([wq.Term("key", token), wq.Term("req", token)])

    def identifier(self) -> wq.Query:
        """Tickets whose number or request number starts with this token, or
        whose USCC contains it."""
        token = self.forms[0]
        alts: list[wq.Query] = []
        if MIN_NUMBER_PREFIX <= len(token) <= MAX_INDEXED_PREFIX:
            alts.append(wq.Term("idp", token))
        elif len(token) > MAX_INDEXED_PREFIX:
            alts += [wq.Prefix("key", token), wq.Prefix("req", token)]
        alnum = token.replace("-", "")
        if len(alnum) >= MIN_ID_TOKEN:
            grams = [wq.Term("uscc", g) for g in _grams(alnum)]
            alts.append(grams[0] if len(grams) == 1 else wq.And(grams))
        return alts[0] if len(alts) == 1 else wq.Or(alts)


def _words(q: str) -> tuple[list[_Word], str]:
    """The required words of user text *q*, and *q* compacted."""
    text = normalize(clean_text(q)[: MAX_QUERY_CHARS * 2])[:MAX_QUERY_CHARS]
    words: list[_Word] = []
    for cls, run in _runs(text):
        if cls == 1:
            ensure_jieba()
            cut = [w for w in jieba.cut(run, HMM=True) if w.strip()]
            content = [w for w in cut if w not in STOPWORDS] or cut
            words.extend(_Word("cjk", (w, *SYNONYMS.get(w, ()))) for w in content)
        elif len(run) >= MIN_ID_TOKEN and run.isascii() and any(ch.isdigit() for ch in run):
            words.append(_Word("id", (run,)))
        else:
            words.append(_Word("latin", (run,)))
        if len(words) >= MAX_WORDS:
            break
    words = list(dict.fromkeys(words))
    # A lone character between words ("厂" in "我们厂的地磅需要年检") would
    # exclude every ticket that happens not to contain it: it is required
    # only when the query has nothing longer.
    if any(w.kind != "cjk" or len(w.forms[0]) > 1 for w in words):
        words = [w for w in words if w.kind != "cjk" or len(w.forms[0]) > 1]
    return words[:MAX_WORDS], "".join(text.split())


def _and(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else wq.And(queries)


def build_tiers(q: Any) -> list[tuple[str, wq.Query]]:
    """The Whoosh queries for user text *q*, best tier first, as
    ``(tier name, query)``; empty when nothing in *q* is searchable."""
    if not q or not isinstance(q, str):
        return []
    words, compact = _words(q)
    if not words:
        return []
    tiers: list[tuple[str, wq.Query]] = []
    if any(w.kind == "id" for w in words):
        tiers.append(("number", _and([
            (w.exact_number() or w.identifier()) if w.kind == "id" else w.anywhere() for w in words
        ])))
        tiers.append(("identifier", _and([w.identifier() if w.kind == "id" else w.anywhere() for w in words])))
    if any(is_cjk(ch) for ch in compact):
        tiers.append(("enterprise", wq.Term("ent", compact)))
    tiers.append(("names", _and([w.in_field("head") for w in words])))
    tiers.append(("anywhere", _and([w.anywhere() for w in words])))
    return tiers


def bureau_restriction(bureau_ids: Iterable[Any]) -> wq.Query | None:
    """The query matching tickets of any of *bureau_ids* (None when the
    collection holds no valid id: then nothing may be returned)."""
    if isinstance(bureau_ids, (str, bytes, int)):
        bureau_ids = [bureau_ids]
    terms = sorted({t for t in (_bureau_term(b) for b in bureau_ids) if t is not None})
    if not terms:
        return None
    qs = [wq.Term("bureau", t) for t in terms]
    return qs[0] if len(qs) == 1 else wq.Or(qs)


# --------------------------------------------------------------------------
# Bitmap evaluation
# --------------------------------------------------------------------------

_BITS = (1, 2, 4, 8, 16, 32, 64, 128)


def _bitmap(docnums: Iterable[int], nbytes: int) -> int:
    """A Python int with bit ``d`` set for each doc number ``d``."""
    buf = bytearray(nbytes)
    for d in docnums:
        buf[d >> 3] |= _BITS[d & 7]
    return int.from_bytes(buf, "little")


def _postings(reader: SegmentReader, field: str, text: str) -> Iterable[int]:
    """Doc numbers of a term in one segment, deleted documents included.

    Reads the W3 codec's blocks whole (unpickle + ``accumulate`` in C);
    falls back to the generic matcher protocol for other matcher types."""
    try:
        m = reader.postings(field, text)
    except TermNotFound:
        return ()
    if isinstance(m, FilterMatcher):  # deletions are masked by the caller
        m = m.child
    if not isinstance(m, W3LeafMatcher):
        return list(m.all_ids())
    ids: list[int] = []
    while True:
        if m._data is None:
            m._read_data()
        block = m._data[0]
        ids.extend(block if m._byteids else accumulate(block))
        if m._lastblock:
            return ids
        m._goto(m._nextoffset)


class _BitmapCache:
    """Process-wide LRU of term bitmaps by (segment id, field, term).

    A segment's postings never change (deletions are masked separately), so
    entries stay valid across generations until evicted."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._data: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> int | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, str], value: int) -> None:
        size = 64 + (value.bit_length() >> 3)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._data:
                return
            self._data[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes and self._data:
                _k, old = self._data.popitem(last=False)
                self._bytes -= 64 + (old.bit_length() >> 3)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0


_CACHE = _BitmapCache(BITMAP_CACHE_BYTES)


class _Segment:
    """One segment of an open reader: its doc numbers as bit positions."""

    __slots__ = ("reader", "id", "size", "nbytes", "_live")

    def __init__(self, reader: SegmentReader) -> None:
        self.reader = reader
        self.id = reader.segment().segment_id()
        self.size = reader.doc_count_all()
        self.nbytes = (self.size + 7) >> 3
        self._live: int | None = None

    def live(self) -> int:
        """Mask of the documents not deleted in this generation (deletions
        only ever grow, so their count identifies the mask)."""
        if self._live is None:
            segment = self.reader.segment()
            deleted = segment.deleted_count()
            key = (self.id, "", str(deleted))  # "" is no field name
            mask = _CACHE.get(key)
            if mask is None:
                mask = (1 << self.size) - 1
                if deleted:
                    mask &= ~_bitmap(segment.deleted_docs(), self.nbytes)
                _CACHE.put(key, mask)
            self._live = mask
        return self._live

    def term(self, field: str, text: str) -> int:
        key = (self.id, field, text)
        bits = _CACHE.get(key)
        if bits is None:
            bits = _bitmap(_postings(self.reader, field, text), self.nbytes)
            _CACHE.put(key, bits)
        return bits

    def prefix(self, field: str, text: str) -> int:
        """Documents with a term of *field* starting with *text* (the first
        MAX_PREFIX_EXPANSIONS such terms)."""
        key = (self.id, field + "*", text)  # "*" is in no field name
        bits = _CACHE.get(key)
        if bits is None:
            docs: list[int] = []
            for n, btext in enumerate(self.reader.expand_prefix(field, text)):
                if n >= MAX_PREFIX_EXPANSIONS:
                    break
                docs.extend(_postings(self.reader, field, btext.decode("utf-8")))
            bits = _bitmap(docs, self.nbytes)
            _CACHE.put(key, bits)
        return bits


def _evaluate(q: wq.Query, seg: _Segment, memo: dict[tuple[str, str], int]) -> int:
    """The documents of *seg* matching *q* (Term/Prefix/And/Or only), as a
    bitmap (deleted documents included)."""
    if isinstance(q, wq.Term):
        key = (q.fieldname, q.text)
        bits = memo.get(key)
        if bits is None:
            bits = memo[key] = seg.term(q.fieldname, q.text)
        return bits
    if isinstance(q, wq.Prefix):
        return seg.prefix(q.fieldname, q.text)
    if isinstance(q, wq.And):
        result = -1
        for sub in q.subqueries:
            result &= _evaluate(sub, seg, memo)
            if not result:
                return 0
        return result if result != -1 else 0
    if isinstance(q, wq.Or):
        result = 0
        for sub in q.subqueries:
            result |= _evaluate(sub, seg, memo)
        return result
    raise TypeError(f"unsupported query type {type(q).__name__}")


def _highest(bits: int, count: int) -> list[int]:
    """The *count* highest set bit positions of *bits*, highest first."""
    out: list[int] = []
    while bits and len(out) < count:
        top = bits.bit_length() - 1
        out.append(top)
        bits ^= 1 << top
    return out


# --------------------------------------------------------------------------
# Writing helpers
# --------------------------------------------------------------------------


class _ExistencePool:
    """Stands in for Whoosh's PostingPool (``SegmentWriter.pool``).

    Every field of the schema has the Existence format, so a posting is only
    a doc number: they are kept per term in ``array('I')`` (4 bytes each)
    instead of Whoosh's pickled, externally sorted tuples, which makes
    indexing several times faster and bounds its memory."""

    def __init__(self) -> None:
        self._terms: dict[tuple[str, bytes], array] = {}
        self._unsorted: set[tuple[str, bytes]] = set()
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        fieldname, btext, docnum, weight, value = item
        if value or weight != 1.0:
            raise ValueError(f"field {fieldname!r} does not have the Existence format")
        key = (fieldname, btext)
        docs = self._terms.get(key)
        if docs is None:
            docs = self._terms[key] = array("I")
            self.fieldnames.add(fieldname)
        elif docnum <= docs[-1]:
            self._unsorted.add(key)
        docs.append(docnum)

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        for key in sorted(self._terms):
            docs: Iterable[int] = self._terms[key]
            if key in self._unsorted:
                docs = sorted(set(docs))
            fieldname, btext = key
            for d in docs:
                yield fieldname, btext, d, 1.0, b""

    def cleanup(self) -> None:
        self._terms.clear()
        self._unsorted.clear()


def _writer(ix: windex.FileIndex, **kwargs: Any) -> Any:
    # compound=False: Whoosh opens a compound segment by copying its postings
    # into memory (BytesIO), per reader; separate files are read in place.
    writer = ix.writer(codec=_codec(), compound=False, **kwargs)
    writer.pool = _ExistencePool()
    return writer


def _tier(size: int) -> int:
    """Size tier of a segment: 0 for 1-9 documents, 1 for 10-99, …"""
    return len(str(max(1, size))) - 1


def _merge_run(segments: list[Any]) -> list[Any]:
    """The newest segments to merge into the next commit: the trailing run of
    segments of the newest one's size tier, if it has MERGE_FACTOR of them
    (keeping segment order, and so document order, chronological)."""
    if not segments:
        return []
    tier = _tier(segments[-1].doc_count_all())
    if tier > MAX_MERGE_TIER:
        return []
    run = []
    for seg in reversed(segments):
        if _tier(seg.doc_count_all()) != tier:
            break
        run.append(seg)
    return list(reversed(run)) if len(run) >= MERGE_FACTOR else []


def _latest_generation(folder: Path) -> int:
    """Highest TOC generation in *folder*, -1 when there is no index."""
    try:
        names = os.listdir(folder)
    except OSError:
        return -1
    gen = -1
    for name in names:
        m = _TOC_RE.match(name)
        if m:
            gen = max(gen, int(m.group(1)))
    return gen


def _commit(writer: Any, **kwargs: Any) -> None:
    """Commit and break the writer's searcher reference cycle at once (it
    otherwise keeps the old segments' files open until the next full GC)."""
    searcher = getattr(writer, "_searcher", None)
    writer.commit(**kwargs)
    if searcher is not None:
        try:
            searcher.__dict__.clear()
        except Exception:  # pragma: no cover - best effort
            pass


class _DirState:
    """Per index directory and process: the writers' lock, the rebuilds'
    lock and the journals of the rebuilds in progress."""

    def __init__(self) -> None:
        self.write_lock = threading.RLock()
        self.rebuild_lock = threading.Lock()
        self.journals: list[list[tuple[str, Any]]] = []


_DIR_STATES: dict[str, _DirState] = {}
_DIR_STATES_GUARD = threading.Lock()


def _dir_state(path: Path) -> _DirState:
    key = os.path.realpath(path)
    with _DIR_STATES_GUARD:
        return _DIR_STATES.setdefault(key, _DirState())


class _Reader:
    """One thread's open reader over one generation, newest segment first."""

    __slots__ = ("generation", "reader", "segments")

    def __init__(self, generation: int, reader: Any) -> None:
        self.generation = generation
        self.reader = reader
        leaves = [r for r, _base in reader.leaf_readers() if r.doc_count_all()]
        self.segments = [_Segment(r) for r in reversed(leaves)]

    def close(self) -> None:
        try:
            self.reader.close()
        except Exception:  # pragma: no cover - closing is best effort
            pass


# --------------------------------------------------------------------------
# The public class
# --------------------------------------------------------------------------


class TicketIndex:
    """Full-text index of tickets (plain dicts in, ticket numbers out).

    :param index_dir: the index directory (created by the first rebuild).
    """

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir)
        self._storage = FileStorage(str(self.index_dir))
        self._state = _dir_state(self.index_dir)
        self._local = threading.local()
        self._readers: list[_Reader] = []  # every open reader, for close()
        self._readers_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TicketIndex({str(self.index_dir)!r})"

    # -- reading ------------------------------------------------------------

    def _meta_ok(self) -> bool:
        try:
            meta = json.loads((self.index_dir / META_FILE).read_text("utf-8"))
            return meta.get("schema_version") == SCHEMA_VERSION
        except (OSError, ValueError, AttributeError):
            return False

    def _open(self, gen: int) -> _Reader:
        if gen < 0:
            raise TicketIndexUnavailable(f"no ticket index in {self.index_dir}")
        if not self._meta_ok():
            raise TicketIndexUnavailable(f"the ticket index in {self.index_dir} was built by another version")
        try:
            ix = windex.FileIndex(self._storage, indexname=INDEXNAME)
            reader = ix.reader()
        except Exception as exc:
            raise TicketIndexUnavailable(f"ticket index unreadable: {exc}") from exc
        try:
            if not schema_compatible(reader.schema):
                raise TicketIndexUnavailable("the ticket index has another schema")
            gen_read = reader.generation()
            r = _Reader(gen if gen_read is None or gen_read < 0 else gen_read, reader)
        except TicketIndexUnavailable:
            reader.close()
            raise
        except Exception as exc:
            reader.close()
            raise TicketIndexUnavailable(f"ticket index unreadable: {exc}") from exc
        with self._readers_lock:
            self._readers.append(r)
        return r

    def _release(self, r: _Reader) -> None:
        with self._readers_lock:
            try:
                self._readers.remove(r)
            except ValueError:
                pass
        r.close()

    def _reader(self) -> _Reader:
        """This thread's reader on the newest generation."""
        gen = _latest_generation(self.index_dir)
        current: _Reader | None = getattr(self._local, "reader", None)
        if current is not None and current.generation == gen:
            return current
        if current is not None:
            self._local.reader = None
            self._release(current)
        new = self._open(gen)
        self._local.reader = new
        return new

    def _read(self, fn: Callable[[_Reader], Any]) -> Any:
        """Run *fn* on this thread's reader.  A failure is retried once on a
        freshly opened one (another process may have replaced the files);
        a second failure means the index is damaged."""
        for attempt in (1, 2):
            r = self._reader()
            try:
                return fn(r)
            except TicketIndexUnavailable:
                raise
            except Exception as exc:
                self._local.reader = None
                self._release(r)
                if attempt == 2:
                    log.warning("ticket index read failed: %s: %s", type(exc).__name__, exc)
                    raise TicketIndexUnavailable(f"ticket index unusable: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every reader this instance opened (call when no search is
        running, e.g. at shutdown or in tests)."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for r in readers:
            r.close()
        self._local = threading.local()

    def doc_count(self) -> int:
        """Number of tickets in the index (TicketIndexUnavailable if none)."""
        return self._read(lambda r: r.reader.doc_count())

    def available(self) -> bool:
        """True when the index exists, is of this version and can be read
        (cheap once this thread's reader is open: a directory listing)."""
        try:
            self._read(lambda r: None)
        except TicketIndexUnavailable:
            return False
        return True

    def unavailable_reason(self) -> str | None:
        """Why the index cannot be used (None when it can): for logs."""
        try:
            self._read(lambda r: None)
        except TicketIndexUnavailable as exc:
            return str(exc)
        return None

    def search(self, q: str, *, bureau_ids: Iterable[int] | None, limit: int = 500) -> list[str]:
        """Ticket numbers matching *q*, best match first, at most *limit*.

        Only tickets whose owning or co-handling bureau is one of
        *bureau_ids* are returned (None: every bureau; an empty collection:
        nothing).  An empty query returns [].  Raises TicketIndexUnavailable
        when the index is missing, stale or damaged, and nothing else."""
        restriction: wq.Query | None = None
        if bureau_ids is not None:
            restriction = bureau_restriction(bureau_ids)
            if restriction is None:
                return []
        try:
            limit = min(MAX_LIMIT, int(limit))
        except (TypeError, ValueError, OverflowError):
            limit = 500
        if limit <= 0:
            return []
        try:
            tiers = build_tiers(q)
        except Exception:  # pragma: no cover - analysis must never break search
            log.exception("ticket query analysis failed for %r", q)
            return []
        if not tiers:
            return []
        queries = [tq if restriction is None else wq.And([tq, restriction]) for _name, tq in tiers]
        return self._read(lambda r: self._search(r, queries, limit))

    @staticmethod
    def _search(reader: _Reader, queries: list[wq.Query], limit: int) -> list[str]:
        segments = reader.segments
        memos: list[dict[tuple[str, str], int]] = [{} for _ in segments]
        taken = [0] * len(segments)
        hits: list[tuple[_Segment, int]] = []
        for query in queries:
            for i, seg in enumerate(segments):
                need = limit - len(hits)
                if need <= 0:
                    break
                bits = _evaluate(query, seg, memos[i])
                if not bits:
                    continue
                bits &= seg.live() & ~taken[i]
                found = _highest(bits, need)
                if not found:
                    continue
                # Everything from the lowest hit up is now taken.
                taken[i] |= bits >> found[-1] << found[-1]
                hits.extend((seg, d) for d in found)
        # Stored fields read in file order (buffered reads), returned in rank order.
        numbers: dict[tuple[int, int], str] = {}
        for seg, d in sorted(hits, key=lambda h: (id(h[0]), h[1])):
            numbers[id(seg), d] = seg.reader.stored_fields(d)["number"]
        return [numbers[id(seg), d] for seg, d in hits]

    # -- locks ----------------------------------------------------------------

    class _FileLock:
        """Whoosh file lock (other processes) with a timeout."""

        def __init__(self, owner: "TicketIndex", name: str, timeout: float) -> None:
            self.owner, self.name, self.timeout = owner, name, timeout
            self.lock: Any = None

        def __enter__(self) -> None:
            self.lock = self.owner._storage.lock(f"{INDEXNAME}_{self.name}")
            if not try_for(self.lock.acquire, timeout=self.timeout, delay=LOCK_RETRY_DELAY):
                raise LockError(f"could not lock the ticket index ({self.name})")

        def __exit__(self, *exc: object) -> None:
            self.lock.release()

    # -- writing ------------------------------------------------------------

    def rebuild(
        self,
        docs: Iterable[Mapping[str, Any]],
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
        *,
        if_unavailable: bool = False,
    ) -> int | None:
        """Replace the whole index with *docs* (oldest first, as the database
        yields them); returns the number indexed.

        The documents are streamed into a new index in a temporary
        sub-directory (one segment per ``SEGMENT_DOCS``), which is swapped in
        with one atomic TOC write: readers see the old or the new index, never
        a partial one.  On any error (an invalid document included) the old
        index stays.  *progress*, if given, is called with the number of
        documents indexed so far (an absolute count) about 200 times when
        *total* (the expected count) is given, else every 1,000 documents,
        and once at the end.  Numbers should be unique (the database's are);
        a repeated number is indexed twice until its next upsert.

        With *if_unavailable*, nothing is done (and None returned, *docs* not
        read) when the index turns out to be usable once the rebuild locks
        are held: another thread or process has just rebuilt it."""
        state = self._state
        with state.rebuild_lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with self._FileLock(self, "REBUILDLOCK", REBUILD_LOCK_TIMEOUT):
                if if_unavailable and self.available():
                    return None
                self._remove_abandoned_builds()
                journal: list[tuple[str, Any]] = []
                with state.write_lock:
                    state.journals.append(journal)
                try:
                    return self._rebuild_locked(docs, total, progress, journal)
                finally:
                    with state.write_lock:
                        state.journals.remove(journal)

    def _rebuild_locked(
        self,
        docs: Iterable[Mapping[str, Any]],
        total: int | None,
        progress: Callable[[int], None] | None,
        journal: list[tuple[str, Any]],
    ) -> int:
        ensure_jieba()
        step = max(1, total // 200) if total else 1000
        build = self.index_dir / f".build-{uuid.uuid4().hex}"
        count = 0
        try:
            build.mkdir()
            ix = windex.create_in(str(build), build_schema(), indexname=INDEXNAME)
            writer = None
            try:
                for doc in docs:
                    if writer is None:
                        writer = _writer(ix)
                    writer.add_document(**doc_to_fields(doc))
                    count += 1
                    if count % SEGMENT_DOCS == 0:
                        _commit(writer, merge=False)
                        writer = None
                    if progress is not None and count % step == 0:
                        progress(count)
                if writer is not None:
                    _commit(writer, merge=False)
                    writer = None
            except BaseException:
                if writer is not None:
                    writer.cancel()
                raise
            if progress is not None:
                progress(count)
            with self._state.write_lock, self._FileLock(self, "WRITELOCK", WRITE_LOCK_TIMEOUT):
                if journal:
                    self._replay(ix, journal)
                self._install(build)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        return count

    def _remove_abandoned_builds(self) -> None:
        """Temporary directories of rebuilds that never finished (a killed
        process); the caller holds both rebuild locks, so none is in use."""
        try:
            names = os.listdir(self.index_dir)
        except OSError:
            return
        for name in names:
            if name.startswith(".build-"):
                log.info("removing the abandoned ticket index build %s", name)
                shutil.rmtree(self.index_dir / name, ignore_errors=True)

    @staticmethod
    def _replay(ix: windex.FileIndex, journal: list[tuple[str, Any]]) -> None:
        """Apply the changes made while the rebuild ran to the new index
        (each number's last state: a document, or None once deleted)."""
        final: dict[str, dict[str, str] | None] = {}
        for op, payload in journal:
            for item in payload:
                if op == "upsert":
                    final[item["key"]] = item
                else:
                    final[item] = None
        writer = _writer(ix)
        try:
            for key, f in final.items():
                writer.delete_by_term("key", key)
                if f is not None:
                    writer.add_document(**f)
            _commit(writer, merge=False)
        except BaseException:
            writer.cancel()
            raise

    def _install(self, build: Path) -> None:
        """Move the index built in *build* into place (caller holds the locks)."""
        toc = TOC.read(FileStorage(str(build)), INDEXNAME)
        for name in os.listdir(build):
            if name.endswith(".toc") or "LOCK" in name or (build / name).is_dir():
                continue
            os.replace(build / name, self.index_dir / name)
        toc.generation = max(_latest_generation(self.index_dir), toc.generation) + 1
        self._write_meta()
        # TOC.write writes a temporary file and renames it: atomic switch.
        toc.write(self._storage, INDEXNAME)
        windex.clean_files(self._storage, INDEXNAME, toc.generation, toc.segments)

    def _write_meta(self) -> None:
        meta = {"schema_version": SCHEMA_VERSION, "updated": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = self.index_dir / f".{META_FILE}.{uuid.uuid4().hex}"
        tmp.write_text(json.dumps(meta), "utf-8")
        os.replace(tmp, self.index_dir / META_FILE)

    def _live_index(self) -> windex.FileIndex:
        """The live index for a change; TicketIndexUnavailable when it is
        missing, stale or unreadable (the caller's rebuild includes the
        change)."""
        if _latest_generation(self.index_dir) < 0:
            raise TicketIndexUnavailable(f"no ticket index in {self.index_dir}")
        if not self._meta_ok():
            raise TicketIndexUnavailable(f"the ticket index in {self.index_dir} was built by another version")
        try:
            ix = windex.FileIndex(self._storage, indexname=INDEXNAME)
            compatible = schema_compatible(ix.schema)
        except Exception as exc:
            raise TicketIndexUnavailable(f"ticket index unreadable: {exc}") from exc
        if not compatible:
            raise TicketIndexUnavailable(f"the ticket index in {self.index_dir} has another schema")
        return ix

    def _apply(self, op: str, payload: list[Any]) -> None:
        """Journal a change for running rebuilds, then commit it to the live
        index: deletions, a merge of the newest small segments if due (first,
        so that document order stays chronological), then new documents.

        Raises TicketIndexUnavailable, with nothing committed, when the live
        index is missing, stale or cannot be written because its files are
        damaged; LockError when another writer holds the index too long;
        OSError (disk full, permissions) as it is: a rebuild would not help."""
        with self._state.write_lock:
            for journal in self._state.journals:
                journal.append((op, payload))
            ix = self._live_index()
            try:
                self._write_change(ix, op, payload)
            except (TicketIndexUnavailable, LockError, OSError):
                raise
            except Exception as exc:
                log.warning("ticket index in %s cannot be written: %s: %s", self.index_dir,
                            type(exc).__name__, exc)
                raise TicketIndexUnavailable(f"ticket index unwritable: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _write_change(ix: windex.FileIndex, op: str, payload: list[Any]) -> None:
        writer = _writer(ix, timeout=WRITE_LOCK_TIMEOUT, delay=LOCK_RETRY_DELAY)
        try:
            keys = [f["key"] for f in payload] if op == "upsert" else payload
            for key in keys:
                writer.delete_by_term("key", key)
            merged = _merge_run(writer.segments)
            for seg in merged:
                source = SegmentReader(writer.storage, writer.schema, seg)
                try:
                    writer.add_reader(source)
                finally:
                    source.close()
            if op == "upsert":
                for f in payload:
                    writer.add_document(**f)
            merged_ids = {seg.segment_id() for seg in merged}
            _commit(writer, mergetype=lambda _w, segs: [s for s in segs if s.segment_id() not in merged_ids])
        except BaseException:
            writer.cancel()
            raise

    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Add or replace tickets by number; visible to the next search.

        Within one call the last document of a number wins.  Invalid
        documents raise ValueError before anything is written; a missing,
        stale or damaged index raises TicketIndexUnavailable (nothing
        written: rebuild it, the rebuild includes the change)."""
        prepared: dict[str, dict[str, str]] = {}
        for doc in docs:
            f = doc_to_fields(doc)
            prepared.pop(f["key"], None)  # keep the order of the last ones
            prepared[f["key"]] = f
        if prepared:
            self._apply("upsert", list(prepared.values()))

    def delete(self, numbers: Iterable[str]) -> None:
        """Remove the tickets with these numbers (unknown ones are ignored);
        TicketIndexUnavailable as for ``upsert``."""
        if isinstance(numbers, str):
            numbers = [numbers]
        wanted = [k for k in dict.fromkeys(_number_key(n) for n in numbers if n is not None) if k]
        if wanted:
            self._apply("delete", wanted)
