"""Answers as HTML: Markdown rendered, then sanitised (no script from a document, a model or a user gets through),
and the geometry of the cards' inline SVG charts."""

import markdown
import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2",
                "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "hr", "del"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
URL_SCHEMES = {"http", "https", "mailto"}
PALETTE = ("#0b5cad", "#b35900", "#1a7f37", "#8250df", "#cf222e", "#0a7f8c", "#6e7781", "#9a6700")


def markdown_html(text: str) -> str:
    """Markdown to HTML that is safe to put in a page as it is."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists", "fenced_code"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow")


def chart_geometry(card: dict, *, width: int = 320, height: int = 120, pad: int = 6) -> dict | None:
    """SVG paths for a history card's series on one shared scale, plus what the chart's label says."""
    if card.get("type") == "quote":
        card = {"series": [{"symbol": card.get("symbol"), "points": card.get("points") or []}]}
    series = [s for s in card.get("series") or [] if len(s.get("points") or []) >= 2]
    if not series:
        return None
    values = [float(v) for s in series for v in s["points"]]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0

    def y(v: float) -> float:
        return pad + (height - 2 * pad) * (1 - (float(v) - lo) / span)

    lines = []
    for i, s in enumerate(series):
        step = (width - 2 * pad) / (len(s["points"]) - 1)
        path = "M" + " L".join(f"{pad + j * step:.1f},{y(v):.1f}" for j, v in enumerate(s["points"]))
        lines.append({"symbol": s["symbol"], "path": path, "colour": PALETTE[i % len(PALETTE)],
                      "change_percent": s.get("change_percent"), "up": s["points"][-1] >= s["points"][0]})
    zero = y(0) if card.get("growth") and lo <= 0 <= hi else None
    return {"width": width, "height": height, "lines": lines, "min": lo, "max": hi, "zero": zero,
            "growth": bool(card.get("growth"))}
