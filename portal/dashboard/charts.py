"""Geometry of the server-rendered SVG bar charts (templates/dashboard/_charts.html draws them).

No JavaScript and no external assets: the page gets plain inline SVG, and every chart has a
data table next to it for screen readers and for reading exact values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


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


@dataclass(frozen=True)
class Chart:
    kind: str          # "hbar" (one row per item) or "columns"
    width: int
    height: int
    bars: tuple[Bar, ...]
    baseline: tuple[float, float, float, float]
    maximum: float

    @property
    def empty(self) -> bool:
        return not self.bars or self.maximum <= 0


def _shown(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value}{unit}"


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def hbar(items: Sequence[tuple[str, float | None]], *, unit: str = "", width: int = 420, row: int = 30,
         label_width: int = 124, maximum: float | None = None) -> Chart:
    """Horizontal bars, one row per (label, value); for categories with long names (bureaus)."""
    values = [v or 0 for _, v in items]
    top = maximum if maximum is not None else max(values, default=0)
    value_width = 60
    area = width - label_width - value_width - 8
    bars = []
    for i, (label, value) in enumerate(items):
        y = 8 + i * row
        w = (value or 0) / top * area if top else 0
        if value and w < 2:
            w = 2
        x = label_width
        bars.append(Bar(label=_short(label, 8), sublabel="", value=value or 0, shown=_shown(value, unit), x=x,
                        y=y + 5, width=round(w, 1), height=row - 10, label_x=label_width - 8, label_y=y + row / 2 + 5,
                        value_x=round(x + w + 6, 1), value_y=y + row / 2 + 5))
    height = 16 + max(len(items), 1) * row
    return Chart("hbar", width, height, tuple(bars), (label_width, 4, label_width, height - 4), top)


def columns(items: Sequence[tuple[str, str, float | None]], *, unit: str = "", width: int = 420,
            height: int = 220) -> Chart:
    """Vertical columns over time, one per (label, sublabel, value); labels thinned when crowded."""
    n = max(len(items), 1)
    values = [v or 0 for _, _, v in items]
    top = max(values, default=0)
    left, right, head, foot = 8, 8, 22, 44
    plot_h = height - head - foot
    slot = (width - left - right) / n
    bar_w = max(slot * 0.62, 2)
    every = max(1, math.ceil(n / 8))
    bars = []
    for i, (label, sublabel, value) in enumerate(items):
        h = (value or 0) / top * plot_h if top else 0
        if value and h < 2:
            h = 2
        cx = left + slot * i + slot / 2
        bars.append(Bar(label=label, sublabel=sublabel, value=value or 0, shown=_shown(value, unit),
                        x=round(cx - bar_w / 2, 1), y=round(head + plot_h - h, 1), width=round(bar_w, 1),
                        height=round(h, 1), label_x=round(cx, 1), label_y=height - foot + 18, value_x=round(cx, 1),
                        value_y=round(head + plot_h - h - 6, 1), show_label=i % every == 0 or i == n - 1))
    base_y = head + plot_h
    return Chart("columns", width, height, tuple(bars), (left, base_y, width - right, base_y), top)
