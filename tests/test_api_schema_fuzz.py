"""Every API operation, fuzzed against its OpenAPI schema by schemathesis over HTTP, on the emulator.

All of schemathesis's checks run (no 5xx, documented status codes, content types and bodies, invalid input
refused, valid input accepted, auth enforced), with a fixed seed and a few examples per operation so CI stays
quick; benchmarks/fuzz_api.py runs the same against a running app with many more.
"""

import secrets

import pytest

from tests.schemafuzz import fuzz, fuzz_config, load_schema

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fuzzer(django_user_model):
    password = secrets.token_urlsafe(16)
    # DynamoDB outlives the test database: a fresh id keeps this run's conversations apart from others'.
    user = django_user_model.objects.create_user("fuzzer", password=password,
                                                 pk=secrets.randbelow(10**9) + 10**6)
    return user.username, password


def test_every_operation_keeps_to_its_schema(aws, live_server, fuzzer, settings):
    settings.CHAT_RATE_LIMIT = "100000/min"  # the fuzzer: one user, hundreds of messages a minute
    # One worker: two threads importing lazily under pytest's assertion rewriting met CPython 3.11's
    # "SystemError: AST constructor recursion depth mismatch". The stateful phase runs in fuzz_api.py.
    config = fuzz_config(auth=fuzzer, max_examples=10, seed=20261127, stateful=False)
    schema = load_schema(live_server.url, auth=fuzzer, config=config)
    result = fuzz(schema)
    print(result.summary())
    assert result.operations >= 10 and result.cases >= 300, result.summary()
    assert not result.failures, result.report()
