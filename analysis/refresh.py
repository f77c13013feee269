"""Refresh the watchlist in the stock-data cache: each symbol's latest quote and recent daily history.

The Lambda function (``lambda_functions/stock_updater``) and the Celery beat task both call ``stock_refresh``
at market close, so the first analysis or chat question after the close is a cache hit with the day's prices.
A refresh evicts the cached entries and reads them back through the app's own market-data code, so the cache
holds exactly what a lookup would have stored. A symbol's failure goes into the summary, never raised.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings

from stocktool.aws import AWSError

from . import market_data
from .market_data.cache import cache_store
from .market_data.errors import InvalidInput, MarketDataError
from .market_data.providers import Provider, provider_get
from .market_data.validation import period_normalize, symbol_normalize

logger = logging.getLogger(__name__)

BAD_INPUT = frozenset({InvalidInput.code, "unknown_symbol"})


def stock_refresh(*, symbols=None, period: str | None = None, provider: Provider | None = None,
                  out_of_time: Callable[[], bool] | None = None) -> dict:
    """Refresh ``symbols`` (default: ``WATCHLIST_SYMBOLS``) and ``period`` of history; return a summary.

    ``symbols`` may be a list or a comma-separated string. The summary holds the provider, the period, the
    refreshed tickers, and one ``{symbol, error, message}`` per failure (``error`` is the market-data error
    code, ``cache_unavailable``, ``cache_write_failed`` or ``out_of_time``).
    """
    started = time.perf_counter()
    wanted = _symbol_list(settings.WATCHLIST_SYMBOLS if symbols is None else symbols)
    summary = {"provider": None, "period": None, "requested": len(wanted), "refreshed": 0, "failed": 0,
               "symbols": [], "failures": []}
    try:
        summary["period"] = period_normalize(period or settings.WATCHLIST_HISTORY_PERIOD)
        provider = provider or provider_get()
    except MarketDataError as exc:
        summary["failures"] = [_failure(raw, exc.code, exc) for raw in wanted]
    else:
        summary["provider"] = provider.name
        _refresh_all(wanted, summary, provider, out_of_time or (lambda: False))
    summary["failed"] = len(summary["failures"])
    summary["refreshed"] = len(summary["symbols"])
    summary["seconds"] = round(time.perf_counter() - started, 3)
    log = logger.warning if summary["failed"] else logger.info
    log("stock refresh: %d of %d symbols refreshed", summary["refreshed"], summary["requested"],
        extra={"refresh": summary})
    return summary


def _refresh_all(wanted: list, summary: dict, provider: Provider, out_of_time: Callable[[], bool]) -> None:
    store, seen = cache_store(), set()
    for i, raw in enumerate(wanted):
        if out_of_time():
            late = "not refreshed: time ran out"
            summary["failures"] += [_failure(r, "out_of_time", late) for r in wanted[i:]]
            return
        try:
            symbol = symbol_normalize(raw)
        except InvalidInput as exc:
            summary["failures"].append(_failure(raw, exc.code, exc))
            continue
        if symbol in seen:
            continue
        seen.add(symbol)
        failure = _refresh_one(symbol, summary["period"], provider, store)
        if failure:
            summary["failures"].append(failure)
        else:
            summary["symbols"].append(symbol)


def _refresh_one(symbol: str, period: str, provider: Provider, store) -> dict | None:
    # The namespaces quote_get and history_series_get cache under (see analysis.market_data).
    namespaces = (f"{provider.name}/quote", f"{provider.name}/history:{period}")
    try:
        for namespace in namespaces:
            _evict(store, symbol, namespace)
        market_data.quote_get(symbol=symbol, provider=provider)
        market_data.history_series_get(symbol=symbol, period=period, provider=provider)
        # The lookups skip a failed cache write (serving matters more there); a refresh exists to write.
        missing = [ns for ns in namespaces if store.get_cache_item(symbol, namespace=ns) is None]
    except MarketDataError as exc:
        return _failure(symbol, exc.code, exc)
    except AWSError as exc:
        return _failure(symbol, "cache_unavailable", exc)
    if missing:
        return _failure(symbol, "cache_write_failed", f"not cached after refreshing: {', '.join(missing)}")
    return None


def _evict(store, symbol: str, namespace: str) -> None:
    delete = getattr(store, "delete_cache_item", None)
    if delete is None:  # the process-local stand-in: its entries expire on their own
        return
    try:
        delete(symbol, namespace=namespace)
    except Exception as exc:  # StockCache.delete_cache_item lets botocore's errors through untranslated
        raise AWSError(f"cache delete {namespace}/{symbol}: {exc}") from exc


def _symbol_list(symbols) -> list:
    if isinstance(symbols, str):
        return [s for s in (part.strip() for part in symbols.split(",")) if s]
    if isinstance(symbols, list | tuple):
        return list(symbols)
    return [symbols]  # reported as not a ticker


def _failure(symbol, error: str, message) -> dict:
    name = symbol if isinstance(symbol, str) else repr(symbol)
    return {"symbol": name, "error": error, "message": str(message)}
