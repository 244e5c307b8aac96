"""Result types returned by :class:`search_index.CatalogIndex`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Hit", "SearchResult", "IndexUnavailable"]


class IndexUnavailable(Exception):
    """The index is missing or unreadable and cannot be rebuilt (no docs
    provider was given, or rebuilding failed)."""


@dataclass
class Hit:
    """One matching service on the requested page."""

    code: str
    score: float
    #: The service name, HTML-escaped, matched words wrapped in <mark>.
    name_html: str
    #: An excerpt (summary, or the best-matching text), escaped and marked.
    snippet_html: str


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    pages: int
    hits: list[Hit] = field(default_factory=list)
    #: {"category": {code: n}, "bureau": {code: n}, "online": {"true": n, "false": n}}.
    #: Each facet counts the query's matches under the *other* facets' filters
    #: (so a selected category still shows its sibling categories' counts).
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: "Did you mean" terms when nothing matched (never empty if the index has docs).
    suggestions: list[str] = field(default_factory=list)
    #: A friendly note (Chinese) when the query was cleaned or truncated.
    message: str | None = None
