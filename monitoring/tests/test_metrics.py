import logging
import multiprocessing
import threading

import pytest

from monitoring import metrics
from monitoring.buffer import MetricsBuffer
from stocktool import aws

from .helpers import statistics


def without_time(points):
    return [p[1:] for p in points]


def test_record_only_appends_to_the_buffer(captured):
    metrics.record("Thing", 3, "Count", Kind="a", Zone=1)
    (point,) = captured.drain()
    assert point[1:] == ("Thing", 3.0, "Count", (("Kind", "a"), ("Zone", "1")))


def test_the_helpers_and_the_seed_calls_record_the_same_points(captured):
    cw = aws.get_cloudwatch_service()
    metrics.track_tool("quote", 12.5, True)
    cw.track_tool_execution("quote", 12.5, True)
    metrics.track_cache("quotes", False)
    cw.track_cache_hit_rate("quotes", False)
    metrics.track_model("small", 300, 40.0)
    cw.track_model_usage("small", 300, 40.0)
    points = without_time(captured.drain())
    assert points[0] == points[1] == ("ToolExecutionTime", 12.5, "Milliseconds", (("Success", "true"), ("Tool", "quote")))
    assert points[2] == points[3] == ("CacheHitRate", 0.0, "Percent", (("Cache", "quotes"),))
    assert points[4:6] == points[6:8]
    assert points[4] == ("ModelTokens", 300.0, "Count", (("Model", "small"),))


def test_the_seed_latency_call_uses_the_status_class(captured):
    aws.get_cloudwatch_service().track_api_latency("quotes-api", 12.0, 503)
    (point,) = without_time(captured.drain())
    assert point == ("APILatency", 12.0, "Milliseconds",
                     (("Method", "ANY"), ("Route", "quotes-api"), ("StatusClass", "5xx")))


def test_cache_lookups_may_carry_their_time(captured):
    metrics.track_cache("quotes", True, elapsed_ms=1.5)
    assert [p[1] for p in captured.drain()] == ["CacheHitRate", "CacheLookupTime"]


def test_dimension_values_are_bounded():
    metrics_buffer = MetricsBuffer(10)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "_buffer", metrics_buffer)
        mp.setattr(metrics, "_started", True)
        metrics.record("Thing", 1, "Count", Long="x" * 2000, Empty="")
    dims = dict(metrics_buffer.drain()[0][4])
    assert len(dims["Long"]) == 255 and dims["Empty"] == "none"


def test_threads_record_without_losing_points(captured):
    def work():
        for i in range(1000):
            metrics.record("Thing", i, "Count")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(captured) == 8000 and captured.dropped == 0


def test_without_cloudwatch_metrics_go_to_the_log(captured, settings, caplog, monkeypatch):
    settings.CLOUDWATCH_ENABLED = False
    monkeypatch.setattr(metrics, "_flusher", None)
    caplog.set_level(logging.INFO, logger="monitoring.metrics")
    metrics.record("Thing", 2, "Count", Kind="x")
    metrics.record("Thing", 4, "Count", Kind="x")
    metrics.flush()
    assert "metric Thing{Kind=x} n=2 avg=3.000 min=2.0 max=4.0 Count" in caplog.text


def test_stats_describe_this_process_buffer(captured):
    metrics.record("Thing", 1, "Count")
    assert metrics.stats()["buffered"] == 1
    assert metrics.stats()["capacity"] == 10_000


def _child(queue):
    try:
        fresh = len(metrics._buffer) == 0 and not metrics._started and metrics._flusher is None
        for _ in range(5):
            metrics.record("Forked", 1, "Count", Who="child")
        running = metrics._flusher is not None and metrics._flusher.running
        metrics.shutdown(timeout=20)  # pool processes leave by os._exit: no atexit
        queue.put((fresh, running, metrics._flusher.sent_datums))
    except Exception as exc:  # noqa: BLE001  report, don't hang the parent
        queue.put(repr(exc))


@pytest.mark.integration
def test_a_forked_worker_starts_its_own_flusher_and_sends_only_its_points(aws, namespace, settings, monkeypatch):
    settings.CLOUDWATCH_NAMESPACE = namespace
    settings.MONITORING_QUEUE_DEPTH_INTERVAL = 0
    monkeypatch.setattr(metrics, "_buffer", MetricsBuffer(1000))
    monkeypatch.setattr(metrics, "_started", True)
    for _ in range(3):
        metrics.record("Forked", 1, "Count", Who="parent")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    result = queue.get(timeout=60)
    child.join(30)
    assert result == (True, True, 1), result
    assert statistics(namespace, "Forked", {"Who": "child"})["SampleCount"] == 5
    assert statistics(namespace, "Forked", {"Who": "parent"})["SampleCount"] == 0
    assert len(metrics._buffer) == 3  # still the parent's to send
