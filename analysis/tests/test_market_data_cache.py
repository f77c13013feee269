"""Every market-data lookup goes through the stock-data cache: DynamoDB on the embedded emulator over HTTP, or a
process-local dict when DynamoDB is off. A counting provider shows when the provider is (not) asked."""

import time
import uuid
from collections import Counter
from datetime import date

import pytest

from analysis.market_data import (
    UnknownSymbol,
    history_get,
    history_series_get,
    profile_get,
    quote_get,
    resolve_symbol,
    symbol_search,
)
from analysis.market_data import cache as market_cache
from analysis.market_data.cache import LocalCache
from analysis.market_data.providers.demo import DemoProvider
from monitoring import metrics
from stocktool.aws import get_dynamodb_service
from stocktool.aws.session import client, reset_clients

TODAY = date(2026, 11, 27)


class CountingProvider(DemoProvider):
    """The demo market under a fresh name (so its cache entries are its own) that counts provider calls."""

    def __init__(self):
        super().__init__(today=TODAY)
        self.name = f"counting-{uuid.uuid4().hex[:8]}"
        self.calls = Counter()

    def quote(self, symbol):
        self.calls["quote"] += 1
        return super().quote(symbol)

    def history(self, symbol, period):
        self.calls["history"] += 1
        return super().history(symbol, period)

    def profile(self, symbol):
        self.calls["profile"] += 1
        return super().profile(symbol)

    def search(self, query):
        self.calls["search"] += 1
        return super().search(query)


@pytest.fixture
def provider():
    return CountingProvider()


@pytest.fixture
def lookups(monkeypatch):
    """Record what each lookup reports through the metrics contract."""
    seen = []

    def spy(cache_name, hit, elapsed_ms=None):
        seen.append((cache_name, hit, elapsed_ms))

    monkeypatch.setattr(metrics, "track_cache", spy)
    return seen


@pytest.fixture
def local(settings, monkeypatch):
    settings.DYNAMODB_ENABLED = False
    clock = [1000.0]
    store = LocalCache(clock=lambda: clock[0])
    monkeypatch.setattr(market_cache, "local_cache", store)
    return clock


def _raw_item(key, namespace):
    from django.conf import settings

    return client("dynamodb").get_item(
        TableName=settings.DYNAMODB_TABLE_CACHE, Key={"symbol": {"S": key}, "data_type": {"S": namespace}},
    ).get("Item")


@pytest.mark.integration
class TestDynamoDB:
    def test_a_second_quote_is_a_hit_and_skips_the_provider(self, aws, provider, lookups):
        first = quote_get(symbol="AAPL", provider=provider)
        second = quote_get(symbol="aapl", provider=provider)
        assert provider.calls["quote"] == 1
        assert second == first  # as_of included: it is the cached answer
        assert [(name, hit) for name, hit, _ in lookups] == [("stock-data", False), ("stock-data", True)]
        assert all(isinstance(ms, float) and ms >= 0 for _, _, ms in lookups)
        stored = get_dynamodb_service("cache").get_cache_item("AAPL", namespace=f"{provider.name}/quote")
        assert stored["price"] == first["price"] and stored["source"] == provider.name

    def test_cached_numbers_keep_their_types(self, aws, provider):
        quote_get(symbol="KO", provider=provider)
        cached = quote_get(symbol="KO", provider=provider)
        for field in ("price", "open", "high", "low", "previous_close", "change", "change_percent"):
            assert isinstance(cached[field], float), field
        assert isinstance(cached["volume"], int)

    def test_a_long_history_round_trips_through_one_item(self, aws, provider):
        fresh = history_get(symbol="MSFT", period="max", provider=provider)
        cached = history_get(symbol="MSFT", period="max", provider=provider)
        assert provider.calls["history"] == 1
        assert cached == fresh and len(cached) > 2900
        assert [{k: bar[k] for k in ("date", "open", "high", "low", "close", "volume")} for bar in cached] == \
            DemoProvider(today=TODAY).history("MSFT", "max")
        assert isinstance(cached[0]["close"], float) and cached[0]["date"] == "2015-01-02"

    def test_each_period_is_its_own_entry(self, aws, provider):
        history_series_get(symbol="JPM", period="1mo", provider=provider)
        history_series_get(symbol="JPM", period="1y", provider=provider)
        history_series_get(symbol="JPM", period="1mo", provider=provider)
        assert provider.calls["history"] == 2
        assert _raw_item("JPM", f"{provider.name}/history:1y") is not None

    def test_profiles_and_searches_are_cached(self, aws, provider):
        assert profile_get(symbol="IBM", provider=provider) == profile_get(symbol="IBM", provider=provider)
        assert symbol_search(query="Apple", provider=provider) == symbol_search(query="apple", provider=provider)
        assert resolve_symbol("apple", provider=provider) == "AAPL"
        assert provider.calls == Counter({"profile": 1, "search": 1})

    def test_entries_expire_after_the_ttl_each_kind_has(self, aws, provider, settings):
        settings.MARKET_DATA_TTL_QUOTE = 300
        settings.MARKET_DATA_TTL_PROFILE = 86400
        quote_get(symbol="PG", provider=provider)
        profile_get(symbol="PG", provider=provider)
        now_ms = time.time() * 1000
        quote_expiry = int(_raw_item("PG", f"{provider.name}/quote")["expires_at_ms"]["N"])
        profile_expiry = int(_raw_item("PG", f"{provider.name}/profile")["expires_at_ms"]["N"])
        assert quote_expiry - now_ms == pytest.approx(300_000, abs=10_000)
        assert profile_expiry - now_ms == pytest.approx(86_400_000, abs=10_000)

    def test_an_expired_entry_is_fetched_again(self, aws, provider):
        quote_get(symbol="XOM", provider=provider)
        store = get_dynamodb_service("cache")
        store.put_cache_item("XOM", {"symbol": "XOM", "price": 1.0}, ttl_seconds=0, namespace=f"{provider.name}/quote")
        refreshed = quote_get(symbol="XOM", provider=provider)
        assert provider.calls["quote"] == 2
        assert refreshed["price"] != 1.0 and refreshed["source"] == provider.name
        quote_get(symbol="XOM", provider=provider)
        assert provider.calls["quote"] == 2  # the refreshed entry serves the next lookup

    def test_errors_are_not_cached(self, aws, provider):
        for _ in range(2):
            with pytest.raises(UnknownSymbol):
                quote_get(symbol="ZZZZ", provider=provider)
        assert provider.calls["quote"] == 2

    def test_a_cache_that_cannot_be_reached_is_skipped(self, aws, provider, settings, lookups):
        settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
        reset_clients()
        try:
            quote = quote_get(symbol="CAT", provider=provider)
        finally:
            reset_clients()
        assert quote["symbol"] == "CAT" and provider.calls["quote"] == 1
        assert [hit for _, hit, _ in lookups] == [False]


class TestLocalCache:
    def test_without_dynamodb_a_process_local_cache_serves_the_second_lookup(self, local, provider, lookups):
        first = quote_get(symbol="AAPL", provider=provider)
        assert quote_get(symbol="AAPL", provider=provider) == first
        assert provider.calls["quote"] == 1
        assert [(name, hit) for name, hit, _ in lookups] == [("stock-data", False), ("stock-data", True)]

    def test_a_local_entry_expires_after_its_ttl(self, local, provider, settings):
        settings.MARKET_DATA_TTL_QUOTE = 300
        quote_get(symbol="AAPL", provider=provider)
        local[0] += 299
        quote_get(symbol="AAPL", provider=provider)
        assert provider.calls["quote"] == 1
        local[0] += 2
        quote_get(symbol="AAPL", provider=provider)
        assert provider.calls["quote"] == 2

    def test_history_and_search_go_through_the_local_cache(self, local, provider):
        history_get(symbol="SPY", period="6mo", provider=provider)
        history_get(symbol="SPY", period="6mo", provider=provider)
        symbol_search(query="bank", provider=provider)
        symbol_search(query="BANK ", provider=provider)
        assert provider.calls == Counter({"history": 1, "search": 1})

    def test_callers_cannot_change_what_is_cached(self, local, provider):
        quote_get(symbol="AAPL", provider=provider)["price"] = -1
        assert quote_get(symbol="AAPL", provider=provider)["price"] > 0

    def test_the_local_cache_is_bounded(self):
        store = LocalCache(max_entries=2)
        for key in ("A", "B", "C"):
            store.put_cache_item(key, {"k": key}, ttl_seconds=60, namespace="quote")
        assert store.get_cache_item("A", namespace="quote") is None
        assert store.get_cache_item("C", namespace="quote") == {"k": "C"}
        assert store.get_cache_item("C", namespace="profile") is None
