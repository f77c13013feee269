"""Time-series charts, described once and drawn twice: as an SVG on the server, which works without JavaScript
(axes with values and dates, a legend, each point's date and value in its ``<title>`` on hover), and as the data
that ``static/stocktool/charts.js`` hands to uPlot (the chart library, served from ``static/vendor/uplot/``):
values on hover in a live legend, the keyboard's arrows, resizing with the page.

The monitoring page, the analysis page and the chat's price cards all draw through :func:`time_chart`; a
template shows one with ``{% load stocktool_charts %}{% chart c %}``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MINUS = "\u2212"  # the minus sign, as every figure on the pages is written
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 60, 14, 10, 26  # the margins hold the axes' labels

When = date | datetime | str
Point = tuple[When, float | None]
Series = tuple[str, Sequence[Point]]


@dataclass(frozen=True)
class Format:
    """How the y values are written: ``number`` (1,234.56), ``percent`` of a fraction (0.12 is 12%),
    ``points`` (a value already in percent: 12 is 12%) or ``money`` (USD as $1,234.56, else "1,234.56 EUR");
    ``unit`` follows a number ("12 ms")."""

    kind: str = "number"
    digits: int = 2
    currency: str = "USD"
    unit: str = ""


def format_value(value: float, fmt: Format, digits: int | None = None) -> str:
    d = fmt.digits if digits is None else digits
    magnitude = abs(value) * (100 if fmt.kind == "percent" else 1)
    text = f"{magnitude:,.{d}f}"
    if fmt.kind in ("percent", "points"):
        text += "%"
    elif fmt.kind == "money":
        text = f"${text}" if fmt.currency in ("", "USD") else f"{text} {fmt.currency}"
    elif fmt.unit:
        text += f" {fmt.unit}"
    return (MINUS if value < 0 and any(c in "123456789" for c in text) else "") + text


def as_datetime(when: When) -> datetime:
    """A date (a trading day: midnight UTC), an aware datetime, or their ISO text, as an aware UTC datetime."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00")) if "T" in when or " " in when \
            else date.fromisoformat(when)
    if isinstance(when, datetime):
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.combine(when, time(), UTC)


def nice_step(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    return next(base * k for k in (1, 2, 2.5, 5, 10) if base * k >= value * (1 - 1e-9))


def nice_range(lo: float, hi: float, *, from_zero: bool = False) -> tuple[float, float, float]:
    """(bottom, top, step) of a readable y axis around [lo, hi] with three to six ticks."""
    if from_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = (hi - lo) or abs(hi) or 1.0
    step = nice_step(span / 4)
    bottom = step * math.floor(lo / step + 1e-9)
    top = step * math.ceil(hi / step - 1e-9)
    return bottom, max(top, bottom + step), step


def _tick_digits(step: float, fmt: Format) -> int:
    """Enough decimals to tell the ticks apart, no more."""
    scaled = step * (100 if fmt.kind == "percent" else 1)
    return next((d for d in range(6) if abs(round(scaled, d) - scaled) < 1e-9 * max(1.0, scaled)), 6)


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString
    data: dict  # for charts.js (the page writes it with json_script)
    legend: list[dict]


def time_chart(title: str, series: Sequence[Series], *, fmt: Format = Format(), start: When | None = None,
               end: When | None = None, from_zero: bool = False, intraday: bool = False,
               css: Sequence[str] | None = None, empty: str = "no data in this window") -> Chart | None:
    """``series`` ((label, [(when, value), ...]), ...) over time. Series with no values are left out (and out of
    the legend); with none left the chart says ``empty`` when a window (``start``, ``end``) is given, else there
    is no chart (None). ``intraday`` writes times rather than dates; ``css`` names each series' class (s0...)."""
    plotted: list[tuple[str, list[tuple[datetime, float]], str]] = []
    for k, (label, points) in enumerate(series):
        kept = [(as_datetime(w), float(v)) for w, v in points if v is not None and math.isfinite(float(v))]
        if kept:
            plotted.append((label, kept, css[k] if css else f"s{len(plotted) % 4}"))
    if not plotted and start is None:
        return None
    times = sorted({t for _, points, _ in plotted for t, _ in points})
    t0 = as_datetime(start) if start is not None else times[0]
    t1 = as_datetime(end) if end is not None else times[-1]
    values = [v for _, points, _ in plotted for _, v in points] or [0.0]
    bottom, top, step = nice_range(min(values), max(values), from_zero=from_zero)
    span = max((t1 - t0).total_seconds(), 1.0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    tick_digits = _tick_digits(step, fmt)
    when_text = _time_writer(intraday, t0, t1)

    def x(t: datetime) -> float:
        return LEFT + inner_w * min(max((t - t0).total_seconds() / span, 0.0), 1.0)

    def y(v: float) -> float:
        return TOP + inner_h * (1 - (v - bottom) / (top - bottom))

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
             f"<title>{escape(title)}</title>"]
    for i in range(round((top - bottom) / step) + 1):
        tick = bottom + i * step
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
                     f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f"{escape(format_value(tick, fmt, tick_digits))}</text>")
    for t, anchor in ((t0, "start"), (t0 + (t1 - t0) / 2, "middle"), (t1, "end")):
        parts.append(f'<text class="axis" x="{x(t):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">'
                     f"{escape(when_text(t))}</text>")
    for label, points, cls in plotted:
        parts.append(f'<g class="{cls}">')
        if len(points) > 1:
            coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
            parts.append(f'<polyline fill="none" points="{coords}"/>')
        parts += [f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2"><title>{escape(label)}, {escape(when_text(t))}: '
                  f"{escape(format_value(v, fmt))}</title></circle>" for t, v in points]
        parts.append("</g>")
    if not plotted:
        parts.append(f'<text class="empty" x="{LEFT + inner_w / 2}" y="{TOP + inner_h / 2}" '
                     f'text-anchor="middle">{escape(empty)}</text>')
    parts.append("</svg>")

    index = {t: i for i, t in enumerate(times)}
    data = {
        "title": title,
        "x": [int(t.timestamp()) for t in times],
        "series": [{"label": label, "css": cls, "values": _aligned(points, index, len(times))}
                   for label, points, cls in plotted],
        "format": asdict(fmt),
        "intraday": intraday,
        "from_zero": from_zero,
        "window": [int(t0.timestamp()), int(t1.timestamp())],
    }
    legend = [{"label": label, "css": cls} for label, _, cls in plotted]
    return Chart(title=title, svg=mark_safe("".join(parts)), data=data, legend=legend)


def _aligned(points: list[tuple[datetime, float]], index: dict[datetime, int], n: int) -> list[float | None]:
    """The series' values on the chart's shared times (None where it has no value: a gap)."""
    values: list[float | None] = [None] * n
    for t, v in points:
        values[index[t]] = v
    return values


def _time_writer(intraday: bool, t0: datetime, t1: datetime):
    if not intraday:
        return lambda t: f"{t.day} {t:%b %Y}"
    if (t1 - t0).total_seconds() > 86_400 * 0.75:
        return lambda t: f"{t.day} {t:%b %H:%M} UTC"
    return lambda t: f"{t:%H:%M} UTC"
