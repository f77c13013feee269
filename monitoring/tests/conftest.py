import uuid

import pytest
from django.conf import settings

from stocktool.aws.cloudwatch import CloudWatchService


@pytest.fixture
def namespace(aws):
    """A CloudWatch namespace of this test alone, so reads see only its own data."""
    return f"{settings.TEST_RUN_PREFIX}StockToolTest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def service(namespace):
    return CloudWatchService(namespace)
