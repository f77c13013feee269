from django import template

register = template.Library()
MINUS = "\u2212"  # as the chat writes figures (conversations.assistant.formatting)


def _signed(value: float, text: str) -> str:
    """``text`` (the magnitude, written) with a minus sign for a negative value that does not round to zero."""
    return (MINUS if value < 0 and any(c in "123456789" for c in text) else "") + text


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.1234 -> "12.3%", -0.25 -> "−25.0%" (never "−0.0%"); empty for None."""
    if value is None or value == "":
        return ""
    return _signed(float(value), f"{abs(float(value)) * 100:,.{int(digits)}f}%")


@register.filter
def number(value, digits: int = 2) -> str:
    """-0.234 -> "−0.23" (a minus sign, not a hyphen; never "−0.00"); empty for None."""
    if value is None or value == "":
        return ""
    return _signed(float(value), f"{abs(float(value)):,.{int(digits)}f}")
