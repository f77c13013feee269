"""Which listing a word of the question names: tickers written as tickers, company names, and the everyday
words that are neither ("cat", "america"). Answers are memoised per process; the stock-data cache backs misses."""

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from wordfreq import zipf_frequency

from analysis import market_data
from analysis.market_data import MarketDataError
from analysis.market_data.validation import name_words

logger = logging.getLogger(__name__)


class _Memo:
    """A small process-local memo of name -> ticker answers (the stock-data cache still backs each miss)."""

    def __init__(self, size: int = 4096, ttl: float = 3600.0):
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[tuple, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                return False, None
            self._items.move_to_end(key)
            return True, found[1]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


resolve_memo = _Memo()


def _memoised(kind: str, text: str, find: Callable[[str], str | None]) -> str | None:
    key = (settings.MARKET_DATA_PROVIDER, kind, text)
    hit, value = resolve_memo.get(key)
    if hit:
        return value
    try:
        value = find(text)
    except MarketDataError as exc:
        logger.warning("could not resolve %r: %s", text, exc)
        return None  # not memoised: the provider may answer next time
    resolve_memo.put(key, value)
    return value


# Zipf frequency (wordfreq) from which a lone lower-case word is everyday English ("cat" 4.8, "box" 5.0,
# "america" 5.2) rather than a ticker typed in lower case ("nvda" 2.1, "amd" 3.5, "ibm" 3.9).
EVERYDAY_ZIPF = 4.0


def symbol_resolve(text: str) -> str | None:
    """The ticker that ``text`` (written like a ticker: AAPL, $nvda) names, or None: the ticker itself, else a
    company it names as ``name_resolve`` reads names ("GOLD" is no ticker, and not Goldman Sachs either)."""
    def find(query: str) -> str | None:
        wanted = query.removeprefix("$").upper()
        try:
            matches = market_data.symbol_search(query=wanted)
        except market_data.InvalidInput:
            return None
        for match in matches:
            if match["symbol"].upper() == wanted:
                return match["symbol"]
        return None

    return _memoised("symbol", text, find) or name_resolve(text.removeprefix("$"))


def name_resolve(text: str) -> str | None:
    """The ticker of the company ``text`` names ("apple", "home depot"), or None.

    Stricter than ``resolve_symbol`` for ordinary words: the words must be the ticker, an alias (a score of
    0.95 or more), or whole words of the listing's name, so "gold" is not Goldman Sachs. An everyday English
    word on its own ("cat", "box", "america") is neither a ticker nor any word of a name: it must be the name's
    first word ("apple", "target") or an alias ("disney").
    """
    def find(query: str) -> str | None:
        words = name_words(query)
        everyday = bool(words) and " " not in words and zipf_frequency(words, "en") >= EVERYDAY_ZIPF
        name_word = rf"^{re.escape(words)}\b" if everyday else rf"\b{re.escape(words)}\b"
        matches = market_data.symbol_search(query=query)
        us_first = sorted(matches, key=lambda m: m.get("region") not in (None, "United States"))
        for match in us_first:
            by_symbol = match["symbol"].upper() == query.upper()
            if (by_symbol and not everyday) or (match["match_score"] >= 0.95 and not by_symbol):
                return match["symbol"]
            if words and re.search(name_word, name_words(match.get("name") or "")):
                return match["symbol"]
        return None

    return _memoised("name", text.lower(), find)
