"""Request middleware: a request id for logs and tasks, and ``APILatency`` per route, method and status class.

Both are sync- and async-capable, so under ASGI they add no thread hop (a sync-only middleware costs a
``sync_to_async`` round trip per request). The metric only goes into the in-process buffer.
"""

import os
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from stocktool.aws.cloudwatch import API_LATENCY, MS

from . import metrics
from .logs import HEADER, request_id, valid_request_id

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no URL pattern matched (404s): one series, whatever the path

_perf_counter = time.perf_counter


class _BothModes:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)


class RequestIdMiddleware(_BothModes):
    """Take the caller's ``X-Request-ID`` (if plain) or make one; expose it to logs, tasks and the response."""

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        rid, token = self._begin(request)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response

    async def __acall__(self, request):
        rid, token = self._begin(request)
        try:
            response = await self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response

    @staticmethod
    def _begin(request):
        rid = valid_request_id(request.headers.get(HEADER)) or os.urandom(16).hex()
        request.request_id = rid
        return rid, request_id.set(rid)


class MetricsMiddleware(_BothModes):
    """Record each request's latency with the URL pattern's name (never the raw path) as ``Route``."""

    def __init__(self, get_response):
        super().__init__(get_response)
        self._dimensions: dict[tuple, tuple] = {}

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        start = _perf_counter()
        try:
            response = self.get_response(request)
        except BaseException:
            self._record(request, 500, start)
            raise
        self._record(request, response.status_code, start)
        return response

    async def __acall__(self, request):
        start = _perf_counter()
        try:
            response = await self.get_response(request)
        except BaseException:
            self._record(request, 500, start)
            raise
        self._record(request, response.status_code, start)
        return response

    def _record(self, request, status: int, start: float) -> None:
        elapsed_ms = (_perf_counter() - start) * 1000
        match = request.resolver_match
        method = request.method if request.method in METHODS else "OTHER"  # bounded: any verb can come in
        key = (match.route, match.view_name, method, status // 100) if match else (None, None, method, status // 100)
        dims = self._dimensions.get(key)
        if dims is None:
            dims = self._dimensions[key] = dimensions(request, status)
        metrics.append(API_LATENCY, elapsed_ms, MS, dims)


def route_of(match) -> str:
    """The URL pattern's name (``app:name``), else its route pattern; never the requested path."""
    if match is None:
        return UNMATCHED
    if match.url_name:
        return match.view_name
    return match.route or UNMATCHED


def dimensions(request, status: int) -> tuple[tuple[str, str], ...]:
    method = request.method if request.method in METHODS else "OTHER"
    return (
        ("Method", method),
        ("Route", route_of(request.resolver_match)[:255]),
        ("StatusClass", f"{status // 100}xx"),
    )
