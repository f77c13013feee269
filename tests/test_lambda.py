"""The stock updater's handler, called in-process as Lambda would, against the emulator's stock-data cache."""

from types import SimpleNamespace

import pytest

from analysis import market_data
from lambda_functions.stock_updater.handler import lambda_handler
from stocktool.aws import get_dynamodb_service

pytestmark = pytest.mark.integration

SCHEDULED_EVENT = {  # what EventBridge sends a scheduled rule's target
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-03-02T21:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/stocktool-stock-updater-schedule"],
    "detail": {},
}


def _context(remaining_ms: int = 300_000):
    return SimpleNamespace(function_name="stocktool-stock-updater", aws_request_id="req-1",
                           get_remaining_time_in_millis=lambda: remaining_ms)


def _cached(symbol: str, namespace: str):
    return get_dynamodb_service("cache").get_cache_item(symbol, namespace=namespace)


def _forget(*symbols: str, period: str = "1y") -> None:
    cache = get_dynamodb_service("cache")
    for symbol in symbols:
        cache.delete_cache_item(symbol, namespace="demo/quote")
        cache.delete_cache_item(symbol, namespace=f"demo/history:{period}")


def test_a_scheduled_event_fills_the_cache_with_the_watchlist(aws, settings):
    settings.WATCHLIST_SYMBOLS = ["SPY", "AAPL", "MSFT"]
    _forget("SPY", "AAPL", "MSFT")
    result = lambda_handler(SCHEDULED_EVENT, _context())
    assert result["statusCode"] == 200
    assert result["requested"] == result["refreshed"] == 3 and result["failed"] == 0
    assert result["symbols"] == ["SPY", "AAPL", "MSFT"]
    assert result["provider"] == "demo" and result["period"] == settings.WATCHLIST_HISTORY_PERIOD
    for symbol in ("SPY", "AAPL", "MSFT"):
        assert _cached(symbol, "demo/quote")["symbol"] == symbol
        history = _cached(symbol, f"demo/history:{settings.WATCHLIST_HISTORY_PERIOD}")
        assert len(history["columns"]["close"]) > 200  # a year of daily bars
    # The app's own lookup is now a hit on what the function stored.
    assert market_data.quote_get(symbol="AAPL")["as_of"] == _cached("AAPL", "demo/quote")["as_of"]


def test_an_event_may_name_its_symbols_and_period(aws):
    _forget("NVDA", period="1mo")
    result = lambda_handler({"symbols": "nvda, $nvda", "period": "1mo"}, _context())
    assert result["statusCode"] == 200
    assert result["symbols"] == ["NVDA"]  # normalised, and refreshed once
    assert _cached("NVDA", "demo/history:1mo") is not None


def test_bad_symbols_are_reported_in_the_summary_not_raised(aws):
    result = lambda_handler({"symbols": ["AAPL", "ZZZZ", "$$$", 42, ""]}, _context())
    assert result["statusCode"] == 207
    assert result["refreshed"] == 1 and result["failed"] == 4
    errors = {f["symbol"]: f["error"] for f in result["failures"]}
    assert errors == {"ZZZZ": "unknown_symbol", "$$$": "invalid_input", "42": "invalid_input",
                      "": "invalid_input"}
    assert all(f["message"] for f in result["failures"])


def test_only_bad_symbols_answer_400(aws):
    result = lambda_handler({"symbols": ["NOPE1", "!!"]}, _context())
    assert result["statusCode"] == 400 and result["refreshed"] == 0


def test_a_bad_period_fails_every_symbol_without_raising(aws):
    result = lambda_handler({"symbols": ["AAPL"], "period": "3w"}, _context())
    assert result["statusCode"] == 400
    assert result["failures"][0]["error"] == "invalid_input"


def test_a_refresh_replaces_what_the_cache_held(aws):
    cache = get_dynamodb_service("cache")
    stale = {"symbol": "MSFT", "price": 1.0, "as_of": "2000-01-01T00:00:00Z", "source": "demo", "demo": True}
    cache.put_cache_item("MSFT", stale, ttl_seconds=86400, namespace="demo/quote")
    result = lambda_handler({"symbols": ["MSFT"]}, _context())
    assert result["statusCode"] == 200
    fresh = _cached("MSFT", "demo/quote")
    assert fresh["as_of"] != stale["as_of"] and fresh["price"] != 1.0


def test_a_cache_that_fails_is_reported_as_502(aws, settings):
    settings.DYNAMODB_TABLE_CACHE = settings.DYNAMODB_TABLE_CACHE + "-missing"
    result = lambda_handler({"symbols": ["AAPL"]}, _context())
    assert result["statusCode"] == 502
    assert result["failures"][0]["error"] == "cache_unavailable"
    assert "ResourceNotFoundException" in result["failures"][0]["message"]


def test_it_stops_before_the_function_times_out(aws):
    result = lambda_handler({"symbols": ["AAPL", "MSFT"]}, _context(remaining_ms=5_000))
    assert result["refreshed"] == 0
    assert [f["error"] for f in result["failures"]] == ["out_of_time", "out_of_time"]
    assert result["statusCode"] == 502


def test_a_context_without_a_clock_and_a_non_dict_event_are_fine(aws, settings):
    settings.WATCHLIST_SYMBOLS = ["AAPL"]
    assert lambda_handler(None, None)["statusCode"] == 200
