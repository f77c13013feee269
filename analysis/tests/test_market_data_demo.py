"""The demo market and input validation: pure unit tests, no network and no cache."""

import json
import statistics
from datetime import date, timedelta
from itertools import pairwise
from math import log

import pytest

from analysis.market_data import (
    InvalidInput,
    UnknownSymbol,
    history_get,
    profile_get,
    quote_get,
    symbol_search,
)
from analysis.market_data.calendar import holidays, is_trading_day, last_trading_day
from analysis.market_data.providers.demo import ANCHOR, EPOCH, DemoProvider
from analysis.market_data.providers.demo_universe import BENCHMARK, BY_SYMBOL, LISTINGS
from analysis.market_data.validation import period_normalize, query_normalize, symbol_normalize

TODAY = date(2026, 11, 27)  # a Friday, the day after Thanksgiving
WELL_KNOWN = {"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM", "V", "JNJ", "KO", "XOM", "WMT", "DIS"}


@pytest.fixture
def demo():
    return DemoProvider(today=TODAY)


def _returns(bars):
    return [log(b["close"] / a["close"]) for a, b in pairwise(bars)]


def test_it_lists_30_well_known_us_stocks_plus_the_spy_benchmark():
    stocks = [listing for listing in LISTINGS if listing.symbol != BENCHMARK]
    assert BENCHMARK == "SPY" and "SPY" in BY_SYMBOL
    assert len(stocks) >= 30
    assert WELL_KNOWN <= set(BY_SYMBOL)
    assert len(BY_SYMBOL) == len(LISTINGS)  # no duplicates
    for listing in stocks:
        assert listing.exchange in ("NYSE", "NASDAQ")
        assert listing.name and listing.sector and listing.industry and len(listing.description) > 40


def test_the_same_day_gives_the_same_market(demo):
    again = DemoProvider(today=TODAY)
    for symbol in ("AAPL", "SPY", "BRK.B"):
        assert demo.history(symbol, "max") == again.history(symbol, "max")
        assert demo.quote(symbol) == again.quote(symbol)


def test_a_past_bar_never_changes_as_time_passes(demo):
    later = DemoProvider(today=TODAY + timedelta(days=45))
    before = demo.history("MSFT", "2y")
    after = {bar["date"]: bar for bar in later.history("MSFT", "5y")}
    assert later.quote("MSFT")["latest_trading_day"] > before[-1]["date"]
    assert all(after[bar["date"]] == bar for bar in before)


def test_symbols_walk_differently(demo):
    assert _returns(demo.history("AAPL", "3mo")) != _returns(demo.history("MSFT", "3mo"))


def test_history_holds_trading_days_only_oldest_first(demo):
    bars = demo.history("AAPL", "max")
    days = [date.fromisoformat(bar["date"]) for bar in bars]
    assert days[0] == EPOCH and days[-1] == TODAY
    assert days == sorted(set(days))
    assert all(day.weekday() < 5 for day in days)
    for closed in (date(2025, 12, 25), date(2026, 7, 3), date(2026, 4, 3), date(2026, 11, 26), date(2026, 1, 19)):
        assert closed not in days
    assert date(2021, 12, 31) in days  # New Year 2022 fell on a Saturday: the NYSE stayed open on the Friday


def test_bars_are_well_formed_and_plausible(demo):
    for listing in LISTINGS:
        bars = demo.history(listing.symbol, "5y")
        for bar in bars:
            low, high = sorted((bar["open"], bar["close"]))
            assert bar["low"] <= low <= high <= bar["high"]
            assert bar["low"] > 0 and bar["volume"] > 0
            assert isinstance(bar["close"], float) and isinstance(bar["volume"], int)
        assert 0.1 < bars[-1]["close"] / listing.price < 10
        assert 0.3 < statistics.mean(bar["volume"] for bar in bars) / (listing.volume * 1e6) < 3
        realised = statistics.stdev(_returns(bars)) * 252**0.5
        assert abs(realised - listing.volatility) / listing.volatility < 0.15, listing.symbol
        worst_day = max(abs(r) for r in _returns(bars))
        assert worst_day < 0.35, listing.symbol


def test_the_close_on_the_anchor_day_is_the_listed_price(demo):
    for symbol in ("AAPL", "KO", "SPY"):
        anchor = next(bar for bar in demo.history(symbol, "max") if bar["date"] == ANCHOR.isoformat())
        assert anchor["close"] == BY_SYMBOL[symbol].price


@pytest.mark.parametrize("symbol", ["TSLA", "NVDA", "KO", "JNJ", "JPM"])
def test_stocks_move_with_spy_by_their_beta(demo, symbol):
    stock, market = _returns(demo.history(symbol, "max")), _returns(demo.history("SPY", "max"))
    beta = statistics.covariance(stock, market) / statistics.variance(market)
    assert abs(beta - BY_SYMBOL[symbol].beta) < 0.15
    assert statistics.correlation(stock, market) > 0.3


def test_a_quote_is_the_last_bar_against_the_one_before(demo):
    quote = demo.quote("NVDA")
    before, last = demo.history("NVDA", "5d")[-2:]
    assert quote["price"] == last["close"] and quote["previous_close"] == before["close"]
    assert quote["change"] == pytest.approx(last["close"] - before["close"], abs=1e-6)
    assert quote["change_percent"] == pytest.approx((last["close"] / before["close"] - 1) * 100, abs=1e-3)
    assert quote["latest_trading_day"] == TODAY.isoformat() and quote["volume"] == last["volume"]


def test_on_a_weekend_the_latest_bar_is_fridays():
    saturday = DemoProvider(today=TODAY + timedelta(days=1))
    assert saturday.quote("AAPL")["latest_trading_day"] == "2026-11-27"


@pytest.mark.parametrize(
    ("period", "first", "count"),
    [("1d", "2026-11-27", 1), ("5d", "2026-11-20", 5), ("1mo", "2026-10-28", None),
     ("ytd", "2026-01-02", None), ("1y", "2025-11-28", None), ("max", EPOCH.isoformat(), None)],
)
def test_a_period_covers_its_span(demo, period, first, count):
    bars = demo.history("AAPL", period)
    assert bars[0]["date"] == first and bars[-1]["date"] == TODAY.isoformat()
    if count:
        assert len(bars) == count


def test_a_year_is_about_252_trading_days(demo):
    assert 248 <= len(demo.history("KO", "1y")) <= 254


def test_a_profile_describes_the_company_and_its_size(demo):
    profile = demo.profile("MSFT")
    assert profile["name"] == "Microsoft Corporation" and profile["exchange"] == "NASDAQ"
    assert profile["sector"] == "Technology" and profile["industry"] and profile["description"]
    price = demo.quote("MSFT")["price"]
    assert profile["market_cap"] == pytest.approx(price * 7.43e9, rel=1e-6)
    assert profile["week_52_low"] <= price <= profile["week_52_high"]
    assert demo.profile("SPY")["asset_type"] == "ETF"


@pytest.mark.parametrize(
    ("query", "first"),
    [("apple", "AAPL"), ("AAPL", "AAPL"), ("msft", "MSFT"), ("Coca-Cola", "KO"), ("google", "GOOGL"),
     ("facebook", "META"), ("The Walt Disney Company", "DIS"), ("$tsla", "TSLA"), ("berkshire", "BRK.B")],
)
def test_search_matches_tickers_and_company_names(demo, query, first):
    assert demo.search(query)[0]["symbol"] == first


def test_an_exact_ticker_ranks_above_prefixes(demo):
    matches = demo.search("T")
    assert matches[0]["symbol"] == "T" and matches[0]["match_score"] == 1.0
    assert [m["match_score"] for m in matches] == sorted((m["match_score"] for m in matches), reverse=True)
    assert demo.search("qwertyuiop") == []


@pytest.mark.parametrize("operation", ["quote", "profile", "history"])
def test_an_unknown_symbol_is_a_clear_error(demo, operation):
    args = ("ZZZZ", "1y") if operation == "history" else ("ZZZZ",)
    with pytest.raises(UnknownSymbol, match="ZZZZ") as caught:
        getattr(demo, operation)(*args)
    assert caught.value.symbol == "ZZZZ" and caught.value.source == "demo"


@pytest.mark.parametrize(
    ("raw", "clean"), [(" aapl ", "AAPL"), ("$brk.b", "BRK.B"), ("bf-b", "BF-B"), ("7203", "7203")],
)
def test_tickers_are_trimmed_and_upper_cased(raw, clean):
    assert symbol_normalize(raw) == clean


@pytest.mark.parametrize("raw", ["", "   ", "ABCDEFGHIJK", "AA PL", "AAPL;DROP", "-AAPL", "ÄPPLE", None, 42])
def test_malformed_tickers_are_refused(raw):
    with pytest.raises(InvalidInput):
        symbol_normalize(raw)


def test_periods_are_checked():
    assert period_normalize(" 1Y ") == "1y"
    for bad in ("7y", "", "1 year", None):
        with pytest.raises(InvalidInput, match="1d, 5d, 1mo"):
            period_normalize(bad)


def test_search_queries_are_checked():
    assert query_normalize("  apple   inc ") == "apple inc"
    for bad in ("", "  ", "x" * 65, "apple\x00", None):
        with pytest.raises(InvalidInput):
            query_normalize(bad)


def test_the_public_functions_refuse_bad_input_before_any_lookup():
    provider = DemoProvider(today=TODAY)
    with pytest.raises(InvalidInput):
        quote_get(symbol="not a ticker", provider=provider)
    with pytest.raises(InvalidInput):
        history_get(symbol="AAPL", period="forever", provider=provider)
    with pytest.raises(InvalidInput):
        profile_get(symbol="", provider=provider)
    with pytest.raises(InvalidInput):
        symbol_search(query=" ", provider=provider)
    with pytest.raises(TypeError):
        quote_get("AAPL")  # keyword-only


def test_the_nyse_holidays_of_2026():
    assert sorted(holidays(2026)) == [
        date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16), date(2026, 4, 3), date(2026, 5, 25),
        date(2026, 6, 19), date(2026, 7, 3), date(2026, 9, 7), date(2026, 11, 26), date(2026, 12, 25),
    ]
    assert not is_trading_day(date(2026, 11, 28))
    assert last_trading_day(date(2026, 11, 26)) == date(2026, 11, 25)


def test_demo_results_are_json_and_labelled(settings):
    settings.DYNAMODB_ENABLED = False
    provider = DemoProvider(today=TODAY)
    results = [quote_get(symbol="AAPL", provider=provider), profile_get(symbol="AAPL", provider=provider),
               *symbol_search(query="apple", provider=provider), *history_get(symbol="AAPL", period="1mo",
                                                                             provider=provider)]
    json.dumps(results)
    for result in results:
        assert result["source"] == "demo" and result["demo"] is True and result["as_of"].endswith("Z")
