"""TicketIndex: full-text search over tickets (工单/办件) for the staff queues.

Works on plain dicts; no Flask, no database.  One document per ticket::

    {"number": "LX20261129000001-1", "request_number": "LX20261129000001",
     "status": "submitted", "bureau_ids": [3, 7],
     "enterprise": "澧县兰江食品有限公司", "uscc": "91350100M000100Y43",
     "services": ["汽车衡（地磅）检定"], "text": "description, field values, public replies"}

The modules behind it: ``ticket_schema`` (the schema, documents -> fields),
``ticket_query`` (user text -> Whoosh queries), ``ticket_segments`` (bitmap
evaluation, per-thread readers), ``ticket_writing`` (posting pool, merge
policy) and ``store`` (generations, meta file, locks, the swap of a rebuilt
index; shared with the catalog index).  What other code imports stays
importable from here: ``TicketIndex``, ``TicketIndexUnavailable``,
``build_schema``, ``doc_to_fields``, ``build_tiers``, ``bureau_restriction``,
``INDEXNAME``, ``META_FILE``, ``SCHEMA_VERSION`` …

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

Speed
-----
The tier queries are evaluated over per-segment bitmaps (``ticket_segments``),
not by Whoosh's pure-Python matchers; every field indexes term existence only
and only the ticket number is stored.  ``rebuild`` writes one segment per
``SEGMENT_DOCS`` documents; upserts add small segments, merged by size tiers
(``ticket_writing``), so that segment and document order stay chronological.

Concurrency and maintenance
---------------------------
* Writers in one process serialise on a per-directory lock, then take
  Whoosh's file lock (other processes) with a timeout (``store.Store``).
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

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh.index import LockError
from whoosh.reading import SegmentReader

from .analysis import ensure_jieba
from .store import LOCK_RETRY_DELAY, Store

# The write paths below call ``_commit`` and ``doc_to_fields`` through this
# module's names: tests/faults stop a process inside them
# ("search_index.tickets:_commit", "search_index.tickets:doc_to_fields").
from .store import commit as _commit
from .ticket_query import build_tiers, bureau_restriction
from .ticket_schema import (
    INDEXNAME,
    META_FILE,
    SCHEMA_VERSION,
    TicketIndexUnavailable,
    build_schema,
    doc_to_fields,
    schema_compatible,
)
from .ticket_schema import number_key as _number_key
from .ticket_segments import Readers, live_index, search_segments
from .ticket_writing import merge_run
from .ticket_writing import writer as _writer

__all__ = [
    "INDEXNAME",
    "META_FILE",
    "SCHEMA_VERSION",
    "TicketIndex",
    "TicketIndexUnavailable",
    "build_schema",
    "build_tiers",
    "bureau_restriction",
    "doc_to_fields",
    "schema_compatible",
]

log = logging.getLogger(__name__)

#: Most numbers one search returns, whatever *limit* it is given.
MAX_LIMIT = 10_000
#: Documents per segment written by ``rebuild``.
SEGMENT_DOCS = 100_000
#: Seconds a writer waits for another writer (thread or process).
WRITE_LOCK_TIMEOUT = 60.0
#: Seconds a rebuild waits for another process's rebuild of the same index.
REBUILD_LOCK_TIMEOUT = 3600.0


class TicketIndex:
    """Full-text index of tickets (plain dicts in, ticket numbers out).

    :param index_dir: the index directory (created by the first rebuild).
    """

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.index_dir = Path(index_dir)
        self._store = Store(
            self.index_dir, indexname=INDEXNAME, meta_file=META_FILE, schema_version=SCHEMA_VERSION,
            label="ticket index",
        )
        self._storage = self._store.storage
        self._state = self._store.state
        self._readers = Readers(self._store)

    def __repr__(self) -> str:
        return f"TicketIndex({str(self.index_dir)!r})"

    # -- reading ------------------------------------------------------------

    def close(self) -> None:
        """Close every reader this instance opened (call when no search is
        running, e.g. at shutdown or in tests)."""
        self._readers.close()

    def doc_count(self) -> int:
        """Number of tickets in the index (TicketIndexUnavailable if none)."""
        return self._readers.read(lambda r: r.reader.doc_count())

    def available(self) -> bool:
        """True when the index exists, is of this version and can be read
        (cheap once this thread's reader is open: a directory listing)."""
        try:
            self._readers.read(lambda r: None)
        except TicketIndexUnavailable:
            return False
        return True

    def unavailable_reason(self) -> str | None:
        """Why the index cannot be used (None when it can): for logs."""
        try:
            self._readers.read(lambda r: None)
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
        return self._readers.read(lambda r: search_segments(r, queries, limit))

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
        with self._store.lock("REBUILDLOCK", REBUILD_LOCK_TIMEOUT, state.rebuild_lock):
            if if_unavailable and self.available():
                return None
            self._store.remove_abandoned_builds()
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
        count = 0
        with self._store.building(build_schema()) as ix:
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
            with self._store.lock("WRITELOCK", WRITE_LOCK_TIMEOUT, self._state.write_lock):
                if journal:
                    self._replay(ix, journal)
                self._store.install(ix)
        return count

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
            ix = live_index(self._store)
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
            merged = merge_run(writer.segments)
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
