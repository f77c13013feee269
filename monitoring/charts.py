"""Line charts as inline SVG, drawn on the server: no JavaScript, no CDN."""

import math
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 52, 8, 10, 24  # plot margins (axis labels live there)

Series = tuple[str, list[tuple[datetime, float]]]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (a readable axis top)."""
    if value <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    return next(base * step for step in (1, 2, 2.5, 5, 10) if base * step >= value * (1 - 1e-9))


def _label(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def line_chart(title: str, series: list[Series], *, start: datetime, end: datetime, unit: str = "") -> SafeString:
    """An SVG of ``series`` (label, points) between ``start`` and ``end``, y from zero."""
    plotted = [(label, points) for label, points in series if points]
    top = nice_ceiling(max((v for _, points in plotted for _, v in points), default=0))
    span = max((end - start).total_seconds(), 1)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(ts: datetime) -> float:
        return LEFT + inner_w * min(max((ts - start).total_seconds() / span, 0), 1)

    def y(value: float) -> float:
        return TOP + inner_h * (1 - min(max(value / top, 0), 1))

    parts = [
        (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
         f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>')
    ]
    for fraction in (0, 0.5, 1):
        gy = TOP + inner_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end">'
                     f'{escape(_label(top * fraction))}</text>')
    for ts, anchor in ((start, "start"), (start + (end - start) / 2, "middle"), (end, "end")):
        parts.append(f'<text class="axis" x="{x(ts):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                     f'{ts:%H:%M}</text>')
    for i, (label, points) in enumerate(plotted):
        coords = " ".join(f"{x(ts):.1f},{y(v):.1f}" for ts, v in points)
        parts.append(f'<g class="s{i % 4}"><title>{escape(label)}</title>')
        if len(points) > 1:
            parts.append(f'<polyline fill="none" points="{coords}"/>')
        parts += [f'<circle cx="{x(ts):.1f}" cy="{y(v):.1f}" r="2"/>' for ts, v in points]
        parts.append("</g>")
    if not plotted:
        parts.append(f'<text class="empty" x="{LEFT + inner_w / 2}" y="{TOP + inner_h / 2}" '
                     'text-anchor="middle">no data in this window</text>')
    if unit:
        parts.append(f'<text class="axis" x="4" y="{TOP + 4}">{escape(unit)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def legend(series: list[Series]) -> list[dict]:
    """Legend entries in the charts' colour order (only series with data are drawn)."""
    plotted = [label for label, points in series if points]
    return [{"label": label, "css": f"s{i % 4}"} for i, label in enumerate(plotted)]
