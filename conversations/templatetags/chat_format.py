import re

from django import template
from django.utils.safestring import mark_safe

from .. import rendering
from ..assistant import formatting
from ..rendering import markdown_html

register = template.Library()
# What a browser could read as another host: "//host", a backslash (it reads "/\host" as "//host"), and the
# tabs, newlines and spaces it drops from a URL ("/<tab>/host" is "//host").
NOT_LOCAL = re.compile(r"^//|[\x00-\x20\x7f\\]")


@register.filter
def markdown(text: str) -> str:
    return mark_safe(markdown_html(text))


@register.filter
def card_chart(card: dict):
    return rendering.card_chart(card)


@register.filter
def value_range(card: dict) -> tuple[float, float] | None:
    return rendering.card_range(card)


# The figures as the answers write them (conversations.assistant.formatting): a signed filter brings its own
# sign and unit, so a template never adds a "+" or a "%" of its own.
register.filter("money", formatting.money)
register.filter("signed_money", formatting.signed_money)
register.filter("big_money", formatting.big_money)
register.filter("number", formatting.number)
register.filter("percent", formatting.percent)
register.filter("signed_percent", formatting.signed_percent)


@register.filter
def as_of(value) -> str:
    """"2026-11-27T13:19:04Z" as "2026-11-27 13:19 UTC"."""
    return formatting.as_of(value)


@register.filter
def data_source(card: dict) -> str:
    return "demo data, not real prices" if card.get("demo") else (card.get("source") or "unknown source")


@register.filter
def local_url(url) -> str:
    """``url`` if it is a path on this site ("/knowledge/3/#passage-2"), else "" (then it is not a link)."""
    if isinstance(url, str) and url.startswith("/") and not NOT_LOCAL.search(url):
        return url
    return ""
