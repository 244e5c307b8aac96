"""The ticket index's schema and documents: how a ticket dict becomes Whoosh fields.

One document per ticket (see :mod:`search_index.tickets` for an example).  Every
indexed field has the Existence format (term existence only: no frequencies,
lengths or positions; see ``ticket_writing._ExistencePool``); only the ticket
number is stored.  A ticket or request number is indexed whole and as its
prefixes of ``MIN_NUMBER_PREFIX`` to ``MAX_INDEXED_PREFIX`` characters; a
USCC as overlapping ``USCC_GRAM``-grams; the enterprise name whole (one term)
and, with the service names, by its words (``head``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from whoosh import fields, formats
from whoosh.analysis import KeywordAnalyzer

from .analysis import ChineseTokenizer, normalize

__all__ = [
    "INDEXNAME",
    "META_FILE",
    "SCHEMA_VERSION",
    "TicketIndexUnavailable",
    "build_schema",
    "bureau_term",
    "doc_to_fields",
    "ngrams",
    "number_key",
    "schema_compatible",
]

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
#: USCCs are indexed as overlapping n-grams of this size; a USCC fragment
#: (any part, MIN_ID_TOKEN characters or more) matches where all its n-grams
#: occur.
USCC_GRAM = 3

_ALNUM_RE = re.compile("[0-9a-z]+")


class TicketIndexUnavailable(Exception):
    """The ticket index is missing, stale or unreadable; rebuild it."""


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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return "\n".join(_text(v) for v in value if v is not None)
    return str(value)


def _compact(value: Any) -> str:
    """Normalised (NFKC, lowercase) text without whitespace."""
    return "".join(normalize(_text(value)).split())


def number_key(value: Any) -> str:
    """The indexed form of a ticket/request number."""
    return _compact(value)


def _prefix_terms(*numbers: str) -> list[str]:
    terms: set[str] = set()
    for num in numbers:
        for n in range(MIN_NUMBER_PREFIX, min(len(num), MAX_INDEXED_PREFIX) + 1):
            terms.add(num[:n])
    return sorted(terms)


def ngrams(alnum: str) -> list[str]:
    if len(alnum) <= USCC_GRAM:
        return [alnum] if alnum else []
    return list(dict.fromkeys(alnum[i : i + USCC_GRAM] for i in range(len(alnum) - USCC_GRAM + 1)))


def _uscc_terms(uscc: str) -> list[str]:
    return sorted(ngrams("".join(_ALNUM_RE.findall(uscc))))


def bureau_term(value: Any) -> str | None:
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
        term = bureau_term(b)
        if term is None:
            raise ValueError(f"ticket {number}: invalid bureau id {b!r}")
        terms.add(term)
    services = doc.get("services") or ()
    if isinstance(services, str):
        services = [services]
    enterprise = _text(doc.get("enterprise"))
    key, req = number_key(number), number_key(doc.get("request_number"))
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
