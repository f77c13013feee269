import logging
import statistics as stats
import time

import pytest
from django.test import Client, override_settings

from monitoring.buffer import MetricsBuffer, samples
from monitoring.flusher import Flusher
from stocktool.aws.cloudwatch import CloudWatchService
from stocktool.aws.session import reset_clients

from .helpers import statistics

ROUTE = (("Method", "GET"), ("Route", "home"), ("StatusClass", "2xx"))


def fill(buffer, n, metric="Thing", unit="Count", dims=(("Kind", "k"),)):
    now = time.time()
    for i in range(n):
        buffer.append((now, metric, float(i), unit, dims))


class Sink:
    """A stand-in CloudWatch that can be told to fail."""

    def __init__(self):
        self.batches, self.down = [], False

    def __call__(self, batch):
        if self.down:
            raise ConnectionError("endpoint down")
        self.batches.append(batch)

    @property
    def samples(self):
        return sum(samples(d) for b in self.batches for d in b)


def warnings_from(caplog):
    return [r for r in caplog.records if r.name == "monitoring.metrics" and r.levelno == logging.WARNING]


def test_it_sends_everything_buffered_in_batches():
    buffer, sink = MetricsBuffer(100_000), Sink()
    fill(buffer, 3000)
    sent = Flusher(buffer, sink).flush()
    assert sink.samples == 3000 and len(buffer) == 0
    assert sent == sum(len(b) for b in sink.batches) == 20  # 150 distinct values a datum


def test_what_cloudwatch_refused_is_sent_once_it_answers_again(caplog):
    buffer, sink = MetricsBuffer(1000), Sink()
    flusher = Flusher(buffer, sink, interval=0.01)
    fill(buffer, 100)
    sink.down = True
    assert flusher.flush() == 0 and flusher.failing
    assert flusher.pending_samples == 100
    sink.down = False
    fill(buffer, 50)
    time.sleep(0.02)  # past the back-off
    flusher.flush()
    assert sink.samples == 150 and not flusher.failing and flusher.pending_samples == 0
    assert any("takes metrics again" in r.getMessage() for r in caplog.records)


def test_it_backs_off_while_cloudwatch_is_down():
    buffer, sink = MetricsBuffer(1000), Sink()
    flusher = Flusher(buffer, sink, interval=30)
    sink.down = True
    fill(buffer, 10)
    flusher.flush()
    sink.down = False
    fill(buffer, 10)
    assert flusher.flush() == 0  # still backing off: nothing tried
    assert flusher.flush(force=True) > 0


def test_an_outage_keeps_memory_bounded_drops_the_oldest_and_warns_once(caplog):
    buffer, sink = MetricsBuffer(50), Sink()
    flusher = Flusher(buffer, sink, interval=0.001)
    sink.down = True
    for _ in range(20):
        fill(buffer, 80)
        time.sleep(0.002)
        flusher.flush()
        assert len(buffer) <= 50 and flusher.pending_samples <= 50
    assert flusher.dropped == 20 * 80 - flusher.pending_samples
    assert len(warnings_from(caplog)) == 1


def test_drops_while_cloudwatch_merely_lags_are_logged_once(caplog):
    buffer, sink = MetricsBuffer(10), Sink()
    flusher = Flusher(buffer, sink)
    for _ in range(3):
        fill(buffer, 15)
        flusher.flush()
    assert flusher.dropped == 15 and sink.samples == 30
    assert len(warnings_from(caplog)) == 1
    flusher.flush()  # a calm period re-arms the warning
    fill(buffer, 15)
    flusher.flush()
    assert len(warnings_from(caplog)) == 2


def test_the_thread_flushes_every_interval_and_once_more_when_stopped():
    buffer, sink = MetricsBuffer(1000), Sink()
    flusher = Flusher(buffer, sink, interval=0.05)
    flusher.start()
    fill(buffer, 5)
    deadline = time.monotonic() + 5
    while sink.samples < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.samples == 5
    fill(buffer, 7)  # not yet sent: stop() flushes it
    flusher.stop(timeout=5)
    assert sink.samples == 12 and not flusher.running


def test_it_samples_on_its_own_schedule():
    buffer, sink = MetricsBuffer(1000), Sink()
    calls = []
    flusher = Flusher(buffer, sink, interval=0.01, sample=lambda: calls.append(1), sample_interval=3600)
    flusher._tick()
    flusher._tick()
    assert calls == [1]


# --- Against the embedded emulator, over HTTP ------------------------------------------------------------------
@pytest.mark.integration
def test_flushed_points_are_in_cloudwatch(service, namespace):
    buffer = MetricsBuffer(1000)
    now = time.time()
    for value in (10.0, 20.0, 20.0, 30.0):
        buffer.append((now, "APILatency", value, "Milliseconds", ROUTE))
    buffer.append((now, "APILatency", 40.0, "Milliseconds", (("Method", "GET"), ("Route", "x"), ("StatusClass", "5xx"))))
    Flusher(buffer, service.put_batch).flush()
    home = statistics(namespace, "APILatency", dict(ROUTE))
    assert home == {"SampleCount": 4, "Sum": 80.0, "Minimum": 10.0, "Maximum": 30.0}
    assert statistics(namespace, "APILatencyAll")["SampleCount"] == 5
    assert statistics(namespace, "Errors")["Sum"] == 1


@pytest.mark.integration
def test_ten_thousand_requests_are_ten_thousand_samples(service, namespace):
    buffer = MetricsBuffer(50_000)
    now = time.time()
    for i in range(10_000):
        buffer.append((now, "APILatency", 1 + (i % 997) * 0.731, "Milliseconds", ROUTE))
    flusher = Flusher(buffer, service.put_batch)
    flusher.flush()
    assert flusher.dropped == 0 and flusher.pending_samples == 0
    assert statistics(namespace, "APILatency")["SampleCount"] == 10_000  # as `aws cloudwatch` asks, no dimensions
    assert statistics(namespace, "APILatencyAll")["SampleCount"] == 10_000


@pytest.mark.integration
@override_settings(ROOT_URLCONF="monitoring.tests.urls")
def test_with_cloudwatch_down_requests_keep_their_latency_and_drops_are_counted(
    aws, captured, settings, caplog, monkeypatch
):
    client = Client()
    client.get("/items/1/")  # warm up

    def timed(n):
        out = []
        for i in range(n):
            start = time.perf_counter()
            assert client.get(f"/items/{i}/").status_code == 200
            out.append((time.perf_counter() - start) * 1000)
        return out

    baseline = timed(100)
    small = MetricsBuffer(20)
    monkeypatch.setattr("monitoring.metrics._buffer", small)
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    flusher = Flusher(small, CloudWatchService("StockToolDown").put_batch, interval=0.05)
    flusher.start()
    try:
        time.sleep(0.1)
        down = timed(100)
        deadline = time.monotonic() + 20  # botocore retries the refused connection before giving up
        while not flusher.failing and time.monotonic() < deadline:
            time.sleep(0.05)
        down += timed(20)
    finally:
        flusher.stop(timeout=10, quiet=True)
        reset_clients()
    assert flusher.failing
    assert stats.median(down) <= stats.median(baseline) * 2 + 1, (stats.median(down), stats.median(baseline))
    assert sorted(down)[int(len(down) * 0.95)] < 50  # a flush attempt against the dead port lasts seconds
    assert len(small) <= 20 and flusher.pending_samples <= 20
    assert flusher.dropped > 0
    mine = [r for r in warnings_from(caplog) if r.thread == flusher._thread.ident]
    assert len(mine) == 1 and "PutMetricData failed" in mine[0].getMessage()
