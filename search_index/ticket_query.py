"""The ticket index's queries: user text -> Whoosh queries, one per ranking tier.

Query text is never parsed as query syntax: the Whoosh query is built term by
term (:func:`build_tiers`), so ``AND``, ``*``, ``"``, ``:`` … are plain text.
The queries are plain ``Term`` / ``Prefix`` / ``And`` / ``Or`` trees, which
``ticket_segments`` evaluates over bitmaps (and Whoosh would match the same
way).  See :mod:`search_index.tickets` for what a query matches and the tiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jieba
from whoosh import query as wq

from .analysis import MAX_QUERY_CHARS, STOPWORDS, SYNONYMS, clean_text, ensure_jieba, is_cjk, normalize
from .ticket_schema import MAX_INDEXED_PREFIX, MIN_NUMBER_PREFIX, bureau_term, ngrams

__all__ = ["MAX_WORDS", "MIN_ID_TOKEN", "build_tiers", "bureau_restriction"]

#: Shortest letters-and-digits query token tried as a number / USCC fragment.
MIN_ID_TOKEN = 6
#: Caps that keep a pathological query bounded.
MAX_WORDS = 10


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
            grams = [wq.Term("uscc", g) for g in ngrams(alnum)]
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
    terms = sorted({t for t in (bureau_term(b) for b in bureau_ids) if t is not None})
    if not terms:
        return None
    qs = [wq.Term("bureau", t) for t in terms]
    return qs[0] if len(qs) == 1 else wq.Or(qs)

