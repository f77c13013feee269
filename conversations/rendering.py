"""Answers as HTML: Markdown rendered, then sanitised (no script from a document, a model or a user gets through),
and the cards' charts."""

import markdown
import nh3

from stocktool.charts import Chart, Format, time_chart

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2",
                "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "hr", "del"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> str:
    """Markdown to HTML that is safe to put in a page as it is."""
    html = markdown.markdown(text or "", extensions=["tables", "sane_lists", "fenced_code"], output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow")


def card_chart(card: dict) -> Chart | None:
    """A quote's last month of closes, or a history card's series (closes, or the change in % for several stocks
    on one axis), as a chart with dates; None for a card without dated points (those stored before they had
    dates: the card's text still says what happened)."""
    if card.get("type") == "quote":
        series = [{"symbol": card.get("symbol"), "points": card.get("points") or [],
                   "dates": card.get("point_dates") or []}]
    else:
        series = card.get("series") or []
    series = [s for s in series if len(s.get("points") or []) >= 2 and len(s.get("dates") or []) == len(s["points"])]
    if not series:
        return None
    growth = bool(card.get("growth"))
    if len(series) == 1:
        css = ["s-up" if series[0]["points"][-1] >= series[0]["points"][0] else "s-down"]
    else:
        css = [f"s{i % 8}" for i in range(len(series))]
    symbols = ", ".join(str(s["symbol"]) for s in series)
    first, last = series[0]["dates"][0], series[0]["dates"][-1]
    what = "change since the start" if growth else "closing prices"
    return time_chart(f"{symbols}: {what}, {first} to {last}",
                      [(str(s["symbol"]), list(zip(s["dates"], s["points"]))) for s in series],
                      fmt=Format("points", 1) if growth else Format("money", 2, currency=card.get("currency") or "USD"),
                      css=css)


def card_range(card: dict) -> tuple[float, float] | None:
    """The lowest and highest value a card charts."""
    series = card.get("series") or [{"points": card.get("points") or []}]
    values = [float(v) for s in series for v in s.get("points") or []]
    return (min(values), max(values)) if values else None
