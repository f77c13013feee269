"""The Alpha Vantage client against a local HTTP server that answers in Alpha Vantage's documented formats,
including its error, rate-limit and premium answers. The client is never patched."""

import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from analysis.market_data import (
    ProviderUnavailable,
    RateLimited,
    UnknownSymbol,
    history_get,
    profile_get,
    provider_get,
    quote_get,
    resolve_symbol,
    symbol_search,
)
from analysis.market_data import cache as market_cache
from analysis.market_data.cache import LocalCache
from analysis.market_data.calendar import trading_days
from analysis.market_data.providers.alphavantage import AlphaVantageProvider

KEY = "test-key"
LAST_DAY = date(2026, 11, 27)
DAYS = trading_days(LAST_DAY - timedelta(days=3 * 365), LAST_DAY)
SLOW_SECONDS = 1.5

# Alpha Vantage's answers, as documented and as observed (the "Information" texts changed over the years).
INVALID_CALL = {"Error Message": "Invalid API call. Please retry or visit the documentation "
                "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}
INVALID_KEY = {"Error Message": "the parameter apikey is invalid or missing. Please claim your free API key on "
               "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."}
NOTE = {"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 "
        "calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API "
        "call frequency."}
DAILY_LIMIT = {"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per "
               "day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to "
               "instantly remove all daily rate limits."}
SPARINGLY = {"Information": "Thank you for using Alpha Vantage! Please consider spreading out your free API "
             "requests more sparingly. You may subscribe to any of the premium plans at "
             "https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day) and "
             "instantly unlock all premium endpoints"}
DETECTED_KEY = {"Information": "Thank you for using Alpha Vantage! We have detected your API key as TESTKEY and our "
                "standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at "
                "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}
DEMO_KEY = {"Information": "The **demo** API key is for demo purposes only. Please claim your free API key at "
            "(https://www.alphavantage.co/support/#api-key) to explore our full API offerings. It takes fewer than "
            "20 seconds."}
PREMIUM_FULL = {"Information": "Thank you for using Alpha Vantage! The **outputsize=full** parameter value is a "
                "premium feature for the TIME_SERIES_DAILY endpoint. You may subscribe to any of the premium plans "
                "at https://www.alphavantage.co/premium/ to instantly unlock all premium features"}
THROTTLED = {"BUSY": NOTE, "DAILY": DAILY_LIMIT, "SPARE": SPARINGLY, "KEYED": DETECTED_KEY}


def _price(symbol: str, i: int) -> float:
    return round(100 + (sum(map(ord, symbol)) % 50) + 10 * ((i % 20) / 20), 4)


def _global_quote(symbol: str) -> dict:
    return {"Global Quote": {
        "01. symbol": symbol, "02. open": "261.0700", "03. high": "263.3100", "04. low": "260.6800",
        "05. price": "262.2400", "06. volume": "38322012", "07. latest trading day": LAST_DAY.isoformat(),
        "08. previous close": "260.5700", "09. change": "1.6700", "10. change percent": "0.6409%",
    }}


def _daily(symbol: str, outputsize: str) -> dict:
    first = len(DAYS) - 100 if outputsize == "compact" else 0
    series = {
        day.isoformat(): {"1. open": f"{_price(symbol, i) - 1:.4f}", "2. high": f"{_price(symbol, i) + 2:.4f}",
                          "3. low": f"{_price(symbol, i) - 2:.4f}", "4. close": f"{_price(symbol, i):.4f}",
                          "5. volume": str(1_000_000 + i)}
        for i, day in enumerate(DAYS[first:], start=first)
    }
    meta = {"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": symbol,
            "3. Last Refreshed": LAST_DAY.isoformat(), "4. Output Size": outputsize.title(),
            "5. Time Zone": "US/Eastern"}
    return {"Meta Data": meta, "Time Series (Daily)": dict(reversed(series.items()))}  # newest first, as AV does


def _overview(symbol: str) -> dict:
    return {
        "Symbol": symbol, "AssetType": "Common Stock", "Name": "International Business Machines",
        "Description": "International Business Machines Corporation (IBM) is an American multinational technology "
                       "company headquartered in Armonk, New York.",
        "CIK": "51143", "Exchange": "NYSE", "Currency": "USD", "Country": "USA", "Sector": "TECHNOLOGY",
        "Industry": "COMPUTER & OFFICE EQUIPMENT", "MarketCapitalization": "231471923000", "PERatio": "None",
        "Beta": "0.71", "DividendYield": "0.0315", "52WeekHigh": "239.35", "52WeekLow": "162.62",
        "SharesOutstanding": "924565000",
    }


APPLE_MATCHES = {"bestMatches": [
    {"1. symbol": "AAPL34.SAO", "2. name": "Apple Inc", "3. type": "Equity", "4. region": "Brazil/Sao Paolo",
     "5. marketOpen": "10:00", "6. marketClose": "17:30", "7. timezone": "UTC-03", "8. currency": "BRL",
     "9. matchScore": "0.8889"},
    {"1. symbol": "AAPL", "2. name": "Apple Inc", "3. type": "Equity", "4. region": "United States",
     "5. marketOpen": "09:30", "6. marketClose": "16:00", "7. timezone": "UTC-04", "8. currency": "USD",
     "9. matchScore": "0.8889"},
    {"1. symbol": "APLE", "2. name": "Apple Hospitality REIT Inc", "3. type": "Equity", "4. region": "United States",
     "5. marketOpen": "09:30", "6. marketClose": "16:00", "7. timezone": "UTC-04", "8. currency": "USD",
     "9. matchScore": "0.6154"},
]}
SEARCH = {"apple": APPLE_MATCHES, "aapl": APPLE_MATCHES}


class FakeAlphaVantage:
    """A local server in Alpha Vantage's formats; special symbols trigger its failure answers."""

    def __init__(self):
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                params = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                fake.requests.append({"path": urlsplit(self.path).path, **params})
                status, body = fake.answer(params)
                if status == "slow":
                    time.sleep(SLOW_SECONDS)
                    status = 200
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if status == 200 else "text/html")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def calls(self, function: str | None = None) -> list[dict]:
        return [r for r in self.requests if function is None or r.get("function") == function]

    def answer(self, params: dict):
        if params.get("apikey") != KEY:
            return 200, INVALID_KEY
        function, symbol = params.get("function"), params.get("symbol", "")
        if symbol in THROTTLED:
            return 200, THROTTLED[symbol]
        if symbol == "DEMOKEY":
            return 200, DEMO_KEY
        if symbol == "BOOM":
            return 500, b"<html><body>Internal Server Error</body></html>"
        if symbol == "BUSY429":
            return 429, b"Too Many Requests"
        if symbol == "SLOW":
            return "slow", _global_quote(symbol)
        if symbol == "HTML":
            return 200, b"<!DOCTYPE html><html><body>maintenance</body></html>"
        if function == "GLOBAL_QUOTE":
            if symbol == "NOPE":
                return 200, {"Global Quote": {}}
            if symbol == "BROKEN":
                return 200, {"Global Quote": {"01. symbol": "BROKEN", "05. price": "12.0"}}
            return 200, _global_quote(symbol)
        if function == "TIME_SERIES_DAILY":
            if symbol == "NOPE":
                return 200, INVALID_CALL
            if symbol == "PREM" and params.get("outputsize") == "full":
                return 200, PREMIUM_FULL
            return 200, _daily(symbol, params.get("outputsize", "compact"))
        if function == "OVERVIEW":
            return 200, {} if symbol in ("NOPE", "SPY") else _overview(symbol)
        if function == "SYMBOL_SEARCH":
            return 200, SEARCH.get(params.get("keywords", "").lower(), {"bestMatches": []})
        return 200, {"Error Message": "This API function does not exist."}


@pytest.fixture
def av():
    fake = FakeAlphaVantage()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def client(av):
    # Generous: a loaded CI machine takes a while to serve a decade of daily bars.
    return AlphaVantageProvider(api_key=KEY, base_url=av.url, timeout=5)


@pytest.fixture
def configured(av, settings, monkeypatch):
    """Settings choose Alpha Vantage and point it at the local server; the cache is a fresh local one."""
    settings.MARKET_DATA_PROVIDER = "alphavantage"
    settings.ALPHAVANTAGE_API_KEY = KEY
    settings.ALPHAVANTAGE_BASE_URL = av.url
    settings.DYNAMODB_ENABLED = False
    monkeypatch.setattr(market_cache, "local_cache", LocalCache())
    return av


def test_a_quote_maps_the_global_quote(client, av):
    quote = client.quote("IBM")
    assert quote == {
        "symbol": "IBM", "price": 262.24, "open": 261.07, "high": 263.31, "low": 260.68, "previous_close": 260.57,
        "change": 1.67, "change_percent": 0.6409, "volume": 38322012, "latest_trading_day": "2026-11-27",
        "currency": "USD",
    }
    assert av.calls() == [{"path": "/query", "function": "GLOBAL_QUOTE", "symbol": "IBM", "apikey": KEY}]


def test_a_short_history_asks_for_compact_output_and_keeps_the_period(client, av):
    bars = client.history("IBM", "1mo")
    assert av.calls()[-1]["outputsize"] == "compact"
    assert [bar["date"] for bar in bars] == sorted(bar["date"] for bar in bars)  # oldest first
    assert bars[-1]["date"] == "2026-11-27" and bars[0]["date"] == "2026-10-28"
    assert bars[-1] == {"date": "2026-11-27", "open": _price("IBM", len(DAYS) - 1) - 1,
                        "high": _price("IBM", len(DAYS) - 1) + 2, "low": _price("IBM", len(DAYS) - 1) - 2,
                        "close": _price("IBM", len(DAYS) - 1), "volume": 1_000_000 + len(DAYS) - 1}


def test_a_long_history_asks_for_full_output(client, av):
    bars = client.history("IBM", "2y")
    assert av.calls()[-1]["outputsize"] == "full"
    assert 495 <= len(bars) <= 505 and bars[0]["date"] > "2024-11-27"
    assert len(client.history("IBM", "5d")) == 5 and av.calls()[-1]["outputsize"] == "compact"


def test_a_profile_maps_the_overview(client):
    profile = client.profile("IBM")
    assert profile["name"] == "International Business Machines" and profile["exchange"] == "NYSE"
    assert profile["sector"] == "Technology" and profile["industry"] == "Computer & Office Equipment"
    assert profile["market_cap"] == 231471923000 and profile["beta"] == 0.71
    assert profile["pe_ratio"] is None and profile["dividend_yield"] == 0.0315
    assert profile["description"].startswith("International Business Machines Corporation")


def test_search_maps_the_best_matches(client, av):
    matches = client.search("apple")
    assert [m["symbol"] for m in matches] == ["AAPL34.SAO", "AAPL", "APLE"]
    assert matches[1] == {"symbol": "AAPL", "name": "Apple Inc", "type": "Equity", "exchange": None,
                          "region": "United States", "currency": "USD", "match_score": 0.8889}
    assert av.calls()[-1]["keywords"] == "apple"
    assert client.search("zzzz") == []


@pytest.mark.parametrize("operation", ["quote", "history", "profile"])
def test_an_unknown_symbol_is_unknown_symbol(client, operation):
    args = ("NOPE", "1mo") if operation == "history" else ("NOPE",)
    with pytest.raises(UnknownSymbol) as caught:
        getattr(client, operation)(*args)
    assert caught.value.symbol == "NOPE" and caught.value.source == "alphavantage"


def test_an_error_message_reaches_the_caller(client):
    with pytest.raises(UnknownSymbol, match="Invalid API call"):
        client.history("NOPE", "1y")


@pytest.mark.parametrize("symbol", sorted(THROTTLED))
def test_note_and_information_answers_are_rate_limits(client, symbol):
    with pytest.raises(RateLimited, match="Alpha Vantage"):
        client.quote(symbol)


def test_http_429_is_a_rate_limit(client):
    with pytest.raises(RateLimited, match="429"):
        client.quote("BUSY429")


def test_a_premium_only_request_is_refused_not_rate_limited(client):
    assert client.history("PREM", "1mo")
    with pytest.raises(ProviderUnavailable, match="premium feature"):
        client.history("PREM", "5y")


def test_a_rejected_key_says_so(av):
    wrong = AlphaVantageProvider(api_key="wrong-key", base_url=av.url, timeout=0.5)
    with pytest.raises(ProviderUnavailable, match="API key"):
        wrong.quote("IBM")


def test_a_demo_key_notice_is_not_a_rate_limit(client):
    with pytest.raises(ProviderUnavailable, match="demo purposes"):
        client.quote("DEMOKEY")


def test_without_a_key_no_request_is_made(av):
    with pytest.raises(ProviderUnavailable, match="ALPHAVANTAGE_API_KEY"):
        AlphaVantageProvider(api_key="", base_url=av.url).quote("IBM")
    assert av.requests == []


def test_http_500_is_provider_unavailable(client):
    with pytest.raises(ProviderUnavailable, match="HTTP 500") as caught:
        client.quote("BOOM")
    assert KEY not in str(caught.value)


def test_a_slow_answer_times_out_as_provider_unavailable(av):
    client = AlphaVantageProvider(api_key=KEY, base_url=av.url, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="did not answer") as caught:
        client.quote("SLOW")
    assert time.monotonic() - started < SLOW_SECONDS
    assert KEY not in str(caught.value)


def test_a_refused_connection_is_provider_unavailable():
    with pytest.raises(ProviderUnavailable, match="did not answer"):
        AlphaVantageProvider(api_key=KEY, base_url="http://127.0.0.1:9", timeout=0.5).quote("IBM")


def test_a_body_that_is_not_json_is_provider_unavailable(client):
    with pytest.raises(ProviderUnavailable, match="other than JSON"):
        client.quote("HTML")


def test_an_answer_missing_fields_is_provider_unavailable(client):
    with pytest.raises(ProviderUnavailable, match="unexpected shape"):
        client.quote("BROKEN")


def test_settings_choose_alpha_vantage_and_its_server(configured, settings):
    provider = provider_get()
    assert isinstance(provider, AlphaVantageProvider)
    assert provider.base_url == configured.url and provider.api_key == KEY
    assert provider.timeout == settings.MARKET_DATA_TIMEOUT


def test_the_public_functions_label_alpha_vantage_data_as_real(configured):
    quote = quote_get(symbol="ibm")
    profile = profile_get(symbol="IBM")
    bars = history_get(symbol="IBM", period="3mo")
    matches = symbol_search(query="apple")
    for result in (quote, profile, bars[0], matches[0]):
        assert result["source"] == "alphavantage" and result["demo"] is False and "notice" not in result
        assert result["as_of"].endswith("Z")
    json.dumps([quote, profile, bars, matches])


def test_a_second_lookup_does_not_reach_the_server(configured):
    first = quote_get(symbol="IBM")
    assert quote_get(symbol="IBM") == first
    history_get(symbol="IBM", period="1mo")
    history_get(symbol="IBM", period="1mo")
    assert len(configured.calls("GLOBAL_QUOTE")) == 1 and len(configured.calls("TIME_SERIES_DAILY")) == 1


def test_resolve_symbol_prefers_the_us_listing(configured):
    assert resolve_symbol("apple") == "AAPL"
    assert resolve_symbol("$aapl") == "AAPL"
    assert resolve_symbol("zzzz") is None
    assert len(configured.calls("SYMBOL_SEARCH")) == 3


def test_failures_surface_through_the_public_functions(configured):
    with pytest.raises(RateLimited):
        quote_get(symbol="BUSY")
    with pytest.raises(UnknownSymbol):
        profile_get(symbol="SPY")
    with pytest.raises(ProviderUnavailable):
        history_get(symbol="BOOM")


@pytest.mark.integration
def test_through_dynamodb_a_second_lookup_does_not_reach_the_server(aws, configured, settings):
    settings.DYNAMODB_ENABLED = True
    first = profile_get(symbol="ORCL")
    second = profile_get(symbol="ORCL")
    assert second == first and second["source"] == "alphavantage"
    assert len(configured.calls("OVERVIEW")) == 1
