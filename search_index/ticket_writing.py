"""The ticket index's writing helpers: the posting pool, writers and the merge policy.

``rebuild`` writes one segment per ``tickets.SEGMENT_DOCS`` documents, as
separate files (a compound segment would be copied into memory by every
reader); later upserts add small segments, merged by size tiers
(``MERGE_FACTOR``, :func:`merge_run`) so that segment and document order stay
chronological.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh import index as windex

from .store import codec

__all__ = ["MAX_MERGE_TIER", "MERGE_FACTOR", "merge_run", "writer"]

#: Upsert segments are merged when MERGE_FACTOR of them of the same size tier
#: (1-9, 10-99, … documents) are the newest ones, up to tier MAX_MERGE_TIER.
MERGE_FACTOR = 10
MAX_MERGE_TIER = 3


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


def writer(ix: windex.FileIndex, **kwargs: Any) -> Any:
    """A writer of *ix* with the Existence posting pool, separate segment
    files and no length statistics (nothing is scored)."""
    # compound=False: Whoosh opens a compound segment by copying its postings
    # into memory (BytesIO), per reader; separate files are read in place.
    w = ix.writer(codec=codec(length_stats=False), compound=False, **kwargs)
    w.pool = _ExistencePool()
    return w


def _tier(size: int) -> int:
    """Size tier of a segment: 0 for 1-9 documents, 1 for 10-99, …"""
    return len(str(max(1, size))) - 1


def merge_run(segments: list[Any]) -> list[Any]:
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
