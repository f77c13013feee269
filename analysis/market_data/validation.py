"""Ticker, period and query validation, and which bars a period covers."""

import re
from datetime import date

from .errors import InvalidInput

PERIODS = ("1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max")
_TRADING_DAY_PERIODS = {"1d": 1, "5d": 5}
_MONTHS = {"1mo": 1, "3mo": 3, "6mo": 6, "1y": 12, "2y": 24, "5y": 60, "10y": 120}
_SYMBOL = re.compile(r"[A-Z0-9](?:[A-Z0-9.\-]{0,9})")
MAX_QUERY_LENGTH = 64


def symbol_normalize(symbol) -> str:
    """Return the upper-cased ticker, or raise InvalidInput ("$aapl " gives "AAPL")."""
    if not isinstance(symbol, str):
        raise InvalidInput(f"a ticker must be text, not {type(symbol).__name__}")
    text = symbol.strip().removeprefix("$").upper()
    if not _SYMBOL.fullmatch(text):
        raise InvalidInput(
            f"{symbol!r} is not a ticker: use 1-10 letters, digits, dots or dashes, e.g. AAPL or BRK.B"
        )
    return text


def period_normalize(period) -> str:
    if not isinstance(period, str) or period.strip().lower() not in PERIODS:
        raise InvalidInput(f"{period!r} is not a period: use one of {', '.join(PERIODS)}")
    return period.strip().lower()


def query_normalize(query) -> str:
    """Return the query with its whitespace collapsed, or raise InvalidInput."""
    if not isinstance(query, str):
        raise InvalidInput(f"a search query must be text, not {type(query).__name__}")
    text = " ".join(query.split())
    if not text or len(text) > MAX_QUERY_LENGTH or not text.isprintable():
        raise InvalidInput(f"a search query takes 1-{MAX_QUERY_LENGTH} printable characters")
    return text


def name_words(text: str) -> str:
    """Return a company name or query as lower-case words without a leading "the" ("The Coca-Cola Co." gives
    "coca cola co")."""
    return " ".join(re.sub(r"[^a-z0-9&]+", " ", text.lower()).split()).removeprefix("the ")


def name_matches(query: str, name: str) -> bool:
    """Tell whether the query's words start a word of the name ("coca cola" matches "The Coca-Cola Company")."""
    words = name_words(query)
    return len(words) >= 3 and re.search(rf"\b{re.escape(words)}", name_words(name)) is not None


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for dd in (day.day, 30, 29, 28):
        try:
            return date(year, month, dd)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def period_start(period: str, last: date) -> date | None:
    """Return the day before a calendar period's first bar, counted back from ``last``; None for all."""
    if period in _MONTHS:
        return _months_back(last, _MONTHS[period])
    if period == "ytd":
        return date(last.year - 1, 12, 31)
    return None


def bars_in_period(bars: list[dict], period: str) -> list[dict]:
    """Keep the bars (oldest first, ISO dates) that ``period`` covers, ending at the last bar."""
    if not bars:
        return []
    if period in _TRADING_DAY_PERIODS:
        return bars[-_TRADING_DAY_PERIODS[period]:]
    start = period_start(period, date.fromisoformat(bars[-1]["date"]))
    if start is None:
        return list(bars)
    first = start.isoformat()
    return [bar for bar in bars if bar["date"] > first]
