"""The provider interface: four reads, plain dicts out, ``MarketDataError`` subclasses for every failure.

Providers return unlabelled data; ``analysis.market_data`` adds ``source``, ``as_of`` and ``demo`` and caches it.
Symbols arrive validated and upper-cased, periods validated.
"""


class Provider:
    name: str = ""
    demo: bool = False

    def quote(self, symbol: str) -> dict:
        """Return symbol, price, open, high, low, previous_close, change, change_percent, volume,
        latest_trading_day and currency."""
        raise NotImplementedError

    def history(self, symbol: str, period: str) -> list[dict]:
        """Return the daily bars (date, open, high, low, close, volume) that ``period`` covers, oldest first."""
        raise NotImplementedError

    def profile(self, symbol: str) -> dict:
        """Return symbol, name, exchange, currency, country, sector, industry, market_cap and description."""
        raise NotImplementedError

    def search(self, query: str) -> list[dict]:
        """Return matches (symbol, name, type, region, currency, match_score), best first."""
        raise NotImplementedError

    def symbols(self) -> tuple[str, ...]:
        """Every symbol the provider lists, where it can say (the offline demo market); () otherwise."""
        return ()
