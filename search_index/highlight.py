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

__all__ = ["SNIPPET_CHARS", "GUIDE_SECTIONS", "highlight_html", "pinyin_spans", "guide_units",
           "service_snippet"]

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


#: The parts of a guide a snippet may quote (code in the stored ``guide`` field -> label).
#: Legal bases, bureau and category names, keywords and pinyin are searched but never quoted:
#: they are lists of titles or words, not sentences.
GUIDE_SECTIONS: dict[str, str] = {"c": "受理条件", "p": "办理流程", "m": "申请材料"}
_SENTENCE_END = "。；！？!?;"
_CLAUSE_END = "，、：,:"
_OPEN, _CLOSE = "《（(【“", "》）)】”"
_LIST_SEPARATORS = "、；;，, "


def _depths(text: str) -> list[int]:
    """Bracket depth before each position of *text* (0 = outside every 《》（）【】“”)."""
    depth, out = 0, []
    for ch in text:
        out.append(depth)
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
    out.append(depth)
    return out


def _safe(text: str, depths: list[int], p: int) -> bool:
    """May *text* be cut at position *p*? Never inside brackets, never inside a list of 《》
    titles ("《A》；《B》"): the nearest non-separator characters may not be 》 and 《."""
    if p <= 0 or p >= len(text):
        return True
    if depths[p]:
        return False
    before = text[:p].rstrip(_LIST_SEPARATORS)
    after = text[p:].lstrip(_LIST_SEPARATORS)
    return not (before.endswith("》") and after.startswith("《"))


def _cuts(text: str, depths: list[int], ends: str) -> list[int]:
    """Safe positions just after one of *ends*."""
    return [i + 1 for i, ch in enumerate(text) if ch in ends and _safe(text, depths, i + 1)]


def _clip(text: str, first: int, limit: int) -> tuple[int, int] | None:
    """A window ``(lo, hi)`` of at most *limit* characters holding position *first*, starting
    at a sentence (or clause) start and ending at a sentence or clause end; None when the
    text cannot be cut there without breaking a bracket or a list of 《》 titles."""
    if len(text) <= limit:
        return 0, len(text)
    depths = _depths(text)
    sentences = [0] + _cuts(text, depths, _SENTENCE_END)
    clauses = sorted(set(sentences + _cuts(text, depths, _CLAUSE_END)))
    lo = max([p for p in sentences if p <= first] or [0])
    if first - lo > limit // 2:  # deep inside a long sentence: start at a clause
        lo = max([p for p in clauses if p <= first] or [lo])
    ends = [p for p in sentences if lo < p <= lo + limit] or [p for p in clauses if lo < p <= lo + limit]
    if ends:
        return lo, max(ends)
    return None


def _excerpt(text: str, spans: list[Span], offsets: list[int] | None, limit: int) -> str | None:
    """*text* whole, or a sentence-aligned window around its first match (None: no safe cut)."""
    first = 0
    if spans:
        first = offsets[spans[0][0]] if offsets is not None else spans[0][0]
    window = _clip(text, first, limit)
    if window is None:
        return None
    lo, hi = window
    body = _render(text, spans, offsets, lo, hi)
    return (_ELLIPSIS if lo > 0 else "") + body + (_ELLIPSIS if hi < len(text) else "")


def _start_of(text: str, spans: list[Span], offsets: list[int] | None, limit: int) -> str:
    """The beginning of *text* (whole sentences where possible), marks kept."""
    out = _excerpt(text, [s for s in spans if s[0] < limit], offsets, limit)
    if out is not None:
        return out
    hi = limit
    depths = _depths(text)
    while hi > limit // 2 and not _safe(text, depths, hi):
        hi -= 1
    return _render(text, spans, offsets, 0, hi) + _ELLIPSIS


def guide_units(guide: str) -> list[tuple[str, str]]:
    """The quotable units of a stored guide: ``(label, sentence)`` -- each condition sentence,
    each process step and each material, in that order."""
    units: list[tuple[str, str]] = []
    by_section: dict[str, list[str]] = {code: [] for code in GUIDE_SECTIONS}
    for line in guide.split("\n"):
        code, _tab, text = line.partition("\t")
        text = text.strip()
        if code in by_section and text:
            if code == "c":
                depths = _depths(text)
                cuts = [0] + _cuts(text, depths, _SENTENCE_END) + [len(text)]
                by_section[code] += [text[a:b].strip() for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]
            else:
                by_section[code].append(text)
    for code, texts in by_section.items():  # a unit quoted alone ends as a sentence, not with "；"
        by_section[code] = [t[:-1] + "。" if t[-1] in "；;，," else t for t in texts]
    for code, label in GUIDE_SECTIONS.items():
        units += [(label, text) for text in by_section[code]]
    return units


def service_snippet(summary: str, guide: str, needles: Iterable[str], limit: int = SNIPPET_CHARS) -> str:
    """The readable excerpt shown under a hit's name.

    The service's description (summary) when it holds a match -- whole, or the sentences around
    the first match; otherwise the condition sentence, process step or material that matches
    best, labelled ("申请材料：…"); otherwise the start of the description. Keywords and pinyin
    are never quoted, and no excerpt starts or ends inside brackets or a list of 《》 titles."""
    needles = [n for n in needles if n]
    spans, offsets = _spans(summary, needles) if summary else ([], None)
    if spans or not needles:
        out = _excerpt(summary, spans, offsets, limit) if summary else ""
        if out is not None:
            return out
    # A guide sentence is quoted only for a real match: a whole word of the query (not a piece of
    # a longer one), and for a material -- a document title -- three characters or more.
    whole = min(3, max((len(n) for n in needles), default=0))
    best: tuple[int, str, str, list[Span], list[int] | None] | None = None
    for label, text in guide_units(guide):
        uspans, uoffsets = _spans(text, needles)
        longest = max((e - s for s, e in uspans), default=0)
        if longest < (3 if label == GUIDE_SECTIONS["m"] else whole):
            continue
        marked = sum(e - s for s, e in uspans)
        if best is None or marked > best[0]:
            best = (marked, label, text, uspans, uoffsets)
    if best is not None:
        _marked, label, text, uspans, uoffsets = best
        out = _excerpt(text, uspans, uoffsets, limit - len(label) - 1)
        if out is not None:
            return html.escape(label) + "：" + out
    if not summary:
        return ""
    return _start_of(summary, spans, offsets, limit)
