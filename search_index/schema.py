"""The Whoosh schema of the catalog index and the dict -> fields conversion.

Two fields are scored for every query term (BM25, see ``snapshot.py``):

``name``
    the service name, boosted most (``SCORED_FIELDS``);
``text``
    keywords, summary and the rest of the guide (conditions, materials,
    process, legal basis, bureau and category names) in one posting list,
    each part's tokens weighted by ``TEXT_WEIGHTS`` at index time -- so the
    order of importance is name > keywords > summary > body.

Keywords and summary are stored, and the quotable parts of the guide as ``guide`` (one
line per condition, process step or material, each prefixed with its section code, see
``highlight.GUIDE_SECTIONS``), for snippets; pinyin, exact name/keyword and facet fields
complete the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whoosh import fields

from .analysis import ChineseTokenizer, WeightedChineseTokenizer, normalize, weighted_value
from .pinyin import pinyin_fields

__all__ = [
    "SCHEMA_VERSION",
    "SCORED_FIELDS",
    "TEXT_WEIGHTS",
    "build_schema",
    "doc_to_fields",
    "doc_keywords",
]

#: Bump when the schema or the analysis changes: an index written with an
#: older version is treated as stale and rebuilt (when a provider is known).
SCHEMA_VERSION = "3"

#: Fields scored for every query term, with their query-time boosts.
SCORED_FIELDS: dict[str, float] = {"name": 8.0, "text": 2.0}
#: Index-time weights (token boosts) of the parts of the ``text`` field.
TEXT_WEIGHTS: dict[str, float] = {"keywords": 6.0, "summary": 2.0, "body": 1.0}


def build_schema() -> fields.Schema:
    """Create the schema (a new instance each time: schemas are mutable)."""
    return fields.Schema(
        # Identity and stored data for display/highlighting.
        code=fields.ID(stored=True, unique=True, sortable=True),
        # Scored text; phrase=False (Frequency format) keeps postings small.
        name=fields.TEXT(analyzer=ChineseTokenizer(), phrase=False, stored=True),
        text=fields.TEXT(analyzer=WeightedChineseTokenizer(), phrase=False),
        keywords=fields.STORED(),
        summary=fields.STORED(),
        guide=fields.STORED(),
        # Whole normalised name / keywords for exact-match bonuses and the
        # jieba user dictionary.
        name_exact=fields.ID(),
        kw_exact=fields.KEYWORD(commas=True, lowercase=False),
        # Pinyin (see pinyin.py); scorable so BM25 can rank them.
        py=fields.KEYWORD(scorable=True),
        py_initials=fields.KEYWORD(scorable=True),
        py_exact=fields.KEYWORD(scorable=True),
        # Facets / filters, with columns for sorting.
        category=fields.ID(sortable=True),
        bureau=fields.ID(sortable=True),
        online=fields.ID(sortable=True),
        popular=fields.ID(sortable=True),
    )


def _text(value: Any) -> str:
    """A field value as text: lists are joined one item per line."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value if v is not None)
    return str(value)


def doc_keywords(doc: Mapping[str, Any]) -> list[str]:
    """The service keywords as a clean list of strings."""
    kws = doc.get("keywords") or []
    if isinstance(kws, str):
        kws = kws.replace("|", ",").replace("，", ",").replace("、", ",").split(",")
    return [str(k).strip() for k in kws if k is not None and str(k).strip()]


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "on", "是"}
    return bool(value)


def doc_to_fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """Convert a catalog document dict into Whoosh field values.

    Unknown keys are ignored; missing ones are empty."""
    code = str(doc.get("code") or "").strip()
    if not code:
        raise ValueError("document without a code")
    name = _text(doc.get("name"))
    keywords = doc_keywords(doc)
    body = "\n".join(
        t
        for t in (
            _text(doc.get("conditions")),
            _text(doc.get("materials")),
            _text(doc.get("process")),
            _text(doc.get("legal_basis")),
            _text(doc.get("bureau_name")),
            _text(doc.get("category_name")),
        )
        if t
    )
    summary = _text(doc.get("summary"))
    guide = "\n".join(
        f"{code}\t{line.strip()}"
        for code, key in (("c", "conditions"), ("p", "process"), ("m", "materials"))
        for line in _text(doc.get(key)).split("\n")
        if line.strip()
    )
    out: dict[str, str] = {
        "code": code,
        "name": name,
        "text": weighted_value(
            [
                (TEXT_WEIGHTS["keywords"], "\n".join(keywords)),
                (TEXT_WEIGHTS["summary"], summary),
                (TEXT_WEIGHTS["body"], body),
            ]
        ),
        "keywords": "\n".join(keywords),
        "summary": summary,
        "guide": guide,
        "name_exact": " ".join(normalize(name).split()),
        "kw_exact": ",".join(" ".join(normalize(k).split()) for k in keywords),
        "category": str(doc.get("category") or ""),
        "bureau": str(doc.get("bureau") or ""),
        "online": "true" if _flag(doc.get("online")) else "false",
        "popular": "1" if _flag(doc.get("popular")) else "0",
    }
    out.update(pinyin_fields(name, keywords))
    # Whoosh rejects empty ID values for unique/sortable fields poorly; keep
    # them as empty strings (a valid term) and drop empty text fields.
    return {k: v for k, v in out.items() if v != "" or k in {"category", "bureau"}}
