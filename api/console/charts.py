"""Chart geometry for server-rendered SVG (the console's CSP allows no inline scripts)."""

from __future__ import annotations

from dataclasses import dataclass

BAR_HEIGHT = 28
BAR_GAP = 10
LABEL_WIDTH = 210
CHART_WIDTH = 720


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float  # in px, proportional to the largest value
    css: str


def horizontal_bars(items: list[tuple[str, int]], css: str = "bar") -> dict:
    """Bars for (label, value) pairs, scaled to the largest value."""
    largest = max((v for _, v in items), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 80
    bars = [Bar(label, value, i * (BAR_HEIGHT + BAR_GAP), span * value / largest, css)
            for i, (label, value) in enumerate(items)]
    return {"bars": bars, "height": len(bars) * (BAR_HEIGHT + BAR_GAP), "width": CHART_WIDTH,
            "label_width": LABEL_WIDTH, "bar_height": BAR_HEIGHT}


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    value: int
    css: str


def stacked_bars(rows: list[tuple[str, list[tuple[int, str]]]]) -> dict:
    """One stacked bar per row: [(label, [(value, css class), ...])], scaled to the largest total."""
    largest = max((sum(v for v, _ in parts) for _, parts in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 80
    out = []
    for i, (label, parts) in enumerate(rows):
        x, segments = float(LABEL_WIDTH), []
        for value, css in parts:
            width = span * value / largest
            segments.append(Segment(x, width, value, css))
            x += width
        out.append({"label": label, "y": i * (BAR_HEIGHT + BAR_GAP), "segments": segments,
                    "total": sum(v for v, _ in parts), "end": x})
    return {"rows": out, "height": len(out) * (BAR_HEIGHT + BAR_GAP), "width": CHART_WIDTH,
            "label_width": LABEL_WIDTH, "bar_height": BAR_HEIGHT}
