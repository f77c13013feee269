"""Every API operation, fuzzed against its OpenAPI schema by schemathesis over HTTP, on the emulator.

All of schemathesis's checks run (no 5xx, documented status codes, content types and bodies, invalid input
refused, valid input accepted, auth enforced), with a fixed seed and a few examples per operation so CI stays
quick; benchmarks/fuzz_api.py runs the same against a running app with many more.
"""

import base64
import secrets

import pytest
from django.conf import settings as django_settings

from tests.schemafuzz import fuzz, fuzz_config, load_schema

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fuzzer(django_user_model):
    password = secrets.token_urlsafe(16)
    # DynamoDB outlives the test database: a fresh id keeps this run's conversations apart from others'.
    user = django_user_model.objects.create_user("fuzzer", password=password, pk=secrets.randbelow(10**9) + 10**6)
    return user.username, password


def test_every_operation_keeps_to_its_schema(aws, live_server, fuzzer, settings):
    if hasattr(django_settings, "CHAT_RATE_LIMIT"):
        settings.CHAT_RATE_LIMIT = "100000/min"  # the fuzzer is one user sending hundreds of messages a minute
    schema = load_schema(live_server.url, auth=fuzzer, config=fuzz_config(max_examples=10, seed=20261127, workers=2, stateful=False))
    result = fuzz(schema)
    assert result.operations >= 10 and result.cases >= 300, result.summary()
    assert not result.failures, result.report()
