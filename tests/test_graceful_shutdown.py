"""Nothing recorded is lost when a platform stops a process the normal way (SIGTERM), whatever the server does
with the signal afterwards: the real process, then CloudWatch read back as an operator would."""

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from monitoring.middleware import UNMATCHED
from monitoring.tests.helpers import statistics
from stocktool.aws.cloudwatch import API_LATENCY
from tests.workers import ROOT, answers, free_port, process_env, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REQUESTS = 300


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_web_process_sends_every_requests_metric_when_stopped(aws, tmp_path, stop):
    namespace = f"ShutdownTest{uuid.uuid4().hex[:8]}"
    port = free_port()
    log = open(tmp_path / "web.log", "wb")
    # The interval is the longest there is: what reaches CloudWatch is what the shutdown sends.
    env = process_env(CLOUDWATCH_ENABLED="true", CLOUDWATCH_NAMESPACE=namespace, MONITORING_FLUSH_INTERVAL="60",
                      MONITORING_QUEUE_DEPTH_INTERVAL="0", EVENTS_LISTENER="off")
    server = subprocess.Popen(  # as the Procfile runs it (exec uvicorn ... --lifespan on)
        [sys.executable, "-m", "uvicorn", "stocktool.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "on", "--no-access-log"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: answers(port) or server.poll() is not None, timeout=60)
        assert server.poll() is None, (tmp_path / "web.log").read_text()[-3000:]
        started = time.monotonic()
        statuses = [_get(f"http://127.0.0.1:{port}/no-such-page-{i}") for i in range(REQUESTS)]
        assert statuses == [404] * REQUESTS
        server.send_signal(stop)
        server.wait(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
    counted = statistics(namespace, API_LATENCY, {"Method": "GET", "Route": UNMATCHED, "StatusClass": "4xx"})
    assert counted["SampleCount"] == REQUESTS, ((tmp_path / "web.log").read_text()[-3000:], stopped_in)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_events_consumer_stops_within_seconds_mid_long_poll(aws, tmp_path, stop):
    log_path = tmp_path / "events.log"
    with open(log_path, "wb") as log:
        consumer = subprocess.Popen([sys.executable, "manage.py", "process_events", "--wait", "20"], cwd=ROOT,
                                    env=process_env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "listening" in log_path.read_text() or consumer.poll() is not None, timeout=60)
            time.sleep(3)  # past the first reconcile with the bucket, inside a long poll of the empty queue
            sent = time.monotonic()
            consumer.send_signal(stop)
            code = consumer.wait(timeout=30)
            took = time.monotonic() - sent
        finally:
            if consumer.poll() is None:
                consumer.kill()
    assert code == 0, log_path.read_text()[-3000:]
    assert took < 10, f"stopped {took:.1f} s after the signal"
