"""Numbers, dates and source lines as the answers write them (Markdown)."""

import re

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value, currency: str | None = "USD") -> str:
    if value is None:
        return "n/a"
    sign = CURRENCY_SIGNS.get(currency or "USD")
    text = f"{abs(value):,.2f}" if abs(value) >= 1 else f"{abs(value):,.4f}"
    minus = "−" if value < 0 else ""
    return f"{minus}{sign}{text}" if sign else f"{minus}{text} {currency}"


def big_money(value, currency: str | None = "USD") -> str:
    if value is None:
        return "n/a"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= size:
            return f"{money(value / size, currency)} {word}"
    return money(value, currency)


def big_number(value) -> str:
    if value is None:
        return "n/a"
    for size, word in ((1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if abs(value) >= size:
            return f"{value / size:,.2f} {word}"
    return f"{value:,.0f}"


def signed_percent(value) -> str:
    if value is None:
        return "n/a"
    return f"{'+' if value > 0 else '−' if value < 0 else ''}{abs(value):.2f}%"


def percent(value) -> str:
    return "n/a" if value is None else f"{value:.2f}%".replace("-", "−")


def signed_money(value, currency: str | None = "USD") -> str:
    if value is None:
        return "n/a"
    return ("+" if value > 0 else "") + money(value, currency)


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
