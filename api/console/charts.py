"""Chart geometry for server-rendered SVG (the console's CSP allows no inline scripts).

Each row's label sits above its bar, wrapped onto more lines when long, so nothing is clipped
when the SVG scales down to a phone's width (it scales with its viewBox); the bar then has the
whole width, and its value follows its end.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

CHART_WIDTH = 400
VALUE_SPACE = 56  # right of the longest bar, for its value
BAR_HEIGHT = 22
LINE_HEIGHT = 18  # one line of label text (15 px type)
LABEL_GAP = 4  # between a label and its bar
ROW_GAP = 14  # between one bar and the next label
WRAP_CHARS = 40  # about the width of the chart in 15 px Arial
SPAN = CHART_WIDTH - VALUE_SPACE


@dataclass(frozen=True)
class Row:
    label: str
    lines: list[tuple[str, int]]  # (text, baseline y) of the wrapped label
    bar_y: int


def _rows(labels: list[str]) -> tuple[list[Row], int]:
    """Where each label's lines and bar go, and the chart's height."""
    rows, y = [], 0
    for label in labels:
        wrapped = textwrap.wrap(label, WRAP_CHARS) or [""]
        lines = [(text, y + (i + 1) * LINE_HEIGHT - 4) for i, text in enumerate(wrapped)]
        bar_y = y + len(wrapped) * LINE_HEIGHT + LABEL_GAP
        rows.append(Row(label, lines, bar_y))
        y = bar_y + BAR_HEIGHT + ROW_GAP
    return rows, max(y - ROW_GAP, 1)


@dataclass(frozen=True)
class Bar:
    label: str
    lines: list[tuple[str, int]]
    value: int
    y: int  # the bar's top
    width: float  # in px, proportional to the largest value
    css: str


def horizontal_bars(items: list[tuple[str, int]], css: str = "bar") -> dict:
    """Bars for (label, value) pairs, scaled to the largest value."""
    largest = max((v for _, v in items), default=0) or 1
    rows, height = _rows([label for label, _ in items])
    bars = [Bar(row.label, row.lines, value, row.bar_y, SPAN * value / largest, css)
            for row, (_, value) in zip(rows, items, strict=True)]
    return {"bars": bars, "height": height, "width": CHART_WIDTH, "bar_height": BAR_HEIGHT}


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    value: int
    css: str


def stacked_bars(rows: list[tuple[str, list[tuple[int, str]]]]) -> dict:
    """One stacked bar per row: [(label, [(value, css class), ...])], scaled to the largest
    total."""
    largest = max((sum(v for v, _ in parts) for _, parts in rows), default=0) or 1
    layout, height = _rows([label for label, _ in rows])
    out = []
    for row, (_, parts) in zip(layout, rows, strict=True):
        x, segments = 0.0, []
        for value, css in parts:
            width = SPAN * value / largest
            segments.append(Segment(x, width, value, css))
            x += width
        out.append({"label": row.label, "lines": row.lines, "y": row.bar_y,
                    "segments": segments, "total": sum(v for v, _ in parts), "end": x})
    return {"rows": out, "height": height, "width": CHART_WIDTH, "bar_height": BAR_HEIGHT}
