"""Result types returned by :class:`search_index.CatalogIndex`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Alternative", "Hit", "SearchResult", "IndexUnavailable"]


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


@dataclass(frozen=True)
class Alternative:
    """Another search worth offering when one found nothing: its text and how many services it
    finds (under the same filters)."""

    query: str
    total: int


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
    #: When nothing matched: spelling/pinyin corrections ("您是不是要找") and searches with
    #: fewer of the query's words, each finding something (see ``suggest.py``); either may be
    #: empty.
    corrections: list[Alternative] = field(default_factory=list)
    fewer_words: list[Alternative] = field(default_factory=list)
    #: How many services the query finds without the category/bureau/online filters.
    unfiltered_total: int = 0
    #: A friendly note (Chinese) when the query was cleaned or truncated.
    message: str | None = None

    @property
    def suggestions(self) -> list[str]:
        """The corrections' texts (kept for callers that only want the words)."""
        return [a.query for a in self.corrections]
