"""Alpha Vantage (https://www.alphavantage.co/documentation/): quote, daily history, overview, symbol search.

The API answers HTTP 200 to most failures and says so in the body: ``{"Error Message": ...}`` for a bad call,
symbol or key, ``{"Note": ...}`` or ``{"Information": ...}`` for rate limits (25 requests a day on a free key)
and premium-only features; an unknown symbol often gets an empty object instead.
"""

import http.client
import json
import re
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from ..errors import ProviderUnavailable, RateLimited, UnknownSymbol
from ..validation import bars_in_period, period_start
from .base import Provider

# Compact output holds the last 100 trading days, about 140 calendar days; longer periods need outputsize=full.
COMPACT_DAYS = 140
MAX_BODY_BYTES = 32 * 1024 * 1024
_RATE_LIMIT = re.compile(r"rate limit|call frequency|calls per|requests per|sparingly|call volume", re.IGNORECASE)
_PREMIUM = re.compile(r"\bis a premium\b", re.IGNORECASE)
_KEY = re.compile(r"api ?key", re.IGNORECASE)


def _number(value) -> float | None:
    if value in (None, "", "None", "-", "N/A"):
        return None
    return float(str(value).rstrip("%"))


def _integer(value) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _label(value) -> str | None:
    if not value or value == "None":
        return None
    return value.title() if value.isupper() else value


class AlphaVantageProvider(Provider):
    name = "alphavantage"
    demo = False

    def __init__(self, *, api_key: str, base_url: str = "https://www.alphavantage.co", timeout: float = 10):
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, function: str, subject: str, /, **params: str) -> dict:
        if not self.api_key:
            raise ProviderUnavailable("Alpha Vantage needs ALPHAVANTAGE_API_KEY")
        query = urlencode({"function": function, **params, "apikey": self.api_key})
        request = Request(f"{self.base_url}/query?{query}", headers={"User-Agent": "StockTool/0.1"})
        try:
            with urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_BODY_BYTES)
        except HTTPError as exc:
            if exc.code == 429:
                raise RateLimited(f"Alpha Vantage {function}: HTTP 429 Too Many Requests") from None
            raise ProviderUnavailable(f"Alpha Vantage {function}: HTTP {exc.code} {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:
            # Timeouts, refused connections and dropped answers; the URL (with the key) stays out of the message.
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            raise ProviderUnavailable(f"Alpha Vantage {function} did not answer: {reason}") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise ProviderUnavailable(f"Alpha Vantage {function} answered with something other than JSON") from None
        if not isinstance(data, dict):
            raise ProviderUnavailable(f"Alpha Vantage {function} answered with an unexpected {type(data).__name__}")
        self._raise_for_message(data, function, subject)
        return data

    def _raise_for_message(self, data: dict, function: str, subject: str) -> None:
        if "Error Message" in data:
            message = str(data["Error Message"])
            if _KEY.search(message):
                raise ProviderUnavailable(f"Alpha Vantage rejected the API key: {message}")
            raise UnknownSymbol(subject, self.name, message)
        for field in ("Note", "Information"):
            if field in data:
                message = str(data[field])
                if _RATE_LIMIT.search(message):
                    raise RateLimited(f"Alpha Vantage rate limit: {message}")
                if _PREMIUM.search(message) or _KEY.search(message):
                    raise ProviderUnavailable(f"Alpha Vantage refused {function}: {message}")
                raise RateLimited(f"Alpha Vantage: {message}")

    @contextmanager
    def _parsing(self, function: str):
        try:
            yield
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProviderUnavailable(f"Alpha Vantage {function} answered in an unexpected shape: {exc!r}") from None

    def quote(self, symbol: str) -> dict:
        data = self._call("GLOBAL_QUOTE", symbol, symbol=symbol)
        with self._parsing("GLOBAL_QUOTE"):
            quote = data["Global Quote"]
            if not quote:
                raise UnknownSymbol(symbol, self.name)
            return {
                "symbol": quote["01. symbol"],
                "price": _number(quote["05. price"]),
                "open": _number(quote["02. open"]),
                "high": _number(quote["03. high"]),
                "low": _number(quote["04. low"]),
                "previous_close": _number(quote["08. previous close"]),
                "change": _number(quote["09. change"]),
                "change_percent": _number(quote["10. change percent"]),
                "volume": _integer(quote["06. volume"]),
                "latest_trading_day": quote["07. latest trading day"],
                "currency": "USD",
            }

    def history(self, symbol: str, period: str) -> list[dict]:
        today = datetime.now(UTC).date()
        start = period_start(period, today)
        compact = period in ("1d", "5d") or (start is not None and (today - start).days <= COMPACT_DAYS)
        data = self._call("TIME_SERIES_DAILY", symbol, symbol=symbol, outputsize="compact" if compact else "full")
        with self._parsing("TIME_SERIES_DAILY"):
            series = data["Time Series (Daily)"]
            bars = [
                {
                    "date": day,
                    "open": float(bar["1. open"]),
                    "high": float(bar["2. high"]),
                    "low": float(bar["3. low"]),
                    "close": float(bar["4. close"]),
                    "volume": int(float(bar["5. volume"])),
                }
                for day, bar in sorted(series.items())
            ]
        if not bars:
            raise UnknownSymbol(symbol, self.name, "no daily prices")
        return bars_in_period(bars, period)

    def profile(self, symbol: str) -> dict:
        data = self._call("OVERVIEW", symbol, symbol=symbol)
        if not data.get("Symbol"):
            raise UnknownSymbol(symbol, self.name, "no company overview (Alpha Vantage has none for ETFs)")
        with self._parsing("OVERVIEW"):
            return {
                "symbol": data["Symbol"],
                "name": data.get("Name"),
                "asset_type": data.get("AssetType"),
                "exchange": data.get("Exchange"),
                "currency": data.get("Currency"),
                "country": data.get("Country"),
                "sector": _label(data.get("Sector")),
                "industry": _label(data.get("Industry")),
                "description": data.get("Description"),
                "market_cap": _integer(data.get("MarketCapitalization")),
                "shares_outstanding": _integer(data.get("SharesOutstanding")),
                "beta": _number(data.get("Beta")),
                "pe_ratio": _number(data.get("PERatio")),
                "dividend_yield": _number(data.get("DividendYield")),
                "week_52_high": _number(data.get("52WeekHigh")),
                "week_52_low": _number(data.get("52WeekLow")),
            }

    def search(self, query: str) -> list[dict]:
        data = self._call("SYMBOL_SEARCH", query, keywords=query)
        with self._parsing("SYMBOL_SEARCH"):
            return [
                {
                    "symbol": match["1. symbol"],
                    "name": match["2. name"],
                    "type": match.get("3. type"),
                    "exchange": None,
                    "region": match.get("4. region"),
                    "currency": match.get("8. currency"),
                    "match_score": _number(match.get("9. matchScore")) or 0.0,
                }
                for match in data["bestMatches"]
            ]
