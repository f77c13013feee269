"""Test settings: fast hashing, and AWS resources under a per-run prefix on the test endpoint."""

import os
import socket
import uuid

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# Never reach real AWS by accident: no shared config or credentials files (django-storages' tox.ini).
os.environ["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"

_external = os.environ.get("AWS_ENDPOINT_URL", "").strip()
if not _external:
    # The conftest starts the embedded emulator on this port (a free one, picked now).
    with socket.socket() as _s:
        _s.bind(("127.0.0.1", 0))
        EMBEDDED_EMULATOR_PORT = _s.getsockname()[1]
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{EMBEDDED_EMULATOR_PORT}"
else:
    EMBEDDED_EMULATOR_PORT = None
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")

from .base import *  # noqa: E402,F403
from .base import (  # noqa: E402
    DYNAMODB_TABLE_CACHE,
    DYNAMODB_TABLE_CONVERSATIONS,
    DYNAMODB_TABLE_DJANGO_CACHE,
    S3_BUCKET_NAME,
    SNS_TOPIC_NOTIFICATIONS,
    SQS_QUEUE_ANALYSIS,
    SQS_QUEUE_ANALYSIS_DLQ,
    SQS_QUEUE_EVENTS,
)

DEBUG = False
EVENTS_LISTENER = "off"  # tests drive the events consumer themselves
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Resources of this run carry a prefix, so runs against a shared endpoint (LocalStack, AWS) never collide.
TEST_RUN_PREFIX = os.environ.get("TEST_RUN_PREFIX") or f"t{uuid.uuid4().hex[:6]}-"
S3_BUCKET_NAME = TEST_RUN_PREFIX + S3_BUCKET_NAME
DYNAMODB_TABLE_CONVERSATIONS = TEST_RUN_PREFIX + DYNAMODB_TABLE_CONVERSATIONS
DYNAMODB_TABLE_CACHE = TEST_RUN_PREFIX + DYNAMODB_TABLE_CACHE
DYNAMODB_TABLE_DJANGO_CACHE = TEST_RUN_PREFIX + DYNAMODB_TABLE_DJANGO_CACHE
SQS_QUEUE_ANALYSIS = TEST_RUN_PREFIX + SQS_QUEUE_ANALYSIS
SQS_QUEUE_ANALYSIS_DLQ = TEST_RUN_PREFIX + SQS_QUEUE_ANALYSIS_DLQ
SNS_TOPIC_NOTIFICATIONS = TEST_RUN_PREFIX + SNS_TOPIC_NOTIFICATIONS
SQS_QUEUE_EVENTS = TEST_RUN_PREFIX + SQS_QUEUE_EVENTS
CELERY_TASK_DEFAULT_QUEUE = SQS_QUEUE_ANALYSIS
if "OPTIONS" in STORAGES["default"]:  # noqa: F405
    STORAGES["default"]["OPTIONS"]["bucket_name"] = S3_BUCKET_NAME  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True  # unit tests run tasks in-process; integration tests start a real worker
if CACHES["default"]["BACKEND"] == "stocktool.aws.cache.DynamoDBCache":  # noqa: F405
    CACHES = {**CACHES, "default": {**CACHES["default"], "LOCATION": DYNAMODB_TABLE_DJANGO_CACHE}}  # noqa: F405

# A file, not memory, so the Celery workers that integration tests start share the test database.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{TEST_RUN_PREFIX}db.sqlite3")}  # noqa: F405
CHAT_RATE_LIMIT = "100000/min"  # tests that prove the limit set their own (override_settings)
KNOWLEDGE_INDEX_CHECK_SECONDS = 0.0  # each test's database is its own: always ask it which index is current
