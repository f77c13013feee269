"""Metrics on the request path: what the latency middleware and ``record()`` cost.

1. A request to an async view through Django's ASGI handler (in-process, no network: the most sensitive
   measure of a middleware's cost) with the default middleware stack, with ``MetricsMiddleware`` added (its
   data points go to the in-process buffer), and with both monitoring middlewares, plus a second copy of the
   default stack whose distance from the first shows the noise floor. Cases take turns request by request;
   throughput is requests per second of handler time. Then MetricsMiddleware alone, around a bare view.
2. ``record()`` against one direct PutMetricData call to the emulator.
3. After a flush, CloudWatch's SampleCount of ``APILatency`` equals the requests the middleware saw.

Run: ``.venv/bin/python benchmarks/bench_metrics.py`` (starts its own moto server on a free port).
"""

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from django.http import HttpResponse
from django.urls import path
from harness import measure, report, setup

REQUESTS, WARMUP = 6000, 300  # per case


async def async_item(request, pk):
    return HttpResponse("ok")


urlpatterns = [
    path("a/items/<int:pk>/", async_item, name="bench-async-item"),
]


def handler(middleware: list[str]):
    from django.core.handlers.asgi import ASGIHandler
    from django.test import override_settings

    with override_settings(MIDDLEWARE=middleware):
        return ASGIHandler()  # the chain is built now, from these settings


async def one_request(app, url: str) -> float:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    sent = False
    never = asyncio.get_running_loop().create_future()

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await never  # no disconnect: Django cancels this listener when the response is done

    status = []

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    start = time.perf_counter()
    await app(scope, receive, send)
    elapsed = (time.perf_counter() - start) * 1000
    assert status == [200], status
    return elapsed


async def compare(cases: dict, prefix: str) -> dict[str, list[float]]:
    """Round-robin, one request per case in turn, the order rotating: GC, the thread Django starts and ends
    for each request, and drift hit every case alike."""
    samples = {name: [] for name in cases}
    names = list(cases)
    for i in range(WARMUP + REQUESTS):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            elapsed = await one_request(cases[name], f"{prefix}{i}/")
            if i >= WARMUP:
                samples[name].append(elapsed)
    return samples


async def middleware_alone(n: int = 100_000) -> tuple[float, float]:
    """Microseconds per call of an async get_response, bare and wrapped in MetricsMiddleware."""
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import resolve

    from monitoring import metrics
    from monitoring.buffer import MetricsBuffer
    from monitoring.middleware import MetricsMiddleware

    response = HttpResponse("ok")

    async def view(request):
        return response

    request = RequestFactory().get("/a/items/1/")
    request.resolver_match = resolve("/a/items/1/")
    wrapped = MetricsMiddleware(view)
    shared, metrics._buffer = metrics._buffer, MetricsBuffer(n)  # far faster than any server: keep it apart
    out = []
    try:
        for fn in (view, wrapped, view, wrapped):
            start = time.perf_counter()
            for _ in range(n):
                await fn(request)
            out.append((time.perf_counter() - start) / n * 1e6)
    finally:
        metrics._buffer = shared
    return min(out[0], out[2]), min(out[1], out[3])


def throughput(samples: list[float]) -> float:
    return len(samples) / (sum(samples) / 1000)


def main() -> None:
    os.environ.setdefault("CLOUDWATCH_NAMESPACE", f"StockToolBench{int(time.time())}")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    server, label = setup("bench-metrics-")
    try:
        run(label)
    finally:
        if server:
            server.stop()


def run(label: str) -> None:
    from django.conf import settings

    from monitoring import metrics
    from stocktool.aws.session import client

    settings.ROOT_URLCONF = sys.modules[__name__]  # resolved per request: this module's two views
    print(f"Metrics benchmark on {label}; {REQUESTS} requests a case, round-robin")
    monitoring = ["monitoring.middleware.RequestIdMiddleware", "monitoring.middleware.MetricsMiddleware"]
    base = [m for m in settings.MIDDLEWARE if m not in monitoring]
    control, baseline = "default middleware (control copy)", "default middleware, no metrics"
    cases = {
        control: handler(base),  # an identical stack: how far apart two equal cases come out (noise floor)
        baseline: handler(base),
        "+ MetricsMiddleware (buffer)": handler(["monitoring.middleware.MetricsMiddleware", *base]),
        "+ RequestId + Metrics middleware": handler([*monitoring, *base]),
    }
    samples = asyncio.run(compare(cases, "/a/items/"))
    computed = report("Request through Django's ASGI handler (async view, in-process)",
                      [(name, samples[name]) for name in cases], baseline=baseline)
    base_tp, base_median = throughput(samples[baseline]), computed[baseline]["median"]
    for name in cases:
        if name != baseline:
            print(f"  {name}: throughput {throughput(samples[name]) / base_tp:.1%} of the default stack's, "
                  f"median {(computed[name]['median'] - base_median) * 1000:+.1f} us a request")

    cw = client("cloudwatch")
    namespace = settings.CLOUDWATCH_NAMESPACE
    datum = [{"MetricName": "BenchDirect", "Value": 1.0, "Unit": "Count", "Dimensions": [{"Name": "Kind", "Value": "x"}]}]
    put = measure(lambda: cw.put_metric_data(Namespace=namespace, MetricData=datum), n=200, warmup=10)
    rec = measure(lambda: metrics.record("BenchRecord", 1.0, "Count", Kind="x"), n=20_000, warmup=100)
    one = report("One data point: record() into the buffer vs a direct PutMetricData call",
                 [("PutMetricData (one datum, HTTP to the emulator)", put), ("metrics.record()", rec)],
                 baseline="PutMetricData (one datum, HTTP to the emulator)")
    direct, buffered = one["PutMetricData (one datum, HTTP to the emulator)"], one["metrics.record()"]
    print(f"  record() takes 1/{direct['median'] / buffered['median']:,.0f} of a direct PutMetricData call "
          f"at the median ({buffered['median'] * 1000:.2f} us against {direct['median']:.2f} ms)")

    bare, wrapped = asyncio.run(middleware_alone())
    print(f"\nMetricsMiddleware alone around an async view: {bare:.2f} us bare, {wrapped:.2f} us wrapped: "
          f"{wrapped - bare:.2f} us a request (route lookup, timing, buffer append)")

    through_middleware = 2 * (WARMUP + REQUESTS)  # two of the cases record
    metrics.flush()
    now = datetime.now(UTC)
    points = cw.get_metric_statistics(
        Namespace=namespace, MetricName="APILatency", StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1), Period=3600, Statistics=["SampleCount"],
    )["Datapoints"]
    count = int(sum(p["SampleCount"] for p in points))
    stats = metrics.stats()
    print(f"\nCloudWatch SampleCount of APILatency after a flush: {count} for {through_middleware} requests "
          f"through the middleware ({'none lost' if count == through_middleware else 'MISMATCH'}); "
          f"dropped {stats['dropped']}, buffer capacity {stats['capacity']}")


if __name__ == "__main__":
    main()
