"""Geometry of the server-rendered SVG bar charts (templates/dashboard/_macros.html draws them).

No JavaScript and no external assets: the page gets plain inline SVG, and every chart has a
data table next to it for screen readers and for reading exact values.

Labels are never cut and never overlap: a horizontal bar's name sits on its own line above the
bar (wrapped onto a second line when it is wider than the chart), and the labels under columns
are thinned to every n-th column so that each shown label has room for its estimated width
(counted from the first January, which keeps its year). Widths are estimated in SVG units from
the font size (a CJK character is one em, a digit or Latin letter about 0.62 em).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

LABEL_SIZE = 14     # .chart-svg .chart-label font size (portal.css), in SVG units
VALUE_SIZE = 13     # .chart-value
SUBLABEL_SIZE = 12  # .chart-sublabel
GAP = 8             # least space between two labels


@dataclass(frozen=True)
class Bar:
    label: str
    sublabel: str
    value: float
    shown: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    value_x: float
    value_y: float
    show_label: bool = True
    lines: tuple[str, ...] = ()    # the label's lines (hbar), each drawn LINE apart
    show_value: bool = True
    show_sublabel: bool = True


@dataclass(frozen=True)
class Chart:
    kind: str          # "hbar" (one row per item) or "columns"
    width: int
    height: int
    bars: tuple[Bar, ...]
    baseline: tuple[float, float, float, float]
    maximum: float
    line: int = 18     # distance between the lines of a wrapped label

    @property
    def empty(self) -> bool:
        return not self.bars or self.maximum <= 0


def text_width(text: str, size: float = LABEL_SIZE) -> float:
    """Estimated width of `text` drawn at `size`: one em a CJK character, 0.62 em the rest."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.62 for ch in text)


def wrap(text: str, room: float, size: float = LABEL_SIZE) -> tuple[str, ...]:
    """`text` broken into lines no wider than `room` (by characters; names have no spaces)."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and text_width(current + ch, size) > room:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current or not lines:
        lines.append(current)
    return tuple(lines)


def _shown(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value}{unit}"


def hbar(items: Sequence[tuple[str, float | None]], *, unit: str = "", width: int = 420, bar: int = 18,
         maximum: float | None = None) -> Chart:
    """Horizontal bars, one per (label, value), each under its full label; for long names (bureaus)."""
    values = [v or 0 for _, v in items]
    top = maximum if maximum is not None else max(values, default=0)
    left, line = 4, 18
    value_width = max([text_width(_shown(v, unit), VALUE_SIZE) for _, v in items] or [0]) + 10
    area = width - left - value_width - 4
    bars = []
    y = 4.0
    for label, value in items:
        lines = wrap(label, width - 2 * left)
        label_y = y + LABEL_SIZE
        bar_y = y + line * len(lines) + 2
        w = (value or 0) / top * area if top else 0
        if value and w < 2:
            w = 2
        bars.append(Bar(label=label, sublabel="", value=value or 0, shown=_shown(value, unit), x=left,
                        y=round(bar_y, 1), width=round(w, 1), height=bar, label_x=left, label_y=round(label_y, 1),
                        value_x=round(left + w + 6, 1), value_y=round(bar_y + bar - 4, 1), lines=lines))
        y = bar_y + bar + 10
    height = int(math.ceil(max(y, 40) + 4))
    return Chart("hbar", width, height, tuple(bars), (left, 2, left, height - 2), top, line)


def label_step(labels: Sequence[str], slot: float, size: float = LABEL_SIZE) -> int:
    """Show every n-th label: the least n for which the widest label fits n slots with a gap."""
    widest = max((text_width(label, size) for label in labels), default=0)
    return max(1, math.ceil((widest + GAP) / slot)) if slot > 0 else 1


def columns(items: Sequence[tuple[str, str, float | None]], *, unit: str = "", width: int = 420,
            height: int = 220) -> Chart:
    """Vertical columns over time, one per (label, sublabel, value): labels thinned so that they
    never overlap, values shown where they fit."""
    n = max(len(items), 1)
    values = [v or 0 for _, _, v in items]
    top = max(values, default=0)
    left, right, head, foot = 8, 8, 22, 44
    plot_h = height - head - foot
    slot = (width - left - right) / n
    bar_w = max(slot * 0.62, 2)
    every = label_step([label for label, _, _ in items], slot)
    # Labels every `every` columns, counted from the first column that starts a year (so a
    # January always carries its month and year), else from the first column.
    anchor = next((i for i, (_, sub, _) in enumerate(items) if sub and i > 0), 0) % every
    labelled = {i for i in range(len(items)) if (i - anchor) % every == 0}
    # A sublabel (the year) is shown under a labelled column unless it would touch the next one.
    sub_at = [i for i, (_, sub, _) in enumerate(items) if sub and i in labelled]
    keep_sub: set[int] = set()
    for pos, i in enumerate(sub_at):
        nxt = sub_at[pos + 1] if pos + 1 < len(sub_at) else None
        room = (nxt - i) * slot if nxt is not None else math.inf
        if room >= text_width(items[i][1], SUBLABEL_SIZE) + GAP:
            keep_sub.add(i)
    bars = []
    for i, (label, sublabel, value) in enumerate(items):
        h = (value or 0) / top * plot_h if top else 0
        if value and h < 2:
            h = 2
        cx = left + slot * i + slot / 2
        shown = _shown(value, unit)
        bars.append(Bar(label=label, sublabel=sublabel, value=value or 0, shown=shown,
                        x=round(cx - bar_w / 2, 1), y=round(head + plot_h - h, 1), width=round(bar_w, 1),
                        height=round(h, 1), label_x=round(cx, 1), label_y=height - foot + 18, value_x=round(cx, 1),
                        value_y=round(head + plot_h - h - 6, 1), show_label=i in labelled,
                        show_value=bool(value) and text_width(shown, VALUE_SIZE) + 2 <= slot,
                        show_sublabel=i in keep_sub))
    base_y = head + plot_h
    return Chart("columns", width, height, tuple(bars), (left, base_y, width - right, base_y), top)
