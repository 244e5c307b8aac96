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
  jieba words, Latin words).  Every word of the query is required (AND); a
  word of two or more CJK characters matches where all its bigrams occur
  (no positions are indexed), a single character where it occurs.  The
  catalog's colloquial synonyms apply ("地磅" also finds "汽车衡").
* A ticket or request number, whole or as a prefix of at least
  ``MIN_NUMBER_PREFIX`` characters ("LX2026112900000").
* A USCC, whole or any fragment of at least ``USCC_GRAM`` characters.
* The enterprise name, whole (one term) or by its words.

Query text is never parsed as query syntax: the Whoosh query is built term by
term, so ``AND``, ``*``, ``"``, ``:`` … are plain characters.

Ranking ("best match first")
----------------------------
Results come in tiers, each tier newest first (see Speed):

1. the exact ticket or request number;
2. a number prefix or a USCC (fragment);
3. the exact enterprise name;
4. every word found in the enterprise name or the service names;
5. every word found anywhere (free text included).

A ticket appears once, in its best tier.  Word frequencies (BM25) are not
used: among tickets that all contain the words, the recent ones matter most
to staff, and this ordering lets a search stop after ``limit`` hits instead
of scoring every posting of a common word.

Bureau restriction
------------------
Every tier's query is ``And([tier_query, Or(bureau terms)])``: the
restriction is a clause of the Whoosh query itself, so nothing can bypass it,
and the intersection skips the postings of other bureaus.  ``None`` means
every bureau; an empty collection returns ``[]`` without searching.

Speed
-----
Only the ticket number is stored; text fields index term existence only (no
frequencies, lengths or positions).  A search walks the matches of each tier
in index order and stops at ``limit``.  ``rebuild`` writes the documents in
reverse input order (the database yields them oldest first), so index order
is newest first; tickets upserted since then live in later, smaller segments,
which are read first and, when small, newest first too.  A searcher is kept
open per thread and reopened when the index generation on disk changes (a
commit by this process or another one).

Concurrency and maintenance
---------------------------
* Writers in one process serialise on a per-directory lock, then take
  Whoosh's file lock (other processes) with a timeout.
* ``rebuild`` builds a new index in a temporary sub-directory (spilling the
  input to compressed chunk files, so that a million documents never sit in
  memory) and swaps it in with one atomic TOC write.  It does not block
  ``upsert``/``delete``: changes made by this process while a rebuild runs
  go to the live index *and* are replayed into the new one before the swap.
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
import pickle
import re
import shutil
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jieba
from whoosh import fields, formats
from whoosh import index as windex
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.searching import Searcher
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

__all__ = ["TicketIndex", "TicketIndexUnavailable", "build_schema", "build_tiers", "doc_to_fields"]

log = logging.getLogger(__name__)

#: Whoosh's name for the index inside the directory (file prefix); distinct
#: from the catalog's, so both could even share a directory.
INDEXNAME = "TICKETS"
#: Bump when the schema or the analysis changes: an index written by another
#: version is reported unavailable (and rebuilt by the caller).
SCHEMA_VERSION = "1"
META_FILE = "ticket_index.json"

#: Shortest number prefix that is searchable ("LX202611": a month).
MIN_NUMBER_PREFIX = 8
#: USCC fragments are found through n-grams of this size (so a partial USCC
#: must have at least this many characters).
USCC_GRAM = 6
#: Shortest letters-and-digits query token tried as a number / USCC fragment.
MIN_ID_TOKEN = 6
#: Caps that keep a pathological query bounded.
MAX_WORDS = 10
MAX_LIMIT = 10_000
#: Segments up to this size are read whole and returned newest first; larger
#: ones are read in index order and left as soon as enough hits are found.
SMALL_SEGMENT = 5_000

#: Seconds a writer waits for another writer (thread or process).
WRITE_LOCK_TIMEOUT = 60.0
#: Seconds a rebuild waits for another process's rebuild of the same index.
REBUILD_LOCK_TIMEOUT = 3600.0
LOCK_RETRY_DELAY = 0.05
#: Memory for the rebuild's segment writer, in MB.
REBUILD_LIMIT_MB = 256
#: Documents per spill file while a rebuild reads its input.
SPILL_CHUNK = 10_000

_TOC_RE = re.compile(r"^_%s_([0-9]+)\.toc$" % INDEXNAME)
_ALNUM_RE = re.compile("[0-9a-z]+")
#: The stored document keys (after validation) a rebuild spills to disk.
_DOC_KEYS = ("number", "request_number", "status", "bureau_ids", "enterprise", "uscc", "services", "text")


class TicketIndexUnavailable(Exception):
    """The ticket index is missing, stale or unreadable; rebuild it."""


# --------------------------------------------------------------------------
# Schema and documents
# --------------------------------------------------------------------------


def _words_field() -> fields.FieldType:
    """Chinese-analysed text, term existence only (small, fast postings)."""
    return fields.FieldType(formats.Existence(), ChineseTokenizer())


def build_schema() -> fields.Schema:
    """The ticket schema (a new instance each time: schemas are mutable)."""
    return fields.Schema(
        # The only stored field: what search returns.  Unique for updates.
        number=fields.ID(stored=True, unique=True),
        # Number/request-number prefixes, and "=" + each whole number.
        idp=fields.KEYWORD(lowercase=False),
        # USCC n-grams.
        uscc=fields.KEYWORD(lowercase=False),
        # The whole enterprise name (normalised, without spaces).
        ent=fields.ID(),
        # Owning and co-handling bureau ids: the access restriction.
        bureau=fields.KEYWORD(lowercase=False),
        status=fields.ID(),
        # Enterprise and service names; everything (names and free text).
        head=_words_field(),
        body=_words_field(),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return "\n".join(_text(v) for v in value if v is not None)
    return str(value)


def _compact(value: Any) -> str:
    """Normalised (NFKC, lowercase) text without whitespace."""
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
    if len(alnum) <= USCC_GRAM:
        return [alnum] if alnum else []
    return sorted({alnum[i : i + USCC_GRAM] for i in range(len(alnum) - USCC_GRAM + 1)})


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


def _check_doc(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document's known keys, validated (ValueError when it has no
    number or a bureau id that is not an integer)."""
    if not isinstance(doc, Mapping):
        raise ValueError(f"ticket document must be a mapping, not {type(doc).__name__}")
    number = "".join(_text(doc.get("number")).split())
    if not number:
        raise ValueError("ticket document without a number")
    bureaus = doc.get("bureau_ids") or ()
    if isinstance(bureaus, (str, int)):
        bureaus = [bureaus]
    terms = []
    for b in bureaus:
        term = _bureau_term(b)
        if term is None:
            raise ValueError(f"ticket {number}: invalid bureau id {b!r}")
        terms.append(term)
    services = doc.get("services") or ()
    if isinstance(services, str):
        services = [services]
    out = {k: doc.get(k) for k in _DOC_KEYS}
    out.update(number=number, bureau_ids=terms, services=[_text(s) for s in services])
    return out


def _fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """Whoosh field values of a checked document."""
    enterprise = _text(doc.get("enterprise"))
    head = "\n".join(t for t in (enterprise, _text(doc.get("services"))) if t)
    out = {
        "number": doc["number"],
        "idp": " ".join(_number_terms(_compact(doc["number"]), _compact(doc.get("request_number")))),
        "uscc": " ".join(_uscc_terms(_compact(doc.get("uscc")))),
        "ent": _compact(enterprise),
        "bureau": " ".join(sorted(set(doc["bureau_ids"]))),
        "status": _text(doc.get("status")).strip(),
        "head": head,
        "body": "\n".join(t for t in (head, _text(doc.get("text"))) if t),
    }
    return {k: v for k, v in out.items() if v != ""}


def doc_to_fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """Convert a ticket document into Whoosh field values (ValueError when
    it has no number or an invalid bureau id)."""
    return _fields(_check_doc(doc))


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


@dataclass(frozen=True)
class _Word:
    """One required word of a query.

    ``kind`` is "cjk" (``forms``: the word and its synonyms), "latin"
    (``forms[0]``: a letters/digits run, hyphens allowed) or "id" (a latin
    run that may also be a number or a USCC fragment)."""

    kind: str
    forms: tuple[str, ...]

    def text_query(self, field: str) -> wq.Query | None:
        if self.kind == "cjk":
            alts = [_cjk_form(field, f) for f in self.forms]
            return alts[0] if len(alts) == 1 else wq.Or(alts)
        parts = [wq.Term(field, p) for p in self.forms[0].split("-") if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def exact_number_query(self) -> wq.Query | None:
        token = self.forms[0]
        if len(token) < MIN_NUMBER_PREFIX:
            return None
        return wq.Term("idp", "=" + token)

    def id_query(self) -> wq.Query:
        token = self.forms[0]
        alts: list[wq.Query] = []
        if len(token) >= MIN_NUMBER_PREFIX:
            alts.append(wq.Term("idp", token))
        alnum = token.replace("-", "")
        if len(alnum) >= USCC_GRAM:
            # Grams covering the fragment (overlapping only at the end).
            starts = list(range(0, len(alnum) - USCC_GRAM + 1, USCC_GRAM))
            if starts[-1] != len(alnum) - USCC_GRAM:
                starts.append(len(alnum) - USCC_GRAM)
            grams = [wq.Term("uscc", g) for g in dict.fromkeys(alnum[s : s + USCC_GRAM] for s in starts)]
            alts.append(grams[0] if len(grams) == 1 else wq.And(grams))
        return alts[0] if len(alts) == 1 else wq.Or(alts)


def _cjk_form(field: str, word: str) -> wq.Query:
    if len(word) == 1:
        return wq.Term(field, word)
    grams = [wq.Term(field, g) for g in dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1))]
    return grams[0] if len(grams) == 1 else wq.And(grams)


def _words(q: str) -> tuple[list[_Word], str]:
    """The required words of user text *q* and its compact form."""
    text = normalize(clean_text(q)[: MAX_QUERY_CHARS * 2])[:MAX_QUERY_CHARS]
    words: list[_Word] = []
    for cls, run in _runs(text):
        if cls == 1:
            ensure_jieba()
            cut = [w for w in jieba.cut(run, HMM=True) if w.strip()]
            content = [w for w in cut if w not in STOPWORDS] or cut
            for w in content:
                words.append(_Word("cjk", (w, *SYNONYMS.get(w, ()))))
        elif len(run) >= MIN_ID_TOKEN and run.isascii() and any(ch.isdigit() for ch in run):
            words.append(_Word("id", (run,)))
        else:
            words.append(_Word("latin", (run,)))
        if len(words) >= MAX_WORDS:
            break
    words = list(dict.fromkeys(words))[:MAX_WORDS]
    return words, "".join(text.split())


def _all(queries: list[wq.Query | None]) -> wq.Query | None:
    if any(q is None for q in queries) or not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.And(queries)


def build_tiers(q: str | None) -> list[tuple[str, wq.Query]]:
    """The tier queries for user text *q*, best tier first (see the module
    docstring); empty when nothing in *q* is searchable."""
    if not q or not isinstance(q, str):
        return []
    words, compact = _words(q)
    if not words:
        return []
    tiers: list[tuple[str, wq.Query | None]] = []
    if any(w.kind == "id" for w in words):
        tiers.append(("number", _all([
            (w.exact_number_query() or w.id_query()) if w.kind == "id" else w.text_query("body") for w in words
        ])))
        tiers.append(("id", _all([w.id_query() if w.kind == "id" else w.text_query("body") for w in words])))
    if any(is_cjk(ch) for ch in compact):
        tiers.append(("enterprise", wq.Term("ent", compact)))
    tiers.append(("head", _all([w.text_query("head") for w in words])))
    tiers.append(("body", _all([w.text_query("body") for w in words])))
    return [(name, tq) for name, tq in tiers if tq is not None]


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
    """One thread's open searcher over one generation."""

    __slots__ = ("generation", "searcher", "leaves")

    def __init__(self, generation: int, searcher: Searcher) -> None:
        self.generation = generation
        self.searcher = searcher
        # Newest segments first (Whoosh appends new segments to the TOC).
        self.leaves = [(s, offset, s.doc_count_all()) for s, offset in reversed(searcher.leaf_searchers())]

    def close(self) -> None:
        try:
            self.searcher.close()
        except Exception:  # pragma: no cover - closing is best effort
            pass


def _leaf_hits(searcher: Searcher, query: wq.Query, need: int, small: bool, seen: set[int]) -> list[int]:
    """Up to *need* document numbers of one segment matching *query* and not
    in *seen*, newest first."""
    m = query.matcher(searcher, searcher.boolean_context())
    out: list[int] = []
    while m.is_active():
        d = m.id()
        if d not in seen:
            out.append(d)
            if not small and len(out) >= need:
                break
        m.next()
    if small:  # written oldest first (upserts): newest are last
        out.reverse()
        del out[need:]
    return out


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
            searcher = Searcher(reader, fromindex=ix)
            if set(searcher.schema.names()) != set(build_schema().names()):
                raise TicketIndexUnavailable("the ticket index has another schema")
            gen_read = reader.generation()
            r = _Reader(gen if gen_read is None else gen_read, searcher)
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
        """Close every searcher this instance opened (call when no search
        is running, e.g. at shutdown or in tests)."""
        with self._readers_lock:
            readers, self._readers = self._readers, []
        for r in readers:
            r.close()
        self._local = threading.local()

    def doc_count(self) -> int:
        """Number of tickets in the index (TicketIndexUnavailable if none)."""
        return self._read(lambda r: r.searcher.doc_count())

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
        hits: list[tuple[Searcher, int]] = []
        seen: list[set[int]] = [set() for _ in reader.leaves]
        for query in queries:
            for i, (leaf, _offset, size) in enumerate(reader.leaves):
                need = limit - len(hits)
                if need <= 0:
                    break
                found = _leaf_hits(leaf, query, need, size <= SMALL_SEGMENT, seen[i])
                seen[i].update(found)
                hits.extend((leaf, d) for d in found)
            if len(hits) >= limit:
                break
        return [leaf.stored_fields(d)["number"] for leaf, d in hits[:limit]]

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

        *docs* is read once, oldest first (as the database yields them), and
        spilled to compressed chunk files; the index is then written newest
        first in a temporary sub-directory and swapped in with one atomic TOC
        write: readers see the old or the new index, never a partial one.  On
        any error (an invalid document included) the old index stays.

        *progress*, if given, is called with an absolute, growing count that
        reaches the number of documents at the end: reading counts for the
        first half, indexing for the second.  It is called about 200 times
        when *total* (the expected count) is given, else every 1,000
        documents read or indexed.  Numbers should be unique (the database's
        are); a repeated number is indexed twice until its next upsert."""
        state = self._state
        with state.rebuild_lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            with self._FileLock(self, "REBUILDLOCK", REBUILD_LOCK_TIMEOUT):
                journal: list[tuple[str, Any]] = []
                with state.write_lock:
                    state.journals.append(journal)
                try:
                    count = self._rebuild_locked(docs, total, progress, journal)
                finally:
                    with state.write_lock:
                        state.journals.remove(journal)
        return count

    def _rebuild_locked(
        self,
        docs: Iterable[Mapping[str, Any]],
        total: int | None,
        progress: Callable[[int], None] | None,
        journal: list[tuple[str, Any]],
    ) -> int:
        ensure_jieba()
        step = max(1, 2 * total // 200) if total else 1000
        build = self.index_dir / f".build-{uuid.uuid4().hex}"
        spill = self.index_dir / f".spill-{uuid.uuid4().hex}"
        try:
            build.mkdir()
            spill.mkdir()
            # 1. Read and validate everything, spilling chunks to disk.
            chunks: list[Path] = []
            chunk: list[dict[str, Any]] = []
            count = 0
            for doc in docs:
                chunk.append(_check_doc(doc))
                count += 1
                if len(chunk) >= SPILL_CHUNK:
                    path = spill / f"{len(chunks):06d}"
                    path.write_bytes(zlib.compress(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL), 1))
                    chunks.append(path)
                    chunk = []
                if progress is not None and count % step == 0:
                    progress(count // 2)
            # 2. Index newest first: the last chunk (in memory), then back.
            ix = windex.create_in(str(build), build_schema(), indexname=INDEXNAME)
            writer = ix.writer(limitmb=REBUILD_LIMIT_MB)
            added = 0
            try:
                while True:
                    for doc in reversed(chunk):
                        writer.add_document(**_fields(doc))
                        added += 1
                        if progress is not None and added % step == 0:
                            progress((count + added) // 2)
                    if not chunks:
                        break
                    path = chunks.pop()
                    chunk = pickle.loads(zlib.decompress(path.read_bytes()))
                    path.unlink()
                writer.commit()
            except BaseException:
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
            shutil.rmtree(spill, ignore_errors=True)
        return count

    @staticmethod
    def _replay(ix: windex.FileIndex, journal: list[tuple[str, Any]]) -> None:
        """Apply the changes made while the rebuild ran to the new index
        (each number's last state: a document, or None once deleted)."""
        final: dict[str, dict[str, str] | None] = {}
        for op, payload in journal:
            for item in payload:
                if op == "upsert":
                    final[item["number"]] = item
                else:
                    final[item] = None
        writer = ix.writer()
        try:
            for number, f in final.items():
                writer.delete_by_term("number", number)
                if f is not None:
                    writer.add_document(**f)
            _commit(writer)
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
        if isinstance(numbers, str):
            numbers = [numbers]
        wanted = [n for n in dict.fromkeys("".join(_text(n).split()) for n in numbers if n is not None) if n]
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
