"""The seed's SQS calls, over HTTP against the emulator."""

import json

import pytest

from stocktool.aws.sqs import SQSService
from tests.workers import make_queues

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs(aws):
    queues = make_queues(visibility=1, max_receive=2)
    return SQSService(queues["name"], queues["dlq_name"])


def test_send_message_as_the_seed_calls_it(sqs):
    message_id = sqs.send_message({"analysis_type": "risk_assessment", "symbols": ["AAPL"]},
                                  message_attributes={"priority": "high"})
    assert message_id
    [message] = sqs.receive(wait_seconds=1)
    assert message["MessageAttributes"]["priority"]["StringValue"] == "high"


def test_process_messages_deletes_only_what_the_handler_handled(sqs):
    for n in range(4):
        sqs.send_message({"n": n})
    seen = []

    def handler(body):
        seen.append(body["n"])
        if body["n"] % 2:
            raise ValueError("odd")

    stats = {"received": 0, "processed": 0, "failed": 0}
    for _ in range(5):
        got = sqs.process_messages(handler, max_messages=10, wait_seconds=1)
        for key in stats:
            stats[key] += got[key]
        if stats["received"] >= 4:
            break
    assert stats == {"received": 4, "processed": 2, "failed": 2}
    # The two failures come back after the visibility timeout; the handled ones are gone.
    again = sqs.receive(max_messages=10, wait_seconds=3)
    assert sorted(json.loads(m["Body"])["n"] for m in again) == [1, 3]
    assert sqs.depth(dead_letter=True) == 0


def test_a_long_poll_longer_than_the_read_timeout_waits_it_out_instead_of_failing(sqs, settings):
    import time

    wait = settings.AWS_READ_TIMEOUT + 1  # the plain client would time out mid-poll and retry
    started = time.monotonic()
    assert sqs.receive(wait_seconds=wait) == []
    took = time.monotonic() - started
    assert wait - 0.5 <= took < wait + 3, took
