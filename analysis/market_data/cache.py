"""The stock-data cache in front of every provider call.

DynamoDB (``get_dynamodb_service('cache')``) when ``DYNAMODB_ENABLED``, else a process-local dict with the same
expiry rules. Each lookup reports a hit or miss and its time as ``track_cache("stock-data", ...)``. A cache that
fails is skipped, not fatal: market data is still served from the provider.
"""

import copy
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.conf import settings

from monitoring import metrics
from stocktool.aws import AWSError, get_dynamodb_service

CACHE_NAME = "stock-data"
logger = logging.getLogger(__name__)


class LocalCache:
    """A bounded in-process stand-in for ``StockCache`` (same method names, same expiry rules)."""

    def __init__(self, *, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.clock = clock
        self._items: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_cache_item(self, key: str, namespace: str = "quotes"):
        with self._lock:
            found = self._items.get((namespace, key))
            if found is None:
                return None
            expires_at, value = found
            if expires_at <= self.clock():
                del self._items[(namespace, key)]
                return None
            return copy.deepcopy(value)

    def put_cache_item(self, key: str, value, ttl_seconds: int = 300, namespace: str = "quotes") -> None:
        with self._lock:
            self._items[(namespace, key)] = (self.clock() + ttl_seconds, copy.deepcopy(value))
            self._items.move_to_end((namespace, key))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


local_cache = LocalCache()


def cache_store():
    return get_dynamodb_service("cache") if settings.DYNAMODB_ENABLED else local_cache


def cached(*, namespace: str, key: str, ttl_seconds: int, fetch: Callable[[], Any]) -> Any:
    """Return the cached value for ``namespace``/``key``, or ``fetch()`` it and cache it for ``ttl_seconds``."""
    store = cache_store()
    started = time.perf_counter()
    try:
        value = store.get_cache_item(key, namespace=namespace)
    except AWSError as exc:
        logger.warning("stock-data cache read failed, asking the provider: %s", exc)
        value = None
    metrics.track_cache(CACHE_NAME, value is not None, (time.perf_counter() - started) * 1000)
    if value is not None:
        return value
    value = fetch()
    try:
        store.put_cache_item(key, value, ttl_seconds=ttl_seconds, namespace=namespace)
    except AWSError as exc:
        logger.warning("stock-data cache write failed for %s/%s: %s", namespace, key, exc)
    return value
