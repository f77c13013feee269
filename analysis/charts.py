"""Server-side SVG charts (no JavaScript, nothing from a CDN): axes with values and dates, a legend, and each
point's value shown on hover (an SVG <title>)."""

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .templatetags.analysis_format import number, percent


def line_chart(points: list[list], *, width: int = 640, height: int = 200, pad: int = 8) -> dict | None:
    """Return the SVG path and labels of a line through ``points`` ([[label, value], ...])."""
    values = [float(v) for _, v in points if v is not None]
    if len(values) < 2:
        return None
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / (len(values) - 1)
    coords = [
        (pad + i * step, pad + (height - 2 * pad) * (1 - (v - lo) / span)) for i, v in enumerate(values)
    ]
    path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    return {"path": path, "width": width, "height": height, "min": lo, "max": hi,
            "first": points[0][0], "last": points[-1][0], "up": values[-1] >= values[0]}


def heat_colour(value: float) -> str:
    """A colour for a correlation in [-1, 1]: blue for negative, red for positive."""
    v = max(-1.0, min(1.0, float(value)))
    if v >= 0:
        return f"rgba(200, 40, 40, {0.12 + 0.6 * v:.2f})"
    return f"rgba(40, 90, 200, {0.12 + 0.6 * -v:.2f})"


WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 10, 26


def _nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    base = 10.0 ** math.floor(math.log10(value))
    return next(base * k for k in (1, 2, 2.5, 5, 10) if base * k >= value * (1 - 1e-9))


def _nice_range(lo: float, hi: float) -> tuple[float, float, float]:
    """(bottom, top, step) of a readable y axis around [lo, hi] with three to six ticks."""
    span = (hi - lo) or abs(hi) or 1.0
    step = _nice_step(span / 4)
    bottom = step * (lo // step)
    top = step * -(-hi // step)
    return bottom, max(top, bottom + step), step


def _value(value: float, as_percent: bool) -> str:
    return percent(value, 0) if as_percent else number(value, 2)  # a minus sign, as the page writes figures


def series_chart(title: str, series: list[tuple[str, list[list]]], *, as_percent: bool = False) -> SafeString | None:
    """An SVG of one or more series of [date, value] points on shared dates: y axis with values, x axis with the
    first, middle and last dates, a line per series and its points, each point's date and value on hover."""
    plotted = [(label, [(d, float(v)) for d, v in points if v is not None]) for label, points in series if points]
    plotted = [(label, points) for label, points in plotted if len(points) >= 2]
    if not plotted:
        return None
    values = [v for _, points in plotted for _, v in points]
    bottom, top, step = _nice_range(min(values), max(values))
    dates = plotted[0][1]
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i: int, n: int) -> float:
        return LEFT + inner_w * i / max(n - 1, 1)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - (v - bottom) / (top - bottom))

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>"]
    tick = bottom
    while tick <= top + step / 2:
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f"{escape(_value(tick, as_percent))}</text>")
        tick += step
    n = len(dates)
    for i, anchor in ((0, "start"), (n // 2, "middle"), (n - 1, "end")):
        parts.append(f'<text class="axis" x="{x(i, n):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                     f"{escape(dates[i][0])}</text>")
    for k, (label, points) in enumerate(plotted):
        coords = " ".join(f"{x(i, len(points)):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        parts.append(f'<g class="s{k % 4}"><polyline fill="none" points="{coords}"/>')
        parts += [f'<circle cx="{x(i, len(points)):.1f}" cy="{y(v):.1f}" r="1.8">'
                  f"<title>{escape(label)}, {escape(d)}: {escape(_value(v, as_percent))}</title></circle>"
                  for i, (d, v) in enumerate(points)]
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))


def chart_legend(series: list[tuple[str, list]]) -> list[dict]:
    return [{"label": label, "css": f"s{k % 4}"} for k, (label, points) in enumerate(s for s in series if s[1])]
