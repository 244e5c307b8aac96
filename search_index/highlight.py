"""HTML highlighting of matched words with ``<mark>``.

Everything that is not markup we add is escaped with :func:`html.escape`, so
the output is safe to insert as ``Markup`` (a service called
"<script>…" comes out as "&lt;script&gt;…").
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from .analysis import normalize_with_map
from .pinyin import char_syllables

__all__ = ["SNIPPET_CHARS", "highlight_html", "best_snippet", "pinyin_spans"]

Span = tuple[int, int]

#: Longest snippet (in characters of the source text) before it is cut.
SNIPPET_CHARS = 120
_ELLIPSIS = "…"


def _find_spans(norm: str, needles: Iterable[str]) -> list[Span]:
    """Every occurrence of every needle in *norm* (normalised text)."""
    spans: list[Span] = []
    for needle in needles:
        if not needle:
            continue
        start = norm.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle)))
            start = norm.find(needle, start + 1)
    return spans


def _merge(spans: list[Span]) -> list[Span]:
    """Merge overlapping and touching spans."""
    merged: list[Span] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def pinyin_spans(
    norm: str, sequences: Sequence[tuple[list[str], str]], initials: Sequence[str]
) -> list[Span]:
    """Spans of *norm* whose characters spell a typed pinyin sequence or
    initials string (so "dibang" highlights 地磅 in the name)."""
    if not sequences and not initials:
        return []
    chars = char_syllables(norm)
    if not chars:
        return []
    sylls = [s for _i, s in chars]
    spans: list[Span] = []
    n = len(chars)
    for seq, partial in sequences:
        want = len(seq) + (1 if partial else 0)
        if not want:
            continue
        for i in range(n - want + 1):
            if sylls[i : i + len(seq)] != seq:
                continue
            if partial and not sylls[i + len(seq)].startswith(partial):
                continue
            idx = [chars[j][0] for j in range(i, i + want)]
            if idx[-1] - idx[0] == want - 1:  # contiguous characters only
                spans.append((idx[0], idx[-1] + 1))
    letters = "".join(s[0] for s in sylls)
    for ini in initials:
        if len(ini) < 2:
            continue
        start = letters.find(ini)
        while start >= 0:
            idx = [chars[j][0] for j in range(start, start + len(ini))]
            if idx[-1] - idx[0] == len(ini) - 1:
                spans.append((idx[0], idx[-1] + 1))
            start = letters.find(ini, start + 1)
    return spans


def _render(text: str, spans: list[Span], offsets: list[int] | None, lo: int, hi: int) -> str:
    """Escape text[lo:hi] wrapping the (normalised) spans in <mark>."""
    out: list[str] = []
    pos = lo
    for s, e in spans:
        if offsets is not None:
            s, e = offsets[s], offsets[e]
        s, e = max(s, lo), min(e, hi)
        if e <= s or s < pos:
            continue
        out.append(html.escape(text[pos:s]))
        out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:hi]))
    return "".join(out)


def _spans(
    text: str,
    needles: Iterable[str],
    pinyin: Sequence[tuple[list[str], str]] = (),
    initials: Sequence[str] = (),
) -> tuple[list[Span], list[int] | None]:
    """Merged match spans of *text* (in normalised offsets) and the offset map."""
    norm, offsets = normalize_with_map(text)
    spans = _find_spans(norm, needles)
    if pinyin or initials:
        spans += pinyin_spans(norm, pinyin, initials)
    return _merge(spans), offsets


def _window(
    text: str, spans: list[Span], offsets: list[int] | None, max_chars: int | None
) -> str:
    """Render *text* (or a window of *max_chars* around the first match)."""
    lo, hi = 0, len(text)
    if max_chars is not None and len(text) > max_chars:
        first = spans[0][0] if spans else 0
        if offsets is not None and spans:
            first = offsets[first]
        lo = max(0, min(first - max_chars // 4, len(text) - max_chars))
        hi = lo + max_chars
    body = _render(text, spans, offsets, lo, hi)
    if lo > 0:
        body = _ELLIPSIS + body
    if hi < len(text):
        body += _ELLIPSIS
    return body


def highlight_html(
    text: str,
    needles: Iterable[str],
    *,
    pinyin: Sequence[tuple[list[str], str]] = (),
    initials: Sequence[str] = (),
    max_chars: int | None = None,
) -> tuple[str, int]:
    """Return ``(html, marked_chars)`` for *text*.

    With *max_chars*, a window of that many characters around the first
    match is shown, with "…" where text was cut."""
    if not text:
        return "", 0
    spans, offsets = _spans(text, needles, pinyin, initials)
    return _window(text, spans, offsets, max_chars), sum(e - s for s, e in spans)


def best_snippet(texts: Sequence[str], needles: Iterable[str]) -> str:
    """The snippet for a hit: the first text (the summary) if it contains a
    match, otherwise the text with the most matched characters, otherwise
    the summary without marks.  Only the chosen text is rendered."""
    needles = list(needles)
    best: tuple[int, str, list[Span], list[int] | None] | None = None
    for i, text in enumerate(texts):
        if not text:
            continue
        if i > 0 and not needles:
            break
        spans, offsets = _spans(text, needles)
        marked = sum(e - s for s, e in spans)
        if i == 0 and (marked or not needles):
            return _window(text, spans, offsets, SNIPPET_CHARS)
        if best is None or marked > best[0]:
            best = (marked, text, spans, offsets)
    if best is None:
        return ""
    if not best[0] and texts and texts[0]:
        return _window(texts[0], [], None, SNIPPET_CHARS)  # nothing matched: the summary
    return _window(best[1], best[2], best[3], SNIPPET_CHARS)
