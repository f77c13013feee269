"""Requesting an analysis publishes it to SQS through kombu; when SQS does not answer, nothing is kept."""

import json
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from analysis import services
from analysis.models import AnalysisJob
from stocktool.aws.session import reset_clients
from stocktool.celery import app
from tests.faultproxy import FaultProxy
from tests.workers import make_queues

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(aws, settings):
    """The project's Celery app publishing for real (not eagerly) to a fresh queue, through a fault proxy."""
    queues = make_queues()
    target = urlsplit(settings.AWS_ENDPOINT_URL)
    proxy = FaultProxy(target.hostname, target.port).start()
    settings.AWS_BREAKER_RESET_SECONDS = 60
    settings.AWS_ENDPOINT_URL = proxy.url  # the app's SQS calls and kombu's share one circuit, as in production
    reset_clients()
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "broker_transport_options",
                                            "task_default_queue")}
    app.conf.update(
        task_always_eager=False,
        broker_url=f"sqs://test:test@127.0.0.1:{proxy.port}",
        broker_transport_options={**settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                                  "predefined_queues": {queues["name"]: {"url": queues["url"]}}},
        task_default_queue=queues["name"],
    )
    app.amqp.__dict__.pop("_producer_pool", None)
    app._pool = None
    app.set_current()  # shared tasks publish through the current app
    try:
        yield proxy, queues
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp.__dict__.pop("_producer_pool", None)
        app.conf.update(saved)
        proxy.stop()
        reset_clients()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("enqueuer", password="x")


def _messages(queue_url):
    from stocktool.aws.session import client

    resp = client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return resp.get("Messages", [])


def test_a_requested_analysis_is_on_the_queue(broker, user):
    _, queues = broker
    job = services.analysis_request(user=user, symbols=["AAPL", "MSFT"])
    messages = _messages(queues["url"])
    assert len(messages) == 1
    body = json.loads(__import__("base64").b64decode(messages[0]["Body"]))
    assert body["headers"]["task"] == "analysis.tasks.analysis_run_task"
    assert str(job.id) in body["headers"]["argsrepr"]


@pytest.mark.faults
@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_when_sqs_does_not_answer_the_request_fails_fast_and_keeps_nothing(broker, user, mode, figures):
    proxy, queues = broker
    services.analysis_request(user=user, symbols=["AAPL"])  # the connection is up and pooled
    _messages(queues["url"])
    before = AnalysisJob.objects.count()
    proxy.down(mode)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        with pytest.raises(services.AnalysisUnavailable, match="not answering"):
            services.analysis_request(user=user, symbols=["MSFT"])
        timings.append(time.perf_counter() - start)
    assert AnalysisJob.objects.count() == before  # no job the caller was not told about
    figures("three requests while SQS is down: " + ", ".join(f"{t:.2f} s" for t in timings) + "; no job kept")
    # The first calls wait their timeouts (two publish attempts, each under a 2 s read timeout, and kombu's
    # reconnect between them); once the circuit is open, the next call is refused without waiting on the network.
    assert max(timings) < 8, timings
    assert timings[-1] < 0.3, timings  # the circuit is open: refused before kombu is asked
    proxy.up()


def test_the_api_answers_503_with_a_json_error_and_keeps_nothing(broker, user, client):
    proxy, _ = broker
    proxy.down("refuse")
    client.force_login(user)
    resp = client.post("/api/analysis", {"symbols": ["AAPL"]}, content_type="application/json")
    assert resp.status_code == 503
    assert "not answering" in resp.json()["error"]
    assert resp["Retry-After"] == "5"
    assert not AnalysisJob.objects.exists()


def test_the_page_shows_the_error_on_the_form(broker, user, client):
    proxy, _ = broker
    proxy.down("refuse")
    client.force_login(user)
    resp = client.post("/analysis/", {"symbols": "AAPL", "analysis_type": "risk_assessment", "period": "1y"})
    assert resp.status_code == 503
    assert "not answering" in resp.content.decode()
    assert not AnalysisJob.objects.exists()
