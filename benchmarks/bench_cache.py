"""Django cache on DynamoDB: a cache hit against raw boto3, and get_many against single gets.

    .venv/bin/python benchmarks/bench_cache.py

Targets: (a) cache.get of a hit within 1.2x of a raw boto3 GetItem of the same item, at the median;
(b) get_many of 100 keys at least 10x faster than 100 single cache.get calls.
The two sides of each comparison run interleaved, so drift on a busy machine hits both alike.
"""

import sys
import time

from harness import report, setup

KEYS = 100
TARGET_GET_RATIO = 1.2
TARGET_BATCH_SPEEDUP = 10.0


def interleaved(a, b, n: int, warmup: int) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately (each goes first half the time); return both in milliseconds."""
    times_a, times_b = [], []
    for i in range(warmup + n):
        pair = []
        for fn in ((a, b) if i % 2 == 0 else (b, a)):
            start = time.perf_counter()
            fn()
            pair.append((fn, (time.perf_counter() - start) * 1000))
        if i >= warmup:
            times = dict(pair)
            times_a.append(times[a])
            times_b.append(times[b])
    return times_a, times_b


def main() -> int:
    server, label = setup()
    try:
        from django.conf import settings
        from django.core.cache import caches

        from stocktool.aws.session import client

        cache, table, ddb = caches["default"], settings.DYNAMODB_TABLE_DJANGO_CACHE, client("dynamodb")
        print(f"endpoint: {label}; {type(cache).__name__} on table {table}")

        cache.set("bench:hit", {"symbol": "AAPL", "price": 123.45, "volume": 1_000_000}, timeout=None)
        key = {"cache_key": {"S": cache.make_key("bench:hit")}}
        assert cache.get("bench:hit")["symbol"] == "AAPL"
        hit, raw = interleaved(
            lambda: cache.get("bench:hit"),
            lambda: ddb.get_item(TableName=table, Key=key, ConsistentRead=True),  # the request cache.get sends
            n=400, warmup=50,
        )
        a = report("(a) Read one cached value (a hit)", [
            ("raw boto3 get_item, same request", raw),
            ("cache.get", hit),
        ], baseline="raw boto3 get_item, same request")

        keys = [f"bench:batch:{i}" for i in range(KEYS)]
        cache.set_many({k: {"n": i, "name": f"item {i}"} for i, k in enumerate(keys)}, timeout=None)
        assert len(cache.get_many(keys)) == KEYS
        many, singles = interleaved(lambda: cache.get_many(keys), lambda: [cache.get(k) for k in keys],
                                    n=25, warmup=3)
        b = report(f"(b) Read {KEYS} cached values", [
            (f"cache.get_many, {KEYS} keys", many),
            (f"{KEYS} x cache.get", singles),
        ], baseline=f"cache.get_many, {KEYS} keys")
    finally:
        if server:
            server.stop()

    ratio = a["cache.get"]["median"] / a["raw boto3 get_item, same request"]["median"]
    speedup = b[f"{KEYS} x cache.get"]["median"] / b[f"cache.get_many, {KEYS} keys"]["median"]
    print(f"\n  (a) cache hit / raw GetItem, medians: {ratio:.2f}x   (target <= {TARGET_GET_RATIO}x)")
    print(f"  (b) get_many speed-up over single gets: {speedup:.1f}x   (target >= {TARGET_BATCH_SPEEDUP:.0f}x)")
    met = ratio <= TARGET_GET_RATIO and speedup >= TARGET_BATCH_SPEEDUP
    print(f"  targets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
