"""AWS Lambda entry point: refresh the watchlist's quotes and recent history in the DynamoDB stock-data cache.

EventBridge invokes it at market close (``deploy_lambdas`` creates the rule). A scheduled event carries no
symbols, so ``WATCHLIST_SYMBOLS`` decides; an event may name its own: ``{"symbols": ["AAPL", "MSFT"],
"period": "1mo"}``. The answer is the refresh's summary with a ``statusCode``: 200 all refreshed, 207 some,
400 none because every symbol was bad, 502 none because the provider or the cache failed.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lambda_settings")

import django
from django.apps import apps

if not apps.ready:  # once per cold start (tests import this module inside an already set-up Django)
    django.setup()

from analysis.refresh import BAD_INPUT, stock_refresh

SAFETY_MS = 10_000  # stop starting new symbols this close to the function's timeout


def lambda_handler(event, context) -> dict:
    event = event if isinstance(event, dict) else {}
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    summary = stock_refresh(
        symbols=event.get("symbols"),
        period=event.get("period"),
        out_of_time=(lambda: remaining() < SAFETY_MS) if remaining else None,
    )
    return {"statusCode": _status(summary), **summary}


def _status(summary: dict) -> int:
    if not summary["failures"]:
        return 200
    if summary["refreshed"]:
        return 207
    if all(failure["error"] in BAD_INPUT for failure in summary["failures"]):
        return 400
    return 502
