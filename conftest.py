"""Shared fixtures: the AWS endpoint every integration test talks to over HTTP.

Unless AWS_ENDPOINT_URL is set (LocalStack, real AWS), a session fixture starts the embedded moto server on
the free port that the test settings picked, and bootstraps this run's resources (names carry a per-run
prefix). If the emulator cannot start, the run fails; nothing is skipped.
"""

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def aws_endpoint(tmp_path_factory):
    from stocktool.aws.emulator import Emulator

    port = getattr(settings, "EMBEDDED_EMULATOR_PORT", None)
    if port is None:
        yield settings.AWS_ENDPOINT_URL
        return
    log = tmp_path_factory.mktemp("emulator") / "moto.log"
    server = Emulator(port, log_path=str(log))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aws_resources(aws_endpoint):
    """Create this run's AWS resources once; return the bootstrap steps."""
    from stocktool.provisioning.bootstrap import bootstrap

    return bootstrap()


@pytest.fixture
def aws(aws_resources):
    """Use in any test that talks to AWS."""
    return aws_resources


@pytest.fixture
def behind_proxy(aws, settings):
    """Put the app's AWS endpoint behind a test proxy (tests/faultproxy.py) with some settings changed:
    ``proxy = behind_proxy(FaultProxy, AWS_READ_TIMEOUT=1)``; stopped, and clients rebuilt, afterwards."""
    from urllib.parse import urlsplit

    from stocktool.aws.session import reset_clients

    started = []

    def start(proxy_class, **overrides):
        target = urlsplit(settings.AWS_ENDPOINT_URL)
        proxy = proxy_class(target.hostname, target.port).start()
        started.append(proxy)
        settings.AWS_ENDPOINT_URL = proxy.url
        for name, value in overrides.items():
            setattr(settings, name, value)
        reset_clients()
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
    reset_clients()


@pytest.fixture
def notifications_queue(aws, settings):
    """An SQS queue subscribed (SNS envelopes) to the notifications topic, to see what the app publishes."""
    import uuid

    from stocktool.aws import get_sns_service
    from stocktool.aws.session import client

    sqs, sns = client("sqs"), client("sns")
    url = sqs.create_queue(QueueName=f"{settings.TEST_RUN_PREFIX}notes-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=get_sns_service().topic_arn, Protocol="sqs", Endpoint=arn,
                                 Attributes={"RawMessageDelivery": "false"})["SubscriptionArn"]
    yield url
    sns.unsubscribe(SubscriptionArn=subscription)  # moto fails every later Publish if a target queue is gone
    sqs.delete_queue(QueueUrl=url)


# --- Figures: fault scenarios record what they measured; `make faults` prints them after the run ------------
_FIGURES: list[str] = []


@pytest.fixture
def captured(monkeypatch):
    """Send this test's metric points (middleware, record, track_*) to a private buffer that nothing drains."""
    from monitoring import metrics
    from monitoring.buffer import MetricsBuffer

    buffer = MetricsBuffer(10_000)
    monkeypatch.setattr(metrics, "_buffer", buffer)
    monkeypatch.setattr(metrics, "_started", True)
    return buffer


@pytest.fixture
def figures(request):
    """``figures("first call 2.1 s")`` keeps a line for the summary under the test's name."""

    def add(line: str) -> None:
        _FIGURES.append(f"{request.node.nodeid.split('::', 1)[-1]}: {line}")

    return add


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    """Stop the metrics flusher while pytest's streams are open (its last flush would log after they close)."""
    from monitoring import metrics

    metrics.shutdown(timeout=1.0)
