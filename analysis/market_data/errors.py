"""What market-data callers can catch: every failure is a ``MarketDataError`` with one readable line."""


class MarketDataError(Exception):
    """Market data could not be served."""

    code = "market_data_error"


class InvalidInput(MarketDataError, ValueError):
    """A ticker, period or query is malformed."""

    code = "invalid_input"


class UnknownSymbol(MarketDataError, LookupError):
    """The provider has no data for the symbol."""

    code = "unknown_symbol"

    def __init__(self, symbol: str, source: str, detail: str = ""):
        self.symbol = symbol
        self.source = source
        super().__init__(f"unknown symbol {symbol!r} ({source}){': ' + detail if detail else ''}")


class ProviderUnavailable(MarketDataError):
    """The provider could not be reached, failed, or refused the request (key, plan)."""

    code = "provider_unavailable"


class RateLimited(MarketDataError):
    """The provider's request quota is used up; retry later."""

    code = "rate_limited"
