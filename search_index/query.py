"""Turning user text into a query plan (never through Whoosh's query syntax).

The user's text is cleaned, truncated, analysed with the same tokenizer as
the index (``analysis.analyze_query``) and turned into a list of *clauses*:

``TextTerm``
    one analysed term searched in the scored fields with their boosts
    (name > keywords > summary > body, see ``schema.py``), BM25-scored; the
    backbone "OR".
``FieldAnd``
    documents containing *all* given terms of one field (pinyin syllable
    pairs, initials n-grams), optionally also one of the expansions of a
    prefix (partial pinyin such as "shangbiaozhu").  BM25-scored.
``Bonus``
    a constant bonus for documents having the terms of one field: the exact
    name, an exact keyword, or every query word somewhere in the name.

A document matches when any clause matches -- except that a query of three
or more real words (not single characters) needs half of them
(minimum-should-match, see ``MatchGroup``); its score is the sum of the
clauses.  The plan is evaluated by ``snapshot.Snapshot`` over cached postings
(fast), and can also be expressed as an equivalent Whoosh query tree
(``to_whoosh_query``), which the tests use to check that both agree on the
matching documents.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

from whoosh import query as wq

from .analysis import (
    MAX_QUERY_CHARS,
    STOPWORDS,
    QueryAnalysis,
    analyze_query,
    clean_text,
    has_control_chars,
    is_cjk,
)
from .pinyin import INITIALS_NGRAM_MAX, segment_pinyin
from .schema import SCORED_FIELDS

__all__ = [
    "Bonus",
    "FieldAnd",
    "MatchGroup",
    "QueryPlan",
    "TextTerm",
    "clean_query",
    "plan_need",
    "plan_query",
    "to_whoosh_query",
]

# Relative weights of the non-text clauses (text terms are BM25 x field boost).
NAME_EXACT_BONUS = 80.0  # the query is exactly a service name
KEYWORD_EXACT_BONUS = 12.0  # a query word is exactly one of the keywords
NAME_ALL_WORDS_BONUS = 15.0  # every query word occurs in the name
PY_EXACT_BOOST = 6.0  # full pinyin / initials of the name, a name word or keyword
PY_PREFIX_BOOST = 3.0  # ... typed partially
PY_SEQUENCE_BOOST = 3.0  # syllable sequence inside the name
PY_INITIALS_BOOST = 2.0  # initials sequence inside the name
#: Minimum-should-match: from this many strong words on, a document needs
#: at least this share of them.
MIN_MATCH_FROM = 3
MIN_MATCH_SHARE = 0.5
#: Cap on terms a prefix may expand to (keeps partial pinyin cheap).
MAX_PREFIX_EXPANSIONS = 12

_WS_RE = re.compile(r"\s+")

#: A need (我有需求) is read up to this many characters, into at most this many terms.
MAX_NEED_CHARS = 2000
MAX_NEED_TERMS = 96
#: Weight of a lone character left over by word segmentation in a need ("仪" of 粒度仪).
NEED_CHAR_WEIGHT = 0.5
_CLAUSE_RE = re.compile(r"[，。；：！？、,.;:!?\s（）()《》“”\"'【】]+")


@dataclass(frozen=True)
class TextTerm:
    term: str
    weight: float = 1.0


@dataclass(frozen=True)
class FieldAnd:
    field: str
    terms: tuple[str, ...]
    boost: float
    #: Optional prefix: the document must also contain a term starting with it.
    prefix: str | None = None


@dataclass(frozen=True)
class Bonus:
    field: str
    #: Each group is satisfied by any of its terms; all groups must be.
    groups: tuple[tuple[str, ...], ...]
    value: float


Clause = TextTerm | FieldAnd | Bonus


@dataclass(frozen=True)
class MatchGroup:
    """One strong word of the query for the minimum-should-match rule: a
    document has it when it contains any of *terms* in a text field or
    matches one of the (pinyin) clauses at *clauses* (indices into
    ``QueryPlan.clauses``)."""

    terms: tuple[str, ...]
    clauses: tuple[int, ...] = ()


@dataclass
class QueryPlan:
    """The cleaned query and its clauses."""

    #: The query as shown back to the user (cleaned, truncated).
    text: str
    clauses: list[Clause] = field(default_factory=list)
    #: Strings to highlight in text, and pinyin syllable/initials sequences
    #: to highlight in names.
    highlight: set[str] = field(default_factory=set)
    pinyin_sequences: list[tuple[list[str], str]] = field(default_factory=list)
    initials: list[str] = field(default_factory=list)
    #: Minimum-should-match: with three or more strong words, a document must
    #: have at least ``min_match`` of ``groups`` (0 = any clause matches).
    groups: list[MatchGroup] = field(default_factory=list)
    min_match: int = 0
    message: str | None = None
    analysis: QueryAnalysis | None = None

    @property
    def is_empty(self) -> bool:
        """True when the user asked for nothing (browse the whole catalog)."""
        return not self.text.strip()


def clean_query(q: object) -> tuple[str, str | None]:
    """Normalise the raw query text; returns ``(text, message)``."""
    if q is None:
        return "", None
    raw = q if isinstance(q, str) else str(q)
    message: str | None = None
    if has_control_chars(raw):
        message = "已忽略查询中的不可见字符。"
    text = clean_text(raw)
    text = _WS_RE.sub(" ", text).strip()
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS].rstrip()
        message = f"查询内容过长，已截取前 {MAX_QUERY_CHARS} 个字。"
    return text, message


def plan_query(q: object) -> QueryPlan:
    """Build the clause list for the user text *q*."""
    text, message = clean_query(q)
    plan = QueryPlan(text=text, message=message)
    if not text:
        return plan
    qa = analyze_query(text)
    plan.analysis = qa
    plan.highlight = set(qa.highlight)

    # 1. The backbone: every analysed term in every text field.
    plan.clauses += [TextTerm(t, w) for t, w in qa.terms.items()]

    # 2. Exact name / exact keyword bonuses.
    if qa.full:
        plan.clauses.append(Bonus("name_exact", ((qa.full,),), NAME_EXACT_BONUS))
    exact_kw = dict.fromkeys([qa.full] + [w for w in qa.words if len(w) >= 2])
    for w in exact_kw:
        plan.clauses.append(Bonus("kw_exact", ((w,),), KEYWORD_EXACT_BONUS))

    # 3. All query words in the name (only meaningful for 2+ words).
    name_groups = tuple(tuple(t for t in g.terms if t in qa.terms) for g in qa.groups)
    name_groups = tuple(g for g in name_groups if g)
    if len(name_groups) >= 2:
        plan.clauses.append(Bonus("name", name_groups, NAME_ALL_WORDS_BONUS))

    # 4. Pinyin for Latin chunks ("dibang", "di bang", "db", "shangbiaozhu").
    chunk_clauses: list[tuple[int, ...]] = []
    for chunk in qa.latin:
        first = len(plan.clauses)
        _plan_pinyin(chunk, plan)
        chunk_clauses.append(tuple(range(first, len(plan.clauses))))

    # 5. Minimum-should-match over the strong words: "火箭发射许可证" should
    # not list every service that mentions 许可, but a question with a stray
    # word ("我们厂的地磅需要年检": 厂 is a single character) still works.
    for g in qa.groups:
        if g.strong:
            terms = tuple(t for t in g.terms if t in qa.terms)
            pinyin = chunk_clauses[g.latin_chunk] if g.latin_chunk is not None else ()
            if terms or pinyin:
                plan.groups.append(MatchGroup(terms, pinyin))
    if len(plan.groups) >= MIN_MATCH_FROM:
        plan.min_match = math.ceil(len(plan.groups) * MIN_MATCH_SHARE)
    return plan


def plan_need(q: object) -> QueryPlan:
    """The plan for a need described in the applicant's own words (我有需求).

    The text is analysed clause by clause with the same analyzer as a search, and every
    meaningful term is OR-ed -- no minimum-should-match, since a need often asks for several
    things at once ("…要计量，有没有补贴"); the engine's BM25 score ranks the services. A lone
    character that word segmentation left over (the 仪 of an unknown 粒度仪) is also searched
    on its own, weakly. ``groups`` holds one group per word, so that ranking can make sure
    each part of the need is answered (see ``needs.py``)."""
    raw = q if isinstance(q, str) else ("" if q is None else str(q))
    text = _WS_RE.sub(" ", clean_text(raw[: MAX_NEED_CHARS * 2])).strip()[:MAX_NEED_CHARS]
    plan = QueryPlan(text=text[:MAX_QUERY_CHARS])
    terms: dict[str, float] = {}
    words: dict[str, None] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for chunk in _CLAUSE_RE.split(text):
        if not chunk or len(terms) >= MAX_NEED_TERMS:
            continue
        qa = analyze_query(chunk)
        for term, weight in qa.terms.items():
            terms[term] = max(weight, terms.get(term, 0.0))
        plan.highlight |= qa.highlight
        for g in qa.groups:
            if not g.strong and len(g.word) == 1 and is_cjk(g.word) and g.word not in STOPWORDS:
                terms.setdefault(g.word, NEED_CHAR_WEIGHT)
                group_terms: tuple[str, ...] = (g.word,)
            else:
                group_terms = tuple(g.terms)
            if g.strong and len(g.word) >= 2:
                words.setdefault(g.word, None)
            if group_terms and g.word not in groups:
                groups[g.word] = group_terms
    plan.clauses += [TextTerm(t, w) for t, w in list(terms.items())[:MAX_NEED_TERMS]]
    for w in words:
        plan.clauses.append(Bonus("kw_exact", ((w,),), KEYWORD_EXACT_BONUS))
    plan.groups = [MatchGroup(tuple(t for t in g if t in terms)) for g in groups.values()]
    plan.groups = [g for g in plan.groups if g.terms]
    return plan


def _plan_pinyin(chunk: str, plan: QueryPlan) -> None:
    letters = chunk.replace(" ", "")
    if len(letters) < 2:  # one letter would match half the catalog
        return
    plan.clauses.append(FieldAnd("py_exact", (letters,), PY_EXACT_BOOST))
    if len(letters) >= 4:
        plan.clauses.append(FieldAnd("py_exact", (), PY_PREFIX_BOOST, prefix=letters))
    for sylls, partial in segment_pinyin(chunk):
        plan.pinyin_sequences.append((sylls, partial))
        pairs = tuple(dict.fromkeys(sylls[i] + sylls[i + 1] for i in range(len(sylls) - 1)))
        if partial:
            if sylls:
                plan.clauses.append(
                    FieldAnd("py", pairs, PY_SEQUENCE_BOOST, prefix=sylls[-1] + partial)
                )
        elif pairs:
            plan.clauses.append(FieldAnd("py", pairs, PY_SEQUENCE_BOOST))
        elif sylls:
            plan.clauses.append(FieldAnd("py", (sylls[0],), PY_SEQUENCE_BOOST))
    if " " not in chunk:
        plan.initials.append(letters)
        n = INITIALS_NGRAM_MAX
        grams = (letters,) if len(letters) <= n else tuple(
            dict.fromkeys(letters[i : i + n] for i in range(len(letters) - n + 1))
        )
        if len(letters) <= 3 * n:
            plan.clauses.append(FieldAnd("py_initials", grams, PY_INITIALS_BOOST))


def _clause_query(c: Clause) -> wq.Query:
    if isinstance(c, TextTerm):
        return wq.Or([wq.Term(f, c.term, boost=b * c.weight) for f, b in SCORED_FIELDS.items()])
    if isinstance(c, FieldAnd):
        parts: list[wq.Query] = [wq.Term(c.field, t) for t in c.terms]
        if c.prefix:
            parts.append(wq.Prefix(c.field, c.prefix))
        return wq.And(parts, boost=c.boost) if len(parts) > 1 else parts[0]
    ands = [wq.Or([wq.Term(c.field, t) for t in g]) for g in c.groups]
    return wq.ConstantScoreQuery(wq.And(ands), score=c.value)


def to_whoosh_query(plan: QueryPlan) -> wq.Query:
    """An equivalent Whoosh query tree (same matching documents).

    Used by tests and for debugging; scoring differs in detail (Whoosh
    scores each field separately), matching does not (except that prefixes
    are not capped here).  Minimum-should-match becomes an OR of ANDs over
    the combinations of groups, so keep it to short queries."""
    subs = [_clause_query(c) for c in plan.clauses]
    if not subs:
        return wq.NullQuery
    query: wq.Query = wq.Or(subs)
    if plan.min_match > 1:
        group_qs = [
            wq.Or(
                [wq.Or([wq.Term(f, t) for f in SCORED_FIELDS]) for t in g.terms]
                + [_clause_query(plan.clauses[i]) for i in g.clauses]
            )
            for g in plan.groups
        ]
        enough = wq.Or(
            [wq.And(list(combo)) for combo in itertools.combinations(group_qs, plan.min_match)]
        )
        query = wq.And([query, enough])
    return query
