import uuid

import pytest
from django.conf import settings

from monitoring import metrics
from monitoring.buffer import MetricsBuffer
from stocktool.aws.cloudwatch import CloudWatchService


@pytest.fixture
def captured(monkeypatch):
    """Send this test's points (middleware, record, track_*) to a private buffer that nothing drains."""
    buffer = MetricsBuffer(10_000)
    monkeypatch.setattr(metrics, "_buffer", buffer)
    monkeypatch.setattr(metrics, "_started", True)
    return buffer


@pytest.fixture
def namespace(aws):
    """A CloudWatch namespace of this test alone, so reads see only its own data."""
    return f"{settings.TEST_RUN_PREFIX}StockToolTest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def service(namespace):
    return CloudWatchService(namespace)
