"""The demo market: deterministic, offline prices for the listings in ``demo_universe``.

Each symbol's daily log-return is ``mu + beta * market_shock + idiosyncratic_shock``, drawn from a generator
seeded by the symbol and stepped once per trading day from EPOCH, so the bar of a given date never changes as
time passes; SPY's walk is the market factor itself. The level is scaled so the close on ANCHOR is the listing's
price, and the walk before ANCHOR is bent into a bridge that starts at the price the drift implies: a free walk
run backwards for a decade wanders off to implausible prices. The bend is a constant per day, so daily
volatility and the correlation with SPY are untouched.
"""

import hashlib
import random
import re
from bisect import bisect_left
from datetime import UTC, date, datetime
from functools import lru_cache
from math import exp, log, sqrt

from ..calendar import last_trading_day, trading_days
from ..errors import UnknownSymbol
from ..validation import bars_in_period, name_words
from .base import Provider
from .demo_universe import BENCHMARK, BY_SYMBOL, LISTINGS, Listing

EPOCH = date(2015, 1, 2)
ANCHOR = date(2025, 1, 2)
YEAR = 252  # trading days
MARKET = BY_SYMBOL[BENCHMARK]
MAX_MATCHES = 10


def _seed(name: str) -> int:
    # hash() is salted per process; a digest keeps the walk identical across runs and machines.
    return int.from_bytes(hashlib.sha256(f"stocktool-demo:{name}".encode()).digest()[:8], "big")


@lru_cache(maxsize=4)
def _calendar(end: date) -> tuple[date, ...]:
    return tuple(trading_days(EPOCH, end))


@lru_cache(maxsize=4)
def _market_shocks(end: date) -> tuple[float, ...]:
    rng = random.Random(_seed("market"))
    return tuple(rng.gauss(0.0, 1.0) for _ in _calendar(end))


def _price(value: float) -> float:
    return round(value, 2) if value >= 1 else round(value, 4)


@lru_cache(maxsize=64)
def _bars(symbol: str, end: date) -> tuple[dict, ...]:
    listing = BY_SYMBOL[symbol]
    days, market = _calendar(end), _market_shocks(end)
    rng = random.Random(_seed(symbol))
    sd = listing.volatility / sqrt(YEAR)
    market_sd = MARKET.volatility / sqrt(YEAR)
    idio_sd = sqrt(max(listing.volatility**2 - (listing.beta * MARKET.volatility) ** 2, 0.02**2)) / sqrt(YEAR)
    mu = (listing.drift - listing.volatility**2 / 2) / YEAR
    close, rows = 0.0, []
    for shock in market:
        # Five draws per day, always, so a day's numbers depend only on its position since EPOCH.
        idio, gap, up, down, busy = (rng.gauss(0.0, 1.0) for _ in range(5))
        if symbol == BENCHMARK:
            move = market_sd * shock
        else:
            move = listing.beta * market_sd * shock + idio_sd * idio
        open_ = close + 0.3 * sd * gap
        close += mu + move
        high = max(open_, close) + 0.5 * sd * abs(up)
        low = min(open_, close) - 0.5 * sd * abs(down)
        volume = listing.volume * 1e6 * exp(0.25 * busy - 0.03) * (0.8 + 0.25 * abs(move) / sd)
        rows.append((open_, high, low, close, volume))
    anchor = min(bisect_left(days, ANCHOR), len(rows) - 1)
    excess = rows[anchor][3] - mu * (anchor + 1)  # how far the walk strayed from its drift by ANCHOR
    offset = log(listing.price) - mu * (anchor + 1)
    bars = []
    for i, (day, (o, h, lo, c, v)) in enumerate(zip(days, rows, strict=True)):
        shift = offset - excess * min(i, anchor) / max(anchor, 1)
        bars.append({
            "date": day.isoformat(),
            "open": _price(exp(o + shift)),
            "high": _price(exp(h + shift)),
            "low": _price(exp(lo + shift)),
            "close": _price(exp(c + shift)),
            "volume": int(v),
        })
    return tuple(bars)


def _score(query: str, listing: Listing) -> float:
    words, name, ticker = name_words(query), name_words(listing.name), query.upper().removeprefix("$")
    aliases = [name_words(alias) for alias in listing.aliases]
    if ticker == listing.symbol:
        return 1.0
    if words in aliases:
        return 0.95
    if len(words) >= 3 and name.startswith(words):
        return 0.9
    if len(words) >= 3 and re.search(rf"\b{re.escape(words)}", name):
        return 0.75
    if len(words) >= 3 and any(alias.startswith(words) for alias in aliases):
        return 0.7
    if ticker and listing.symbol.startswith(ticker):
        return round(0.4 + 0.3 * len(ticker) / len(listing.symbol), 4)
    return 0.0


class DemoProvider(Provider):
    """Offline demo data; ``today`` pins the last trading day (tests)."""

    name = "demo"
    demo = True

    def __init__(self, *, today: date | None = None):
        self.today = today

    def _series(self, symbol: str) -> tuple[dict, ...]:
        if symbol not in BY_SYMBOL:
            raise UnknownSymbol(symbol, self.name, "the demo market lists " + ", ".join(sorted(BY_SYMBOL)))
        return _bars(symbol, last_trading_day(self.today or datetime.now(UTC).date()))

    def quote(self, symbol: str) -> dict:
        bars = self._series(symbol)
        last, previous = bars[-1], bars[-2]
        change = last["close"] - previous["close"]
        return {
            "symbol": symbol,
            "price": last["close"],
            "open": last["open"],
            "high": last["high"],
            "low": last["low"],
            "previous_close": previous["close"],
            "change": round(change, 4),
            "change_percent": round(change / previous["close"] * 100, 4),
            "volume": last["volume"],
            "latest_trading_day": last["date"],
            "currency": "USD",
        }

    def history(self, symbol: str, period: str) -> list[dict]:
        return [dict(bar) for bar in bars_in_period(list(self._series(symbol)), period)]

    def profile(self, symbol: str) -> dict:
        bars = self._series(symbol)
        listing, year = BY_SYMBOL[symbol], bars[-YEAR:]
        return {
            "symbol": symbol,
            "name": listing.name,
            "asset_type": listing.asset_type,
            "exchange": listing.exchange,
            "currency": "USD",
            "country": "USA",
            "sector": listing.sector,
            "industry": listing.industry,
            "description": listing.description,
            "market_cap": int(bars[-1]["close"] * listing.shares * 1e9),
            "shares_outstanding": int(listing.shares * 1e9),
            "beta": listing.beta,
            "week_52_high": max(bar["high"] for bar in year),
            "week_52_low": min(bar["low"] for bar in year),
            "average_volume": int(sum(bar["volume"] for bar in bars[-63:]) / len(bars[-63:])),
        }

    def symbols(self) -> tuple[str, ...]:
        return tuple(listing.symbol for listing in LISTINGS)

    def search(self, query: str) -> list[dict]:
        scored = sorted(
            ((score, listing) for listing in LISTINGS if (score := _score(query, listing)) > 0),
            key=lambda pair: (-pair[0], pair[1].symbol),
        )
        return [
            {
                "symbol": listing.symbol,
                "name": listing.name,
                "type": listing.asset_type,
                "exchange": listing.exchange,
                "region": "United States",
                "currency": "USD",
                "match_score": score,
            }
            for score, listing in scored[:MAX_MATCHES]
        ]
