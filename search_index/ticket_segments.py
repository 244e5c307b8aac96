"""The ticket index's reading: bitmap evaluation over segments, per-thread readers.

Whoosh's pure-Python matchers need hundreds of milliseconds to intersect
common terms over 100,000 tickets, so the tier queries -- plain ``Term`` /
``And`` / ``Or`` trees (``ticket_query``) -- are evaluated over per-segment
bitmaps instead: a term's postings are read once (whole blocks at a time)
into a Python integer with one bit per document, cached (LRU,
``BITMAP_CACHE_BYTES``) and combined with C-speed ``&`` / ``|``; a ``Prefix``
expands the segment's lexicon (and is cached the same way).  The tests check
that this evaluation matches Whoosh's own (``searcher.docs_for_query``) on the
same queries.

Segment and document order is chronological; :func:`search_segments` walks it
backwards (newest first), tier by tier, and stops at ``limit`` hits.

Each thread keeps its own reader (:class:`Readers`), reopened when the
generation on disk changes (a commit by this process or another one).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import SegmentReader, TermNotFound

from .store import Store
from .ticket_schema import TicketIndexUnavailable, schema_compatible

__all__ = ["BITMAP_CACHE_BYTES", "MAX_PREFIX_EXPANSIONS", "Readers", "live_index", "search_segments"]

log = logging.getLogger(__name__)

#: At most this many whole numbers per segment for one prefix.
MAX_PREFIX_EXPANSIONS = 2_000
#: Memory for cached term bitmaps, shared by every index of the process.
BITMAP_CACHE_BYTES = 96 * 1024 * 1024

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



def search_segments(reader: _Reader, queries: list[wq.Query], limit: int) -> list[str]:
    """The ticket numbers matching the tier *queries*, each ticket in its
    first tier, newest first within a tier, at most *limit*."""
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


def live_index(store: Store) -> windex.FileIndex:
    """The ticket index in *store* as it is now on disk, checked: of this
    version (the meta file) with fields of the kinds this code reads and
    writes (``schema_compatible``).  TicketIndexUnavailable when it is
    missing, stale or unreadable."""
    if store.generation() < 0:
        raise TicketIndexUnavailable(f"no ticket index in {store.index_dir}")
    if not store.meta_ok():
        raise TicketIndexUnavailable(f"the ticket index in {store.index_dir} was built by another version")
    try:
        ix = store.open()
        compatible = schema_compatible(ix.schema)
    except Exception as exc:
        raise TicketIndexUnavailable(f"ticket index unreadable: {exc}") from exc
    if not compatible:
        raise TicketIndexUnavailable(f"the ticket index in {store.index_dir} has another schema")
    return ix


class Readers:
    """Each thread's reader of one ticket index, on the newest generation."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._local = threading.local()
        self._open_readers: list[_Reader] = []  # every open reader, for close()
        self._lock = threading.Lock()

    def _open(self, gen: int) -> _Reader:
        reader = None
        try:
            reader = live_index(self.store).reader()
            gen_read = reader.generation()
            r = _Reader(gen if gen_read is None or gen_read < 0 else gen_read, reader)
        except TicketIndexUnavailable:
            raise
        except Exception as exc:
            if reader is not None:
                reader.close()
            raise TicketIndexUnavailable(f"ticket index unreadable: {exc}") from exc
        with self._lock:
            self._open_readers.append(r)
        return r

    def _release(self, r: _Reader) -> None:
        with self._lock:
            try:
                self._open_readers.remove(r)
            except ValueError:
                pass
        r.close()

    def _reader(self) -> _Reader:
        """This thread's reader on the newest generation."""
        gen = self.store.generation()
        current: _Reader | None = getattr(self._local, "reader", None)
        if current is not None and current.generation == gen:
            return current
        if current is not None:
            self._local.reader = None
            self._release(current)
        new = self._open(gen)
        self._local.reader = new
        return new

    def read(self, fn: Callable[[_Reader], Any]) -> Any:
        """Run *fn* on this thread's reader.  A failure is retried once on a
        freshly opened one (another process may have replaced the files);
        a second failure means the index is damaged (TicketIndexUnavailable)."""
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
        """Close every reader opened here (when no search is running)."""
        with self._lock:
            readers, self._open_readers = self._open_readers, []
        for r in readers:
            r.close()
        self._local = threading.local()
