"""CatalogIndex: building, maintaining and querying the catalog's Whoosh index.

Whoosh stores the index (segments, postings, columns, stored fields) and does
the writing, locking and atomic commits; queries are planned in ``query.py``
and evaluated by :class:`search_index.snapshot.Snapshot` over cached postings.

Concurrency model
-----------------
* One :class:`Snapshot` (an open reader + caches) is kept between calls and
  swapped, under a lock, when the index generation on disk changes -- by this
  process or another one sharing the directory.  Replaced snapshots are closed
  once the searches still using them finish (reference counted).
* Writers (``upsert``/``delete``) take a per-directory thread lock and then
  Whoosh's file lock, with a timeout and retries, so two writers never race
  into ``LockError`` (the locks, generations, meta file and the swap of a
  rebuilt index are :mod:`search_index.store`'s, shared with the ticket
  index).
* ``rebuild`` builds a complete index in a temporary sub-directory and swaps
  it in with a single atomic TOC write: readers see the old or the new index,
  never an empty or half-built one.
* A missing, empty, damaged or stale index is rebuilt from ``docs_provider``
  (serialised across processes by a rebuild lock file); without a provider
  the caller gets :class:`IndexUnavailable`.
* The first snapshot of an instance loads the most frequent terms ahead
  (``PREWARM_*``), so that early queries do not pay for the longest postings.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from whoosh import index as windex

from .analysis import add_user_words, ensure_jieba
from .highlight import highlight_html, service_snippet
from .needs import NeedSearch, rank_need
from .query import QueryPlan, plan_need, plan_query
from .results import Alternative, Hit, IndexUnavailable, SearchResult
from .schema import SCHEMA_VERSION, build_schema, doc_to_fields
from .snapshot import FACETS, INDEXNAME, Snapshot
from .store import LOCK_RETRY_DELAY, FileLock, Store, codec, commit
from .suggest import alternatives

__all__ = ["CatalogIndex"]

log = logging.getLogger(__name__)

META_FILE = "search_index.json"
#: Seconds a writer waits for another writer (thread or process).
WRITE_LOCK_TIMEOUT = 60.0
#: Seconds a rebuild waits for another rebuild to finish.
REBUILD_LOCK_TIMEOUT = 600.0

MAX_PER_PAGE = 100
#: The first snapshot a CatalogIndex opens loads the scores of this many of
#: the most frequent terms (for at most PREWARM_SECONDS), so that the first
#: queries after start-up do not pay for the longest postings.
PREWARM_TERMS = 400
PREWARM_SECONDS = 0.6
# --------------------------------------------------------------------------
# The public class
# --------------------------------------------------------------------------



class CatalogIndex:
    """Full-text index of the service catalog (plain dicts in, results out).

    :param index_dir: directory of the index (created if missing).
    :param docs_provider: returns all catalog documents; used to rebuild the
        index transparently when it is missing, empty or unreadable.  Without
        it such an index raises :class:`IndexUnavailable`.
    """

    def __init__(
        self,
        index_dir: str | os.PathLike[str],
        docs_provider: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.docs_provider = docs_provider
        self._store = Store(
            self.index_dir, indexname=INDEXNAME, meta_file=META_FILE, schema_version=SCHEMA_VERSION,
            label="search index",
        )
        self._storage = self._store.storage
        self._snap: Snapshot | None = None
        self._snap_lock = threading.RLock()
        # One per index directory, shared by every CatalogIndex of this
        # process: writers and rebuilds take it before the file lock.
        self._write_lock = self._store.state.write_lock
        # Generation last found empty although a provider exists (and the
        # provider had nothing either): don't ask the provider again for it.
        self._verified_empty_gen: int | None = None
        self._prewarmed = False

    def __repr__(self) -> str:
        return f"CatalogIndex({str(self.index_dir)!r})"

    # -- opening ----------------------------------------------------------

    def _open_snapshot(self, gen: int) -> Snapshot:
        """Open generation *gen*; raises on missing/corrupt/stale indexes."""
        if gen < 0:
            raise FileNotFoundError(f"no index in {self.index_dir}")
        snap = Snapshot(self._storage, gen)
        expected = set(build_schema().names())
        if set(snap.schema.names()) != expected:
            snap.close()
            raise ValueError("index schema differs from this version of search_index")
        if not self._store.meta_ok() and self.docs_provider is not None:
            snap.close()
            raise ValueError("index was built by another version of search_index")
        return snap

    def _current(self) -> Snapshot:
        """The snapshot of the newest generation, (re)opening or rebuilding
        the index as needed."""
        gen = self._store.generation()
        snap = self._snap
        if snap is not None and snap.generation == gen:
            return snap
        with self._snap_lock:
            snap = self._snap
            gen = self._store.generation()
            if snap is not None and snap.generation == gen:
                return snap
            try:
                new = self._open_snapshot(gen)
            except Exception as exc:
                new = self._recover(exc, gen)
            if new.n == 0 and self.docs_provider is not None and self._verified_empty_gen != new.generation:
                new = self._refill_empty(new)
            self._load_user_words(new)
            if not self._prewarmed:
                self._prewarmed = True
                try:
                    new.prewarm(PREWARM_TERMS, PREWARM_SECONDS)
                except Exception:  # pragma: no cover - an optimisation only
                    log.debug("prewarming the search index failed", exc_info=True)
            self._swap(new)
            return new

    def _swap(self, new: Snapshot | None) -> None:
        """Publish *new* as the current snapshot and retire the old one."""
        with self._snap_lock:
            old, self._snap = self._snap, new
        if old is not None and old is not new:
            old.retire()

    def _recover(self, exc: BaseException, broken_gen: int) -> Snapshot:
        """Generation *broken_gen* could not be used: rebuild from the provider.

        Rebuilds are serialised across threads and processes; if another one
        installed a new generation meanwhile, that one is used instead."""
        if self.docs_provider is None:
            raise IndexUnavailable(f"search index unavailable in {self.index_dir}: {exc}") from exc
        log.warning("search index in %s unusable (%s); rebuilding", self.index_dir, exc)
        try:
            with self._rebuild_lock():
                gen = self._store.generation()
                if gen != broken_gen:
                    try:
                        return self._open_snapshot(gen)
                    except Exception:
                        pass
                self._rebuild_locked(self.docs_provider())
                return self._open_snapshot(self._store.generation())
        except IndexUnavailable:
            raise
        except Exception as exc2:
            raise IndexUnavailable(f"search index could not be rebuilt: {exc2}") from exc2

    def _refill_empty(self, snap: Snapshot) -> Snapshot:
        """An empty index while a provider exists: fill it if it has docs."""
        assert self.docs_provider is not None
        try:
            docs = list(self.docs_provider())
            if not docs:
                self._verified_empty_gen = snap.generation
                return snap
            with self._rebuild_lock():
                if self._store.generation() == snap.generation:
                    self._rebuild_locked(docs)
                new = self._open_snapshot(self._store.generation())
        except Exception:
            # Serving the empty index beats failing; try again next generation.
            log.exception("could not fill the empty search index from the provider")
            self._verified_empty_gen = snap.generation
            return snap
        snap.close()
        return new

    def _load_user_words(self, snap: Snapshot) -> None:
        """Teach jieba the indexed keywords (once per process per word)."""
        try:
            words = [b.decode("utf-8") for b in snap.reader.lexicon("kw_exact")]
        except Exception:  # pragma: no cover - lexicon problems are not fatal
            return
        add_user_words(words)

    def _invalidate(self, snap: Snapshot | None = None) -> None:
        """Forget the current snapshot (only if it is *snap*, when given)."""
        with self._snap_lock:
            if snap is None or self._snap is snap:
                self._swap(None)

    # -- locks --------------------------------------------------------------

    def _rebuild_lock(self) -> FileLock:
        return self._store.lock("REBUILDLOCK", REBUILD_LOCK_TIMEOUT, self._write_lock)

    def _writelock(self) -> FileLock:
        return self._store.lock("WRITELOCK", WRITE_LOCK_TIMEOUT, self._write_lock)

    # -- writing ------------------------------------------------------------

    def rebuild(
        self,
        docs: Iterable[Mapping[str, Any]],
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Replace the whole index with *docs*; returns the number indexed.

        The new index is built in a temporary sub-directory and swapped in
        with one atomic TOC write.  *progress*, if given, is called with the
        number of documents added so far (an absolute position, not an
        increment) about 200 times over the build and once at the end with
        the final count; *total* (the expected count) only sets how often."""
        with self._rebuild_lock():
            count = self._rebuild_locked(docs, total, progress)
        self._invalidate()
        return count

    def _rebuild_locked(
        self,
        docs: Iterable[Mapping[str, Any]],
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        ensure_jieba()
        # Convert first (and de-duplicate by code, the last one winning, as
        # upsert would): the whole input is validated before anything is
        # written, and keywords can be taught to jieba before analysis.
        prepared: dict[str, dict[str, str]] = {}
        for doc in docs:
            fields = doc_to_fields(doc)
            prepared[fields["code"]] = fields
        add_user_words(k for f in prepared.values() for k in f.get("kw_exact", "").split(",") if k)
        step = max(1, (total or len(prepared)) // 200)
        count = 0
        with self._store.building(build_schema()) as ix:
            writer = ix.writer(limitmb=256, codec=codec())
            try:
                for fields in prepared.values():
                    writer.add_document(**fields)
                    count += 1
                    if progress is not None and count % step == 0:
                        progress(count)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            if progress is not None:
                progress(count)
            with self._writelock():
                self._store.install(ix)
        return count

    def _writable_index(self) -> windex.FileIndex:
        """The index to apply incremental changes to.

        A missing index is rebuilt from the provider, or -- without one --
        created empty so that upserts can fill it.  A damaged one is rebuilt
        from the provider or raises IndexUnavailable."""
        if self._store.generation() < 0 and self.docs_provider is None:
            with self._writelock():
                if self._store.generation() < 0:
                    self._store.create(build_schema())
        self._current()  # validates the index, rebuilding it if needed
        return self._store.open()

    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Add or replace documents by code; visible to the next search.

        Within one call the last document of a code wins."""
        prepared: dict[str, dict[str, str]] = {}
        for doc in docs:
            fields = doc_to_fields(doc)
            prepared[fields["code"]] = fields
        if not prepared:
            return
        add_user_words(k for f in prepared.values() for k in f.get("kw_exact", "").split(",") if k)
        ix = self._writable_index()
        with self._write_lock:
            writer = ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=LOCK_RETRY_DELAY, codec=codec())
            try:
                self._delete_codes(writer, prepared)
                for fields in prepared.values():
                    writer.add_document(**fields)
                commit(writer)
            except BaseException:
                writer.cancel()
                raise
        self._invalidate()

    def delete(self, codes: Iterable[str]) -> None:
        """Remove the documents with these codes (unknown codes are ignored)."""
        wanted = list(dict.fromkeys(str(c) for c in codes if c is not None and str(c) != ""))
        if not wanted:
            return
        ix = self._writable_index()
        with self._write_lock:
            writer = ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=LOCK_RETRY_DELAY, codec=codec())
            try:
                self._delete_codes(writer, wanted)
                commit(writer)
            except BaseException:
                writer.cancel()
                raise
        self._invalidate()

    def _delete_codes(self, writer: Any, codes: Iterable[str]) -> None:
        """Mark the documents with these codes deleted in *writer*.

        When the current snapshot shows the generation the writer starts
        from, its postings give the document numbers directly; otherwise
        (another process committed meanwhile) Whoosh looks each code up,
        which costs a search per code (minutes for a 10,000-service import)."""
        snap = self._snap
        if snap is not None and snap.acquire():
            try:
                if writer.generation - 1 == snap.generation:
                    for code in codes:
                        for docnum in snap.postings("code", code)[0]:
                            writer.delete_document(docnum)
                    return
            finally:
                snap.release()
        for code in codes:
            writer.delete_by_term("code", code)

    # -- reading ------------------------------------------------------------

    def doc_count(self) -> int:
        """Number of documents in the index."""
        return self._with_snapshot(lambda snap: snap.n)

    def _with_snapshot(self, fn: Callable[[Snapshot], Any]) -> Any:
        """Run *fn* on the current snapshot, surviving read errors.

        A failure may be transient (another process's rebuild removed a file
        this reader had not opened yet): reopen and retry.  If a freshly
        opened snapshot fails too, the data is damaged: rebuild from the
        provider (or raise IndexUnavailable) and retry once more."""
        failures = 0
        while True:
            snap = self._current()
            if not snap.acquire():
                continue  # retired and closed meanwhile: take the newer one
            try:
                return fn(snap)
            except IndexUnavailable:
                raise
            except Exception as exc:
                failures += 1
                log.warning("search index read failed (%s: %s)", type(exc).__name__, exc)
                if failures == 1:
                    self._invalidate(snap)
                elif failures == 2:
                    with self._snap_lock:
                        self._invalidate(snap)
                        self._swap(self._recover(exc, snap.generation))
                else:
                    raise IndexUnavailable(f"search index unusable: {exc}") from exc
            finally:
                snap.release()

    def search(
        self,
        q: str = "",
        *,
        category: str | None = None,
        bureau: str | None = None,
        online: bool | None = None,
        page: int = 1,
        per_page: int = 20,
        highlight: bool = True,
    ) -> SearchResult:
        """Search the catalog.  Never raises anything but IndexUnavailable."""
        try:
            page = max(1, int(page))
        except (TypeError, ValueError):
            page = 1
        try:
            per_page = min(MAX_PER_PAGE, max(1, int(per_page)))
        except (TypeError, ValueError):
            per_page = 20
        try:
            plan = plan_query(q)
        except Exception:  # pragma: no cover - analysis must never break search
            log.exception("query analysis failed for %r", q)
            plan = QueryPlan(text="")
        filters = {"category": category, "bureau": bureau, "online": online}
        return self._with_snapshot(
            lambda snap: self._search(snap, plan, filters, page, per_page, highlight)
        )

    def search_need(self, text: str, *, limit: int = 5, highlight: bool = True) -> SearchResult:
        """Services for a need in the applicant's own words (我有需求), best first: the whole
        text, every meaningful term OR-ed and ranked by the same BM25 score as search, each
        part of the need answered (see ``needs.py``)."""
        plan = plan_need(text)
        limit = min(MAX_PER_PAGE, max(1, int(limit)))

        def run(snap: Snapshot) -> SearchResult:
            top = rank_need(snap, plan, limit)
            hits = [self._hit(snap, d, score, plan, highlight) for d, score in top]
            return SearchResult(query=plan.text, total=len(hits), page=1, per_page=limit,
                                pages=1 if hits else 0, hits=hits)

        return self._with_snapshot(run)

    @property
    def needs(self) -> NeedSearch:
        """This index seen through ``search_need`` with ``search``'s signature (so that code
        joining search hits to services, e.g. services.catalog.directory, serves needs too)."""
        return NeedSearch(self)

    def _search(
        self,
        snap: Snapshot,
        plan: QueryPlan,
        filters: dict[str, Any],
        page: int,
        per_page: int,
        highlight: bool,
    ) -> SearchResult:
        # Filter sets per facet (None = not filtered).
        fsets: dict[str, frozenset[int] | None] = {}
        for facet, value in filters.items():
            if value is None or value == "":
                fsets[facet] = None
                continue
            if facet == "online":
                value = "true" if value is True or str(value).lower() in {"true", "1", "yes", "on"} else "false"
            fsets[facet] = snap.facet_sets[facet].get(str(value), frozenset())
        active = [s for s in fsets.values() if s is not None]
        allowed: frozenset[int] | None = None
        if active:
            allowed = active[0]
            for s in active[1:]:
                allowed = allowed & s

        k = page * per_page
        if plan.is_empty:
            matched: frozenset[int] | set[int] = snap.live
            order = snap.default_order()
            if allowed is not None:
                order = [d for d in order if d in allowed]
            total = len(order)
            top = [(d, 0.0) for d in order[:k]]
        else:
            clauses, matched = snap.resolve(plan)
            final = matched if allowed is None else matched & allowed
            total = len(final)
            # With minimum-should-match, scored documents may not match:
            # rank among the matches only.
            top = snap.top_k(clauses, final if plan.min_match > 1 else allowed, min(k, total))
            if len(top) < min(k, total):
                # Matches without any score (near-universal words only) come
                # last, in the browsing order (popular first, then by code).
                ranked = {d for d, _s in top}
                want = min(k, total) - len(top)
                for d in snap.default_order():
                    if want <= 0:
                        break
                    if d in final and d not in ranked:
                        top.append((d, 0.0))
                        want -= 1

        facets = self._facets(snap, matched, fsets)
        pages = math.ceil(total / per_page) if total else 0
        page_hits = top[(page - 1) * per_page : k]
        hits = [self._hit(snap, d, score, plan, highlight) for d, score in page_hits]
        corrections: list[Alternative] = []
        fewer: list[Alternative] = []
        if total == 0 and snap.n and not plan.is_empty:
            try:
                corrections, fewer = alternatives(snap, plan, allowed, repr(sorted(filters.items(), key=str)))
            except Exception:  # pragma: no cover - suggestions are best effort
                log.exception("suggestions failed for %r", plan.text)
        return SearchResult(
            query=plan.text,
            total=total,
            page=page,
            per_page=per_page,
            pages=pages,
            hits=hits,
            facets=facets,
            corrections=corrections,
            fewer_words=fewer,
            unfiltered_total=len(matched),
            message=plan.message,
        )

    @staticmethod
    def _facets(
        snap: Snapshot, matched: frozenset[int] | set[int], fsets: dict[str, frozenset[int] | None]
    ) -> dict[str, dict[str, int]]:
        """Counts per facet value over the matches, each facet ignoring its
        own filter but honouring the others."""
        out: dict[str, dict[str, int]] = {}
        for facet in FACETS:
            docs: frozenset[int] | set[int] = matched
            for other, s in fsets.items():
                if other != facet and s is not None:
                    docs = docs & s
            counts = snap.count_values(facet, docs)
            counts.pop("", None)
            ordered = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            if facet == "online":
                ordered = {"true": counts.get("true", 0), "false": counts.get("false", 0)}
            out[facet] = ordered
        return out

    @staticmethod
    def _hit(snap: Snapshot, docnum: int, score: float, plan: QueryPlan, highlight: bool) -> Hit:
        """Build one hit: stored fields, highlighted name and snippet."""
        stored = snap.stored(docnum)
        name = stored.get("name", "") or ""
        summary = stored.get("summary", "") or ""
        needles = plan.highlight if highlight else set()
        if highlight and not plan.is_empty:
            name_html, _ = highlight_html(
                name, needles, pinyin=plan.pinyin_sequences, initials=plan.initials
            )
        else:
            name_html, _ = highlight_html(name, ())
        snippet = service_snippet(summary, stored.get("guide", "") or "", needles)
        return Hit(code=stored.get("code", ""), score=round(score, 4), name_html=name_html, snippet_html=snippet)
