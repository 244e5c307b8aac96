"""TicketIndex: full-text search over tickets (工单/办件) for the staff queues.

Works on plain dicts; no Flask, no database.  One document per ticket::

    {"number": "LX20261129000001-1", "request_number": "LX20261129000001",
     "status": "submitted", "bureau_ids": [3, 7],
     "enterprise": "澧县兰江食品有限公司", "uscc": "91350100M000100Y43",
     "services": ["汽车衡（地磅）检定"], "text": "description, field values, public replies"}

What a query matches
--------------------
* Chinese words and phrases, with the catalog's analysis
  (:class:`search_index.analysis.WeightedChineseTokenizer`: CJK unigrams +
  bigrams + jieba words, Latin words) over the enterprise name (weight 4),
  the service names (3) and the free text (1), in one BM25-scored field.
  Every word of the query is required (AND); a word of two or more CJK
  characters matches when all its bigrams occur (no positions are indexed).
* A ticket or request number, whole or as a prefix of at least
  ``MIN_NUMBER_PREFIX`` characters ("LX2026112900000"); an exact number ranks
  above a prefix match.
* A USCC, whole or any fragment of at least ``USCC_GRAM`` characters.

Query text is never parsed as query syntax: the Whoosh query is built term by
term, so ``AND``, ``*``, ``"``, ``:`` … are plain characters.

Bureau restriction
------------------
``search(q, bureau_ids=...)`` wraps the text query in ``Require(text_query,
Or(bureau terms))``: the restriction is a clause of the Whoosh query itself
(scored by the text part only), so no result can escape it and the intersection
lets Whoosh skip whole posting blocks of other bureaus.  ``None`` means every
bureau; an empty collection returns ``[]`` without searching.

Speed
-----
Only the ticket number is stored.  Searches run Whoosh's top-N collector with
``limit`` and ``terms=False``, so block-max ("quality") skipping avoids scoring
every posting of a common word.  A searcher is kept open per thread and
reopened when the index generation on disk changes (a commit by this process
or another one).

Concurrency and maintenance
---------------------------
* Writers in one process serialise on a per-directory lock, then take
  Whoosh's file lock (other processes) with a timeout.
* ``rebuild`` streams the documents into a temporary sub-directory (so the
  whole set never sits in memory) and swaps it in with one atomic TOC write.
  It does not block ``upsert``/``delete``: changes made by this process while
  a rebuild runs are applied to the live index *and* replayed into the new one
  before the swap.
* A missing, stale (other schema version) or unreadable index makes
  ``search``/``doc_count`` raise :class:`TicketIndexUnavailable`; the caller
  rebuilds it from the database.  ``upsert``/``delete`` on such an index do
  nothing (the rebuild will include the change) rather than create a partial
  index that would silently miss tickets.
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jieba
from whoosh import fields
from whoosh import index as windex
from whoosh import query as wq
from whoosh import scoring
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.matching.wrappers import RequireMatcher
from whoosh.searching import Searcher
from whoosh.util.filelock import try_for

from .analysis import (
    MAX_QUERY_CHARS,
    STOPWORDS,
    SYNONYMS,
    WeightedChineseTokenizer,
    clean_text,
    ensure_jieba,
    is_cjk,
    normalize,
    weighted_value,
)

__all__ = ["TicketIndex", "TicketIndexUnavailable"]

log = logging.getLogger(__name__)

#: Whoosh's name for the index inside the directory (file prefix); distinct
#: from the catalog's, so both could even share a directory.
INDEXNAME = "TICKETS"
#: Bump when the schema or the analysis changes: an index written by another
#: version is reported unavailable (and rebuilt by the caller).
SCHEMA_VERSION = "1"
META_FILE = "ticket_index.json"

#: Section weights of the scored ``text`` field.
WEIGHTS = {"enterprise": 4.0, "services": 3.0, "text": 1.0}
#: Shortest number prefix that is searchable ("LX202611": a month).
MIN_NUMBER_PREFIX = 8
#: USCC fragments are found through n-grams of this size (so a partial USCC
#: must have at least this many characters).
USCC_GRAM = 6
#: Shortest query token treated as a possible number / USCC fragment.
MIN_ID_TOKEN = 6
#: Constant scores of identifier matches (text scores are BM25, ~1-30).
EXACT_NUMBER_SCORE = 2000.0
NUMBER_PREFIX_SCORE = 1000.0
USCC_SCORE = 500.0
SYNONYM_BOOST = 0.5
#: Caps that keep a pathological query bounded.
MAX_WORDS = 10
MAX_LIMIT = 10_000

#: Seconds a writer waits for another writer (thread or process).
WRITE_LOCK_TIMEOUT = 60.0
#: Seconds a rebuild waits for another process's rebuild of the same index.
REBUILD_LOCK_TIMEOUT = 3600.0
LOCK_RETRY_DELAY = 0.05
#: Memory for the rebuild's segment writer, in MB.
REBUILD_LIMIT_MB = 256

_TOC_RE = re.compile(r"^_%s_([0-9]+)\.toc$" % INDEXNAME)
#: A run of letters/digits, possibly joined by hyphens ("lx20261129000001-1").
_ID_CHARS = "0-9a-z"
_ALNUM_RE = re.compile(f"[{_ID_CHARS}]+")


class TicketIndexUnavailable(Exception):
    """The ticket index is missing, stale or unreadable; rebuild it."""


# --------------------------------------------------------------------------
# Schema and documents
# --------------------------------------------------------------------------


def build_schema() -> fields.Schema:
    """The ticket schema (a new instance each time: schemas are mutable)."""
    return fields.Schema(
        # The only stored field: what search returns.  Unique for updates.
        number=fields.ID(stored=True, unique=True),
        # Number/request-number prefixes ("=" + whole number for exact hits).
        idp=fields.KEYWORD(lowercase=False, scorable=False),
        # USCC n-grams.
        uscc=fields.KEYWORD(lowercase=False, scorable=False),
        # Owning and co-handling bureau ids: the access filter.
        bureau=fields.KEYWORD(lowercase=False, scorable=False),
        status=fields.ID(),
        # Enterprise, services and free text, weighted, BM25-scored.
        text=fields.TEXT(analyzer=WeightedChineseTokenizer(), phrase=False),
    )


def _weighting() -> scoring.WeightingModel:
    # Identifier fields score their weight (1 per posting) times the query
    # boost: a constant per clause, with block qualities for skipping.
    return scoring.MultiWeighting(
        scoring.BM25F(), idp=scoring.Frequency(), uscc=scoring.Frequency(), bureau=scoring.Frequency()
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return "\n".join(_text(v) for v in value if v is not None)
    return str(value)


def _compact_id(value: Any) -> str:
    """Normalised identifier: NFKC, lowercase, no whitespace."""
    return "".join(normalize(_text(value)).split())


def _number_terms(*numbers: str) -> list[str]:
    terms: set[str] = set()
    for num in numbers:
        if not num:
            continue
        terms.add("=" + num)
        for n in range(min(MIN_NUMBER_PREFIX, len(num)), len(num) + 1):
            terms.add(num[:n])
    return sorted(terms)


def _uscc_terms(uscc: str) -> list[str]:
    alnum = "".join(_ALNUM_RE.findall(uscc))
    if not alnum:
        return []
    if len(alnum) <= USCC_GRAM:
        return [alnum]
    return sorted({alnum[i : i + USCC_GRAM] for i in range(len(alnum) - USCC_GRAM + 1)})


def _bureau_id(value: Any) -> str | None:
    """A bureau id as its index term, or None when it is not an integer."""
    if isinstance(value, bool):
        return None
    try:
        ivalue = int(value)
        if isinstance(value, float) and value != ivalue:
            return None
    except (TypeError, ValueError, OverflowError):
        return None
    return str(ivalue)


def doc_to_fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """Convert a ticket document into Whoosh field values (ValueError when
    it has no number or an invalid bureau id)."""
    number = "".join(_text(doc.get("number")).split())
    if not number:
        raise ValueError("ticket document without a number")
    bureaus = []
    for b in doc.get("bureau_ids") or ():
        term = _bureau_id(b)
        if term is None:
            raise ValueError(f"ticket {number}: invalid bureau id {b!r}")
        bureaus.append(term)
    services = doc.get("services") or ()
    if isinstance(services, str):
        services = [services]
    out = {
        "number": number,
        "idp": " ".join(_number_terms(_compact_id(number), _compact_id(doc.get("request_number")))),
        "uscc": " ".join(_uscc_terms(_compact_id(doc.get("uscc")))),
        "bureau": " ".join(sorted(set(bureaus))),
        "status": _text(doc.get("status")).strip(),
        "text": weighted_value(
            [
                (WEIGHTS["enterprise"], _text(doc.get("enterprise"))),
                (WEIGHTS["services"], _text(list(services))),
                (WEIGHTS["text"], _text(doc.get("text"))),
            ]
        ),
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


def _bigram_query(word: str, boost: float = 1.0) -> wq.Query:
    grams = list(dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1)))
    terms = [wq.Term("text", g, boost=boost) for g in grams]
    return terms[0] if len(terms) == 1 else wq.And(terms)


def _cjk_word_queries(run: str) -> list[wq.Query]:
    words = [w for w in jieba.cut(run, HMM=True) if w.strip()]
    content = [w for w in words if w not in STOPWORDS] or words
    out: list[wq.Query] = []
    for w in content:
        if len(w) == 1:
            out.append(wq.Term("text", w))
            continue
        q = _bigram_query(w)
        syns = [_bigram_query(s, SYNONYM_BOOST) for s in SYNONYMS.get(w, ())]
        out.append(wq.Or([q, *syns]) if syns else q)
    return out


def _latin_query(run: str) -> wq.Query | None:
    parts = [wq.Term("text", p) for p in run.split("-") if p]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _id_query(token: str) -> wq.Query:
    """A letters/digits token that may be a number (prefix) or a USCC fragment."""
    alts: list[wq.Query] = []
    if len(token) >= MIN_NUMBER_PREFIX:
        alts.append(wq.Term("idp", "=" + token, boost=EXACT_NUMBER_SCORE))
        alts.append(wq.Term("idp", token, boost=NUMBER_PREFIX_SCORE))
    alnum = token.replace("-", "")
    if len(alnum) >= USCC_GRAM:
        # Grams covering the fragment (overlapping only at the end).
        starts = list(range(0, len(alnum) - USCC_GRAM + 1, USCC_GRAM))
        if starts[-1] != len(alnum) - USCC_GRAM:
            starts.append(len(alnum) - USCC_GRAM)
        grams = list(dict.fromkeys(alnum[s : s + USCC_GRAM] for s in starts))
        each = USCC_SCORE / len(grams)
        terms = [wq.Term("uscc", g, boost=each) for g in grams]
        alts.append(terms[0] if len(terms) == 1 else wq.And(terms))
    text = _latin_query(token)
    if text is not None:
        alts.append(text)
    return alts[0] if len(alts) == 1 else wq.Or(alts)


def build_query(q: str | None) -> wq.Query | None:
    """The Whoosh query for user text *q* (None when nothing is searchable).

    Every word is required; see the module docstring for what a word is."""
    if not q or not isinstance(q, str):
        return None
    text = normalize(clean_text(q)[: MAX_QUERY_CHARS * 2])[:MAX_QUERY_CHARS]
    words: list[wq.Query] = []
    for cls, run in _runs(text):
        if cls == 1:
            ensure_jieba()
            words.extend(_cjk_word_queries(run))
        elif len(run) >= MIN_ID_TOKEN and any(ch.isdigit() for ch in run) and run.isascii():
            words.append(_id_query(run))
        else:
            lq = _latin_query(run)
            if lq is not None:
                words.append(lq)
        if len(words) >= MAX_WORDS:
            break
    words = list(dict.fromkeys(words))[:MAX_WORDS]
    if not words:
        return None
    return words[0] if len(words) == 1 else wq.And(words)


class _RequireMatcher(RequireMatcher):
    """Whoosh's RequireMatcher, with block-quality skipping fixed: the
    original re-synchronises its children unconditionally after skipping,
    which trips an assertion when they already agree (or one is exhausted)."""

    def skip_to_quality(self, minquality: float) -> int:
        a, b = self.a, self.b
        skipped = a.skip_to_quality(minquality)
        if a.is_active() and b.is_active() and a.id() != b.id():
            self.child._find_next()
        return skipped


class Restricted(wq.Require):
    """``Restricted(query, restriction)``: the documents of *query* that also
    match *restriction*, scored by *query* only (Whoosh's Require, with the
    fixed matcher)."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        scored = self.a.matcher(searcher, context)
        required = self.b.matcher(searcher, searcher.boolean_context())
        return _RequireMatcher(scored, required)


def bureau_filter(bureau_ids: Iterable[Any]) -> wq.Query | None:
    """The query matching tickets of any of *bureau_ids* (None when the
    collection holds no valid id: nothing may be returned)."""
    if isinstance(bureau_ids, (str, bytes)):
        bureau_ids = [bureau_ids]
    terms = sorted({t for t in (_bureau_id(b) for b in bureau_ids) if t is not None})
    if not terms:
        return None
    qs = [wq.Term("bureau", t) for t in terms]
    return qs[0] if len(qs) == 1 else wq.Or(qs)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


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


def _commit(writer: Any) -> None:
    """Commit and break the writer's searcher reference cycle at once (it
    otherwise keeps the old segment's files open until the next full GC)."""
    searcher = getattr(writer, "_searcher", None)
    writer.commit()
    if searcher is not None:
        try:
            searcher.__dict__.clear()
        except Exception:  # pragma: no cover - best effort
            pass


class _DirState:
    """Per index directory and process: the writers' lock and the journals
    of the rebuilds in progress."""

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
    """One thread's open searcher over one generation."""

    __slots__ = ("generation", "searcher")

    def __init__(self, generation: int, searcher: Searcher) -> None:
        self.generation = generation
        self.searcher = searcher

    def close(self) -> None:
        try:
            self.searcher.close()
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
        searcher = Searcher(reader, weighting=_weighting(), fromindex=ix)
        if set(searcher.schema.names()) != set(build_schema().names()):
            searcher.close()
            raise TicketIndexUnavailable("the ticket index has another schema")
        gen_read = reader.generation()
        r = _Reader(gen if gen_read is None else gen_read, searcher)
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
        """This thread's searcher on the newest generation."""
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

    def _read(self, fn: Callable[[Searcher], Any]) -> Any:
        """Run *fn* on this thread's searcher.  A failure is retried once on a
        freshly opened one (another process may have replaced the files);
        a second failure means the index is damaged."""
        for attempt in (1, 2):
            r = self._reader()
            try:
                return fn(r.searcher)
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
        """Close every searcher this instance opened (call when no search
        is running, e.g. at shutdown or in tests)."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for r in readers:
            r.close()
        self._local = threading.local()

    def doc_count(self) -> int:
        """Number of tickets in the index (TicketIndexUnavailable if none)."""
        return self._read(lambda s: s.doc_count())

    def search(self, q: str, *, bureau_ids: Iterable[int] | None, limit: int = 500) -> list[str]:
        """Ticket numbers matching *q*, best match first, at most *limit*.

        Only tickets whose owning or co-handling bureau is one of
        *bureau_ids* are returned (None: every bureau; an empty collection:
        nothing).  An empty query returns [].  Raises TicketIndexUnavailable
        when the index is missing, stale or damaged, and nothing else."""
        restrict: wq.Query | None = None
        if bureau_ids is not None:
            restrict = bureau_filter(bureau_ids)
            if restrict is None:
                return []
        try:
            limit = min(MAX_LIMIT, int(limit))
        except (TypeError, ValueError, OverflowError):
            limit = 500
        if limit <= 0:
            return []
        try:
            query = build_query(q)
        except Exception:  # pragma: no cover - analysis must never break search
            log.exception("ticket query analysis failed for %r", q)
            return []
        if query is None:
            return []
        if restrict is not None:
            query = Restricted(query, restrict)
        final_query: wq.Query = query

        def run(searcher: Searcher) -> list[str]:
            results = searcher.search(final_query, limit=limit, terms=False)
            return [searcher.stored_fields(docnum)["number"] for _score, docnum in results.top_n]

        return self._read(run)

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
    ) -> int:
        """Replace the whole index with *docs*; returns the number indexed.

        The documents are streamed into a new index in a temporary
        sub-directory, which is swapped in with one atomic TOC write: readers
        see the old or the new index, never a partial one.  On any error
        (including an invalid document) the old index stays.  *progress*, if
        given, is called with the number of documents added so far (an
        absolute count) about 200 times when *total* is known, else every
        1,000 documents, and once at the end.  Numbers should be unique (the
        database's are); a repeated number is indexed twice until its next
        upsert."""
        state = self._state
        with state.rebuild_lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with self._FileLock(self, "REBUILDLOCK", REBUILD_LOCK_TIMEOUT):
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
        tmp = self.index_dir / f".build-{uuid.uuid4().hex}"
        count = 0
        try:
            tmp.mkdir()
            ix = windex.create_in(str(tmp), build_schema(), indexname=INDEXNAME)
            writer = ix.writer(limitmb=REBUILD_LIMIT_MB)
            try:
                for doc in docs:
                    writer.add_document(**doc_to_fields(doc))
                    count += 1
                    if progress is not None and count % step == 0:
                        progress(count)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            if progress is not None:
                progress(count)
            with self._state.write_lock, self._FileLock(self, "WRITELOCK", WRITE_LOCK_TIMEOUT):
                if journal:
                    self._replay(ix, journal)
                self._install(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return count

    @staticmethod
    def _replay(ix: windex.FileIndex, journal: list[tuple[str, Any]]) -> None:
        """Apply the changes made while the rebuild ran to the new index."""
        writer = ix.writer()
        try:
            for op, payload in journal:
                if op == "upsert":
                    for fields_ in payload:
                        writer.update_document(**fields_)
                else:
                    for number in payload:
                        writer.delete_by_term("number", number)
            _commit(writer)
        except BaseException:
            writer.cancel()
            raise

    def _install(self, tmp: Path) -> None:
        """Move the index built in *tmp* into place (caller holds the locks)."""
        toc = TOC.read(FileStorage(str(tmp)), INDEXNAME)
        for name in os.listdir(tmp):
            if name.endswith(".toc") or "LOCK" in name or (tmp / name).is_dir():
                continue
            os.replace(tmp / name, self.index_dir / name)
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

    def _live_writer(self) -> Any | None:
        """A writer on the live index, or None when it is missing, stale or
        unreadable (the change is then left to the caller's rebuild)."""
        if _latest_generation(self.index_dir) < 0:
            return None
        if not self._meta_ok():
            log.warning("ticket index in %s is stale; change skipped until it is rebuilt", self.index_dir)
            return None
        try:
            ix = windex.FileIndex(self._storage, indexname=INDEXNAME)
            if set(ix.schema.names()) != set(build_schema().names()):
                raise ValueError("another schema")
        except Exception as exc:
            log.warning("ticket index in %s unreadable (%s); change skipped", self.index_dir, exc)
            return None
        return ix.writer(timeout=WRITE_LOCK_TIMEOUT, delay=LOCK_RETRY_DELAY)

    def upsert(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """Add or replace tickets by number; visible to the next search.

        Within one call the last document of a number wins.  Invalid
        documents raise ValueError before anything is written."""
        prepared: dict[str, dict[str, str]] = {}
        for doc in docs:
            f = doc_to_fields(doc)
            prepared[f["number"]] = f
        if not prepared:
            return
        batch = list(prepared.values())
        with self._state.write_lock:
            for journal in self._state.journals:
                journal.append(("upsert", batch))
            writer = self._live_writer()
            if writer is None:
                return
            try:
                for f in batch:
                    writer.update_document(**f)
                _commit(writer)
            except BaseException:
                writer.cancel()
                raise

    def delete(self, numbers: Iterable[str]) -> None:
        """Remove the tickets with these numbers (unknown ones are ignored)."""
        wanted = list(dict.fromkeys("".join(_text(n).split()) for n in numbers if n is not None))
        wanted = [n for n in wanted if n]
        if not wanted:
            return
        with self._state.write_lock:
            for journal in self._state.journals:
                journal.append(("delete", wanted))
            writer = self._live_writer()
            if writer is None:
                return
            try:
                for number in wanted:
                    writer.delete_by_term("number", number)
                _commit(writer)
            except BaseException:
                writer.cancel()
                raise
