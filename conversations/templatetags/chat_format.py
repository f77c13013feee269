from django import template
from django.utils.safestring import mark_safe

from ..assistant import formatting
from ..rendering import chart_geometry, markdown_html

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    return mark_safe(markdown_html(text))


@register.filter
def chart(card: dict) -> dict | None:
    return chart_geometry(card)


@register.filter
def signed(value) -> str:
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else '−' if value < 0 else ''}{abs(float(value)):.2f}"


@register.filter
def as_of(value) -> str:
    """"2026-11-27T13:19:04Z" as "2026-11-27 13:19 UTC"."""
    return formatting.as_of(value)


@register.filter
def data_source(card: dict) -> str:
    return "demo data, not real prices" if card.get("demo") else (card.get("source") or "unknown source")
