"""One per-user limit on chat messages (CHAT_RATE_LIMIT), shared by the API, the WebSocket and the form post.

The count lives in the Django cache (DynamoDB in production), so every web process shares it. A window opens
with a user's first message and lasts one period: ``add`` opens it, ``incr`` (an atomic UpdateItem ADD) counts.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

from stocktool.aws import AWSError

logger = logging.getLogger(__name__)
PERIODS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "hour": 3600, "day": 86400}


def chat_rate_parse(rate: str) -> tuple[int, int]:
    """"30/min" -> (30, 60): messages allowed, and the window in seconds."""
    count, period = rate.split("/")
    return int(count), PERIODS[period]


def chat_rate_take(*, user) -> int | None:
    """Count one message for ``user``: None when it may go, else the seconds until the window reopens."""
    limit, period = chat_rate_parse(settings.CHAT_RATE_LIMIT)
    key = f"chat-rate:{user.pk}"
    now = time.time()
    try:
        if cache.add(key, 1, period):
            cache.set(f"{key}:start", now, period)
            return None
        try:
            count = cache.incr(key)
        except ValueError:  # the window closed between add and incr
            cache.set(key, 1, period)
            cache.set(f"{key}:start", now, period)
            return None
        if count <= limit:
            return None
        start = cache.get(f"{key}:start", now)
    except AWSError as exc:  # the limit protects the model; a cache outage alone must not stop the chat
        logger.warning("chat rate limit not checked (cache unavailable): %s", exc)
        return None
    return max(1, math.ceil(start + period - now))


def chat_rate_message(retry_after: int) -> str:
    limit, period = chat_rate_parse(settings.CHAT_RATE_LIMIT)
    unit = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}[period]
    return (f"Too many messages: the limit is {limit} a {unit}. "
            f"Try again in {retry_after} second{'s' if retry_after != 1 else ''}.")
