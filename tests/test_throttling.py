"""Throttling answers from AWS are retried with exponential back-off and jitter, over HTTP; what is still
throttled after the last attempt reaches the app as transient (AWSUnavailable), which analyses retry."""

import statistics
import uuid

import pytest
from botocore.retries.standard import ExponentialBackoff

from analysis.services import TRANSIENT_ERRORS
from stocktool.aws import AWSUnavailable, breaker, get_dynamodb_service, get_sqs_service
from tests.faultproxy import ThrottlingProxy

pytestmark = [pytest.mark.integration, pytest.mark.faults]


@pytest.fixture
def throttling(behind_proxy):
    return behind_proxy(ThrottlingProxy, AWS_MAX_ATTEMPTS=3)


def _throttle_first(proxy, operation: str, n: int) -> None:
    """Throttle the next ``n`` calls of ``operation`` (other threads' calls pass through untouched)."""
    proxy.calls.clear()
    proxy.fail = lambda target, body: target.endswith(f".{operation}") and len(_calls(proxy, operation)) <= n


def _calls(proxy, operation: str) -> list[float]:
    return [t for t, target in proxy.calls if target.endswith(f".{operation}")]


def _gaps(arrivals):
    return [b - a for a, b in zip(arrivals, arrivals[1:])]


def test_a_throttled_dynamodb_read_is_retried_with_growing_jittered_waits_and_succeeds(throttling, figures,
                                                                                     monkeypatch):
    # Record the delays botocore's own back-off draws, so the test checks the waits it measures against them
    # instead of against a statistic of a few random draws (which failed about once in 35 runs).
    drawn = []
    delay_amount = ExponentialBackoff.delay_amount

    def recording(self, context):
        delay = delay_amount(self, context)
        drawn.append((context.attempt_number, delay))
        return delay

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", recording)
    cache = get_dynamodb_service("cache")
    key = f"throttle-{uuid.uuid4().hex}"
    cache.put_cache_item(key, {"close": 10.0})
    waits = []
    for _ in range(6):
        drawn.clear()
        _throttle_first(throttling, "GetItem", 2)  # ProvisionedThroughputExceededException twice, then the answer
        assert cache.get_cache_item(key) == {"close": 10.0}
        reads = _calls(throttling, "GetItem")
        assert len(reads) == 3  # two retries, no more
        gaps = _gaps(reads)
        # botocore's standard mode: the n-th retry waits random() * 2**(n-1) seconds (throttling's base 1 s) ...
        assert [attempt for attempt, _ in drawn] == [1, 2], drawn
        (_, first), (_, second) = drawn
        assert 0 <= first <= 1 and 0 <= second <= 2, drawn
        # ... and the client really waits that long before each retry.
        assert all(delay - 0.01 <= gap <= delay + 0.3 for gap, (_, delay) in zip(gaps, drawn)), (gaps, drawn)
        waits.append(gaps)
    # The waits are jittered, not a fixed schedule.
    assert statistics.pstdev(w[0] for w in waits) > 0.01 and statistics.pstdev(w[1] for w in waits) > 0.01, waits
    figures("waits before retry 1 and 2, six runs: " + "; ".join(f"{a:.2f} s, {b:.2f} s" for a, b in waits))
    # Throttling proves the endpoint alive: the circuit stays closed.
    assert all(c.state == "closed" for c in breaker.circuits().values())


def test_a_throttled_sqs_send_is_retried_and_the_message_sent_once(throttling, settings):
    sqs = get_sqs_service()
    before = sqs.depth()
    _throttle_first(throttling, "SendMessage", 2)
    sqs.send_message({"job_id": "throttled"})
    assert len(_calls(throttling, "SendMessage")) == 3
    assert sqs.depth() == before + 1


def test_still_throttled_after_the_last_attempt_is_transient_for_the_app(throttling):
    cache = get_dynamodb_service("cache")
    _throttle_first(throttling, "GetItem", 3)  # every attempt
    with pytest.raises(AWSUnavailable, match="ProvisionedThroughputExceededException") as raised:
        cache.get_cache_item("anything")
    assert isinstance(raised.value, TRANSIENT_ERRORS)  # an analysis task retries it with back-off and jitter


def test_a_turn_whose_header_update_fails_leaves_no_message_behind(throttling, settings):
    """Messages written, header refused, and the clean-up refused too (as in an outage): the sweeper deletes
    the messages once DynamoDB answers, and the conversation never shows them."""
    from conversations.orphans import orphan_sweeper
    from stocktool.aws.session import client

    store = get_dynamodb_service("conversation")
    conversation_id = f"orphans-{uuid.uuid4().hex}"
    store.put_conversation(conversation_id, [{"role": "user", "content": "kept"}], user_id="7")
    throttling.fail = lambda target, body: target.endswith(".UpdateItem") or b"DeleteRequest" in body
    with pytest.raises(AWSUnavailable):
        store.put_conversation(conversation_id, [{"role": "user", "content": "lost?"},
                                                 {"role": "assistant", "content": "lost?"}], user_id="7")
    assert orphan_sweeper.pending() == 2
    assert [m["content"] for m in store.get_recent(conversation_id)] == ["kept"]

    throttling.fail = None  # DynamoDB answers again
    assert orphan_sweeper.sweep() == 0
    items = client("dynamodb").query(
        TableName=settings.DYNAMODB_TABLE_CONVERSATIONS, KeyConditionExpression="conversation_id = :c",
        ExpressionAttributeValues={":c": {"S": conversation_id}})["Items"]
    assert sorted(i.get("content", {}).get("S", "<header>") for i in items) == ["<header>", "kept"]
