"""Shared set-up for the benchmarks: a fresh embedded emulator, Django, timing and a printed table.

Each benchmark starts its own moto server on a free port (or uses AWS_ENDPOINT_URL when it is set, e.g.
LocalStack), so figures always say which emulator they come from.
"""

import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(prefix: str = "bench-"):
    """Start an emulator unless AWS_ENDPOINT_URL is set, configure Django, bootstrap; return (emulator, label)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocktool.settings.base")
    os.environ.setdefault("DEBUG", "true")
    os.environ["CLOUDWATCH_ENABLED"] = os.environ.get("CLOUDWATCH_ENABLED", "true")
    server = None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        from stocktool.aws.emulator import Emulator

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = Emulator(port)
        os.environ["AWS_ENDPOINT_URL"] = server.start()
        label = f"embedded moto server ({os.environ['AWS_ENDPOINT_URL']})"
    else:
        label = os.environ["AWS_ENDPOINT_URL"]
    for name in ("S3_BUCKET_NAME", "DYNAMODB_TABLE_CONVERSATIONS", "DYNAMODB_TABLE_CACHE",
                 "DYNAMODB_TABLE_DJANGO_CACHE", "SQS_QUEUE_ANALYSIS", "SQS_QUEUE_ANALYSIS_DLQ",
                 "SNS_TOPIC_NOTIFICATIONS"):
        os.environ.setdefault(name, prefix + name.lower().replace("_", "-"))
    try:
        import django

        django.setup()
        from stocktool.provisioning.bootstrap import bootstrap

        bootstrap()
    except BaseException:
        if server:
            server.stop()  # never leave an emulator behind
        raise
    return server, label


def measure(fn, n: int = 200, warmup: int = 20) -> list[float]:
    """Run ``fn`` ``n`` times after a warm-up; return the times in milliseconds."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))],
        "n": len(ordered),
    }


def report(title: str, rows: list[tuple[str, list[float]]], baseline: str | None = None) -> dict:
    """Print median, p95 and the ratio of each row's median to the baseline row's median."""
    computed = {name: stats(samples) for name, samples in rows}
    base = computed[baseline]["median"] if baseline else None
    print(f"\n{title}")
    print(f"  {'case':<44} {'median ms':>10} {'p95 ms':>10} {'n':>6} {'ratio':>8}")
    for name, s in computed.items():
        ratio = f"{s['median'] / base:.2f}x" if base else ""
        print(f"  {name:<44} {s['median']:>10.3f} {s['p95']:>10.3f} {s['n']:>6} {ratio:>8}")
    return computed
