"""Server-side SVG bar charts: no JavaScript, no inline style (the console's CSP).

Each chart is an ``<svg role="img">`` labelled by its own ``<title>``; the page puts a data
table beside it, which is what a screen reader reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 560
LABEL_WIDTH = 200
VALUE_WIDTH = 70
ROW = 26
BAR = 18


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: no data (drawn as an empty row with a dash)
    text: str  # the value as shown


def bar_chart(
    chart_id: str, title: str, bars: Sequence[Bar], *, maximum: float | None = None
) -> Markup:
    """A horizontal bar chart with a text label and value on every bar."""
    top = max((b.value for b in bars if b.value is not None), default=0.0)
    scale_max = maximum if maximum is not None else top
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(ROW, ROW * len(bars)) + 8
    title_id = f"{chart_id}-title"
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(title_id)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="0" x2="{LABEL_WIDTH}" y2="{height - 4}"/>',
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        length = 0.0
        if bar.value is not None and scale_max > 0:
            length = max(0.0, min(1.0, bar.value / scale_max)) * span
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{y + BAR - 4}" '
            f'text-anchor="end">{escape(bar.label)}</text>'
        )
        if length > 0:
            parts.append(
                f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR}"/>'
            )
        parts.append(
            f'<text class="value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + BAR - 4}">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
