import uuid

import pytest

from stocktool.aws import get_s3_service


@pytest.fixture
def s3(aws):
    return get_s3_service()


@pytest.fixture
def scratch_prefix():
    """A key prefix of its own, outside knowledge/, so the bucket's events don't fire."""
    return f"scratch-{uuid.uuid4().hex[:8]}/"


@pytest.fixture
def kb_prefix(settings):
    """A fresh prefix under knowledge/ (S3 events fire for it)."""
    return f"{settings.KNOWLEDGE_PREFIX}t{uuid.uuid4().hex[:8]}/"
