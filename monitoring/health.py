"""Dependency checks for /health: each enabled dependency, its round trip, and what is down."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from stocktool import aws


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _dynamodb() -> None:
    for kind in ("conversation", "cache"):
        aws.get_dynamodb_service(kind).ping()


def checks() -> dict[str, Callable[[], None]]:
    enabled = {
        "s3": (settings.S3_ENABLED, lambda: aws.get_s3_service().ping()),
        "dynamodb": (settings.DYNAMODB_ENABLED, _dynamodb),
        "sqs": (settings.SQS_ENABLED, lambda: aws.get_sqs_service().ping()),
        "sns": (settings.SNS_ENABLED, lambda: aws.get_sns_service().ping()),
        "cloudwatch": (settings.CLOUDWATCH_ENABLED, lambda: aws.get_cloudwatch_service().ping()),
    }
    return {name: fn for name, (on, fn) in enabled.items() if on}


def _timed(fn: Callable[[], None]) -> dict:
    start = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # any failure means "down"; the reason is shown, not raised
        return {"ok": False, "ms": round((time.perf_counter() - start) * 1000, 1), "error": str(exc)[:300]}
    return {"ok": True, "ms": round((time.perf_counter() - start) * 1000, 1)}


_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="health")


def aws_status() -> dict[str, dict]:
    """Probe every enabled AWS dependency in parallel (each with one attempt and short timeouts)."""
    futures = {name: _pool.submit(_timed, fn) for name, fn in checks().items()}
    return {name: future.result() for name, future in futures.items()}


def database_status() -> dict:
    return _timed(_database)


def report(results: dict[str, dict]) -> tuple[dict, int]:
    down = sorted(name for name, result in results.items() if not result["ok"])
    body = {
        "status": "ok" if not down else "degraded",
        "down": down,
        "endpoint": settings.AWS_ENDPOINT_URL or "aws",
        "checks": results,
    }
    return body, 200 if not down else 503
