"""Numbers, dates and source lines as the answers write them (Markdown)."""

import math
import re

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
MINUS = "\u2212"  # the minus sign, not a hyphen: every negative figure on the page uses it
UNITS = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _number(value) -> float | None:
    """``value`` as a float; None when it is missing or not a finite number (shown as "n/a")."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _sign(number: float, digits: str, *, plus: bool = False) -> str:
    # Decided on the digits shown, so a figure that rounds to zero has no sign ("0.00%", never "-0.00%").
    if not any(c in "123456789" for c in digits):
        return ""
    return MINUS if number < 0 else "+" if plus else ""


def _amount(number: float) -> str:
    """|number| with thousands separators and cents; under one unit (a penny stock) up to four decimals."""
    digits = f"{abs(number):,.2f}"
    fine = f"{abs(number):.4f}".rstrip("0")
    return fine if abs(number) < 1 and len(fine.split(".")[1]) > 2 else digits


def _money(value, currency: str | None, *, plus: bool) -> str:
    number = _number(value)
    if number is None:
        return "n/a"
    digits = _amount(number)
    symbol = CURRENCY_SIGNS.get(currency or "USD")
    body = f"{symbol}{digits}" if symbol else f"{digits} {currency}"
    return _sign(number, digits, plus=plus) + body


def money(value, currency: str | None = "USD") -> str:
    """"$1,234.56", "−$0.10", "12.50 CHF"; "n/a" for None."""
    return _money(value, currency, plus=False)


def signed_money(value, currency: str | None = "USD") -> str:
    """"+$1.50", "−$1.50", "$0.00"."""
    return _money(value, currency, plus=True)


def _scaled(number: float) -> tuple[float, str]:
    """``number`` in the largest unit it reaches ("1.20", "billion"); a unit up if it would read 1,000.00."""
    for i, (size, word) in enumerate(UNITS):
        if abs(number) >= size:
            if i and round(abs(number) / size, 2) >= 1000:
                size, word = UNITS[i - 1]
            return number / size, word
    return number, ""


def big_money(value, currency: str | None = "USD") -> str:
    """"$1.20 billion", "$3.45 trillion"; under a million as money()."""
    number = _number(value)
    if number is None:
        return "n/a"
    scaled, word = _scaled(number)
    return f"{money(scaled, currency)} {word}" if word else money(number, currency)


def big_number(value) -> str:
    """"15.00 billion", "2.50 million", "12,345"."""
    number = _number(value)
    if number is None:
        return "n/a"
    scaled, word = _scaled(number)
    digits = f"{abs(scaled):,.2f}" if word else f"{abs(number):,.0f}"
    return _sign(number, digits) + digits + (f" {word}" if word else "")


def number(value) -> str:
    """"1,234.56", "−0.50": a figure without a unit."""
    n = _number(value)
    if n is None:
        return "n/a"
    digits = f"{abs(n):,.2f}"
    return _sign(n, digits) + digits


def _percent(value, *, plus: bool) -> str:
    number = _number(value)
    if number is None:
        return "n/a"
    digits = f"{abs(number):,.2f}"
    return f"{_sign(number, digits, plus=plus)}{digits}%"


def percent(value) -> str:
    """"12.34%", "−1.50%", "0.00%"."""
    return _percent(value, plus=False)


def signed_percent(value) -> str:
    """"+4.23%", "−1.50%", "0.00%"."""
    return _percent(value, plus=True)


def as_of(value: str | None) -> str:
    """"2025-06-13T14:05:09Z" as "2025-06-13 14:05 UTC"."""
    if not value:
        return "an unknown time"
    match = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)", value)
    return f"{match.group(1)} {match.group(2)} UTC" if match else value


def direction(change) -> str:
    if change is None or abs(change) < 1e-9:
        return "was flat"
    return "rose" if change > 0 else "fell"


def source_line(data: dict | None) -> str:
    """The closing line of a market-data answer: where the figures come from and when."""
    if not data:
        return ""
    name = data.get("source") or "unknown source"
    if data.get("demo"):
        return (f"_Source: {name} market data as of {as_of(data.get('as_of'))}. Demo data: generated offline for "
                "illustration, not real market prices._")
    return f"_Source: {name} market data as of {as_of(data.get('as_of'))}._"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def escape_md(text: str) -> str:
    """Text from the user or a provider, shown literally inside Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~])", r"\\\1", text)


def shorten(text: str, limit: int = 700) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    stop = max(cut.rfind(". "), cut.rfind(".\n"))
    return (cut[:stop + 1] if stop > limit // 2 else cut.rstrip() + "…")


def passage_markdown(text: str) -> str:
    """A knowledge passage as Markdown: its "•" bullets as a list (with the blank line a list needs before it)."""
    lines, out = text.strip().splitlines(), []
    for line in lines:
        bullet = re.match(r"\s*•\s*(.*)", line)
        if bullet:
            if out and out[-1].strip() and not out[-1].lstrip().startswith("- "):
                out.append("")
            out.append(f"- {bullet.group(1)}")
        elif out and out[-1].lstrip().startswith("- ") and line.startswith((" ", "\t")):
            out[-1] += " " + line.strip()  # a bullet's continuation line
        else:
            if out and out[-1].lstrip().startswith("- ") and line.strip():
                out.append("")
            out.append(line)
    return "\n".join(out)


def over(label: str) -> str:
    """How a sentence opens on a period: "Over the last year", "Since 2020", "In 2025"."""
    if label.startswith("since "):
        return "S" + label[1:]
    if re.match(r"\d{4}\b", label):
        return f"In {label}"
    return f"Over {label}"
