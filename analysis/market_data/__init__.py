"""Market data for StockTool: quotes, daily history, company profiles and symbol search.

Every call validates its input, goes through the stock-data cache (``cache.cached``), and returns plain JSON-ready
data labelled with ``source`` (the provider), ``as_of`` (when the provider produced it, UTC ISO 8601) and
``demo`` (True for the offline demo market, which also adds a ``notice``). ``MARKET_DATA_PROVIDER`` picks the
provider; tests pass ``provider=`` instead. Failures raise a ``MarketDataError`` subclass.

Cache layout: key = the ticker (the lower-cased query for searches); namespace = ``<provider>/<operation>``:
``demo/quote``, ``alphavantage/history:1y``, ``demo/profile``, ``demo/search``.
"""

from datetime import UTC, datetime

from django.conf import settings

from .cache import cached
from .errors import InvalidInput, MarketDataError, ProviderUnavailable, RateLimited, UnknownSymbol
from .providers import PROVIDERS, Provider, provider_get
from .providers.demo_universe import BENCHMARK
from .validation import PERIODS, name_matches, period_normalize, query_normalize, symbol_normalize

DEMO_NOTICE = "Demo data: generated offline for illustration, not real market prices."
BAR_FIELDS = ("date", "open", "high", "low", "close", "volume")
_FLOATS = frozenset({"price", "open", "high", "low", "close", "previous_close", "change", "change_percent",
                     "beta", "pe_ratio", "dividend_yield", "week_52_high", "week_52_low", "match_score"})
_INTEGERS = frozenset({"volume", "market_cap", "shares_outstanding", "average_volume"})
RESOLVE_MIN_SCORE = 0.9


def _labels(provider: Provider) -> dict:
    labels = {
        "source": provider.name,
        "as_of": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "demo": provider.demo,
    }
    if provider.demo:
        labels["notice"] = DEMO_NOTICE
    return labels


def _typed(record: dict) -> dict:
    # DynamoDB hands numbers back as Decimal-derived ints where they are whole; restore the documented types.
    for key, value in record.items():
        if value is not None and key in _FLOATS:
            record[key] = float(value)
        elif value is not None and key in _INTEGERS:
            record[key] = int(value)
    return record


def _ttl(kind: str) -> int:
    return getattr(settings, f"MARKET_DATA_TTL_{kind}")


def _snapshot(kind: str, symbol: str, provider: Provider | None) -> dict:
    """The provider's ``kind`` ("quote", "profile") of ``symbol``, labelled, through the stock-data cache."""
    symbol = symbol_normalize(symbol)
    chosen = provider or provider_get()
    found = cached(namespace=f"{chosen.name}/{kind}", key=symbol, ttl_seconds=_ttl(kind.upper()),
                   fetch=lambda: {**getattr(chosen, kind)(symbol), **_labels(chosen)})
    return _typed(found)


def quote_get(*, symbol: str, provider: Provider | None = None) -> dict:
    """Return the latest quote: price, open, high, low, previous_close, change, change_percent, volume, ..."""
    return _snapshot("quote", symbol, provider)


def history_series_get(*, symbol: str, period: str = "1y", provider: Provider | None = None) -> dict:
    """Return {symbol, period, source, as_of, demo, bars: [{date, open, high, low, close, volume}]}, oldest first."""
    symbol, period = symbol_normalize(symbol), period_normalize(period)
    provider = provider or provider_get()

    def fetch() -> dict:
        bars = provider.history(symbol, period)
        # Stored as columns: a decade of daily rows as maps would outgrow DynamoDB's 400 KB item.
        columns = {field: [bar[field] for bar in bars] for field in BAR_FIELDS}
        return {"symbol": symbol, "period": period, **_labels(provider), "columns": columns}

    series = cached(namespace=f"{provider.name}/history:{period}", key=symbol, ttl_seconds=_ttl("HISTORY"),
                    fetch=fetch)
    columns = series.pop("columns")
    series["bars"] = [_typed(dict(zip(BAR_FIELDS, row, strict=True)))
                      for row in zip(*(columns[field] for field in BAR_FIELDS), strict=True)]
    return series


def history_get(*, symbol: str, period: str = "1y", provider: Provider | None = None) -> list[dict]:
    """Return the daily bars of ``period``, oldest first, each labelled with source, as_of and demo."""
    series = history_series_get(symbol=symbol, period=period, provider=provider)
    labels = {"source": series["source"], "as_of": series["as_of"], "demo": series["demo"]}
    return [{**bar, **labels} for bar in series["bars"]]


def profile_get(*, symbol: str, provider: Provider | None = None) -> dict:
    """Return the company profile: name, exchange, sector, industry, market_cap, description, ..."""
    return _snapshot("profile", symbol, provider)


def symbol_search(*, query: str, provider: Provider | None = None) -> list[dict]:
    """Return the listings matching a ticker or company name, best first, each labelled."""
    query = query_normalize(query)
    provider = provider or provider_get()

    def fetch() -> dict:
        return {"matches": provider.search(query), **_labels(provider)}

    found = cached(namespace=f"{provider.name}/search", key=query.lower(), ttl_seconds=_ttl("SEARCH"), fetch=fetch)
    labels = {key: value for key, value in found.items() if key != "matches"}
    return [_typed({**match, **labels}) for match in found["matches"]]


def symbol_check(symbol: str, *, provider: Provider | None = None) -> list[str] | None:
    """None if the provider lists ``symbol``; else the listings its search finds for it (possibly none), best
    first.

    Provider failures raise (MarketDataError), so a caller can tell "not listed" from "could not ask".
    """
    symbol = symbol_normalize(symbol)
    provider = provider or provider_get()
    matches = symbol_search(query=symbol, provider=provider)
    if any(match["symbol"].upper() == symbol for match in matches):
        return None
    return [match["symbol"] for match in matches][:3]


def listed_symbols(*, provider: Provider | None = None) -> tuple[str, ...]:
    """Every symbol the provider lists, where it can say (the offline demo market); () otherwise."""
    return (provider or provider_get()).symbols()


def resolve_symbol(text: str, *, provider: Provider | None = None) -> str | None:
    """Return the ticker that ``text`` (a ticker or company name) most likely means, or None.

    Text that cannot be a query (empty, too long) gives None; provider failures still raise.
    """
    try:
        query = query_normalize(text).removeprefix("$")
    except InvalidInput:
        return None
    if not query:
        return None
    matches = symbol_search(query=query, provider=provider)
    for match in matches:
        if match["symbol"].upper() == query.upper():
            return match["symbol"]
    # Provider order and scores differ (Alpha Vantage lists foreign listings too): prefer US listings, then
    # take the first that the provider rates highly or whose name starts with the query's words.
    us_first = sorted(matches, key=lambda match: match.get("region") not in (None, "United States"))
    for match in us_first:
        if match["match_score"] >= RESOLVE_MIN_SCORE or name_matches(query, match.get("name") or ""):
            return match["symbol"]
    return None


__all__ = [
    "BENCHMARK",
    "DEMO_NOTICE",
    "PERIODS",
    "PROVIDERS",
    "InvalidInput",
    "MarketDataError",
    "Provider",
    "ProviderUnavailable",
    "RateLimited",
    "UnknownSymbol",
    "history_get",
    "history_series_get",
    "profile_get",
    "provider_get",
    "quote_get",
    "listed_symbols",
    "resolve_symbol",
    "symbol_check",
    "symbol_search",
]
