"""Malformed messages on the events queue, the analysis queue and the SNS webhook: one log line, no crash, no
endless redelivery, nothing changed. Everything goes over HTTP to the emulator."""

import json
import logging
import uuid
from datetime import UTC, datetime

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from analysis.models import AnalysisJob
from knowledge.handlers import events_process
from knowledge.models import KnowledgeDocument
from stocktool.aws import get_sns_service
from stocktool.aws.session import client
from stocktool.events import events_batch, events_queue

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ENVELOPE = {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t"}
MALFORMED = {
    "not JSON": "this is not json {",
    "empty": " ",
    "truncated JSON": '{"Records": [{"eventSource": "aws:s3"',
    "nested too deep": "[" * 60_000 + "]" * 60_000,
    "records not a list": json.dumps({"Records": 5}),
    "a record not an object": json.dumps({"Records": [1, "two"]}),
    "s3 not an object": json.dumps({"Records": [{"eventSource": "aws:s3", "s3": "bucket"}]}),
    "key not a string": json.dumps({"Records": [{"eventSource": "aws:s3", "s3": {"object": {"key": 5}}}]}),
    "envelope with a non-JSON Message": json.dumps({**ENVELOPE, "Message": "<xml/>"}),
    "envelope with a number as Message": json.dumps({**ENVELOPE, "Message": 5}),
    "huge body": json.dumps({"Records": "x" * 250_000}),
}
NOT_OURS = {
    "unknown event type": json.dumps({"event_type": "martian_landing", "user_id": "1"}),
    "a JSON list": json.dumps([[1, 2], [3]]),
    "analysis_finished with an object as user_id": json.dumps(
        {"event_type": "analysis_finished", "user_id": {"a": 1}}),
    "analysis_finished with a user_id no group takes": json.dumps(
        {"event_type": "analysis_finished", "user_id": "../../ x" * 20}),
    "an S3 test event": json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
}


def queue_counts(url: str) -> tuple[int, int]:
    attrs = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def events(aws):
    """The events queue, emptied of what earlier tests left, and a way to put a raw body on it."""
    while events_process(wait_seconds=0)["received"]:
        pass
    url = events_queue().queue_url

    def send(body: str) -> None:
        client("sqs").send_message(QueueUrl=url, MessageBody=body)

    send.url = url
    return send


def index_state():
    return list(KnowledgeDocument.objects.values_list("key", "status", "version_id"))


# --- the events queue ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_the_listener_drops_a_malformed_message_with_one_line(events, body, caplog):
    before = index_state()
    events(body)
    with caplog.at_level(logging.WARNING, logger="stocktool.events"):
        stats = async_to_sync(events_batch)(wait_seconds=1, layer=get_channel_layer())
    assert stats["received"] == 1 and stats["failed"] == 0 and stats["ignore"] == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "stocktool.events"]
    assert len(lines) == 1 and "dropped message" in lines[0] and len(lines[0]) < 400
    assert queue_counts(events.url) == (0, 0)  # acknowledged: it will not come back
    assert index_state() == before


@pytest.mark.parametrize("body", NOT_OURS.values(), ids=NOT_OURS.keys())
def test_the_listener_acknowledges_messages_not_for_it_quietly(events, body, caplog):
    events(body)
    with caplog.at_level(logging.WARNING):
        stats = async_to_sync(events_batch)(wait_seconds=1, layer=get_channel_layer())
    assert stats["received"] == 1 and stats["failed"] == 0 and stats["ignore"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert queue_counts(events.url) == (0, 0)


def test_process_events_drops_malformed_messages_and_handles_the_rest(events, caplog):
    for body in MALFORMED.values():
        events(body)
    events(json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": "someone-elses"}, "object": {"key": "knowledge/x.md"}}}]}))
    before = index_state()
    totals = {}
    with caplog.at_level(logging.WARNING, logger="knowledge.handlers"):
        while (stats := events_process(wait_seconds=1))["received"]:
            for name, n in stats.items():
                totals[name] = totals.get(name, 0) + n
    assert totals["received"] == len(MALFORMED) + 1 and totals["failed"] == 0
    assert totals["malformed"] == len(MALFORMED) and totals["ignored"] == 1
    assert sum("dropped message" in r.getMessage() for r in caplog.records) == len(MALFORMED)
    assert queue_counts(events.url) == (0, 0) and index_state() == before


def test_a_malformed_message_published_to_the_topic_is_dropped_too(events, caplog):
    get_sns_service().publish("analysis_finished", {"user_id": ["not", "a", "user"], "analysis_id": "x"})
    client("sns").publish(TopicArn=get_sns_service().topic_arn, Message="plain text, not JSON")
    received = 0
    with caplog.at_level(logging.WARNING, logger="stocktool.events"):
        for _ in range(5):
            stats = async_to_sync(events_batch)(wait_seconds=1, layer=get_channel_layer())
            assert stats["failed"] == 0
            received += stats["received"]
            if received >= 2:
                break
    assert received == 2 and queue_counts(events.url) == (0, 0)
    assert sum("not JSON" in r.getMessage() for r in caplog.records) == 1


# --- the analysis task and queue ----------------------------------------------------------------------------
@pytest.mark.parametrize("job_id", ["not-a-uuid", "", "'; DROP TABLE analysis_analysisjob; --",
                                    str(uuid.uuid4()), {"id": 1}, 12345])
def test_the_task_drops_an_id_that_is_no_job_with_one_line(aws, job_id, caplog):
    from analysis.tasks import analysis_run_task

    with caplog.at_level(logging.WARNING, logger="analysis.tasks"):
        result = analysis_run_task.apply(args=[job_id])
    assert result.successful(), result.traceback
    lines = [r.getMessage() for r in caplog.records if r.name == "analysis.tasks"]
    assert len(lines) == 1 and lines[0].endswith("message dropped")
    assert AnalysisJob.objects.count() == 0


# --- the SNS webhook ----------------------------------------------------------------------------------------
@pytest.fixture
def webhook(aws, settings, client):
    settings.SNS_WEBHOOK_ENABLED = True
    topic = get_sns_service().topic_arn

    def post(body: str | bytes, **headers):
        kind = "application/octet-stream" if isinstance(body, bytes) else "text/plain; charset=UTF-8"
        return client.post("/sns/webhook", body, content_type=kind, **headers)

    post.topic = topic
    return post


def _now():
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("body,status,needle", [
    ("{not json", 400, "not JSON"),
    (b"\xff\xfe\x00garbage", 400, "not JSON"),
    ("[" * 50_000 + "]" * 50_000, 400, "not JSON"),
    ("[1, 2]", 400, "not a JSON object"),
    ('"a string"', 400, "not a JSON object"),
    ("{}", 400, "Type must be"),
    ('{"Type": "Notify"}', 400, "Type must be"),
    ('{"Type": ["Notification"]}', 400, "Type must be"),
    ('{"Type": "Notification", "TopicArn": ["arn"]}', 400, "TopicArn must be a string"),
    ('{"Type": "Notification", "Signature": 12345}', 400, "Signature must be a string"),
    ('{"Type": "Notification", "Timestamp": "yesterday"}', 400, "not an ISO 8601 time"),
    ('{"Type": "Notification", "Message": "{}"}', 403, "refused"),  # missing fields: the signature check
])
def test_the_webhook_answers_malformed_messages_with_a_4xx_json_error(webhook, body, status, needle):
    resp = webhook(body)
    assert resp.status_code == status and needle in resp.json()["error"], resp.content[:300]


def test_a_naive_timestamp_on_our_topic_is_400_not_500(webhook):
    message = {"Type": "Notification", "MessageId": "m", "TopicArn": webhook.topic, "Message": "{}",
               "Timestamp": "2026-01-01T10:00:00", "SignatureVersion": "2", "Signature": "AAAA",
               "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem"}
    resp = webhook(json.dumps(message))
    assert resp.status_code == 400 and "no time zone" in resp.json()["error"]


def test_an_oversized_body_is_413_before_it_is_read(webhook, settings):
    resp = webhook("x" * (300 * 1024))
    assert resp.status_code == 413 and resp.json() == {"error": "message too large"}
    resp = webhook("x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))  # Django itself would refuse to read it
    assert resp.status_code == 413


def test_a_refused_message_pushes_nothing(webhook):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("user-7", channel)
    event = json.dumps({"event_type": "analysis_finished", "user_id": "7", "analysis_id": "a"})
    assert webhook(json.dumps({"Type": "Notification", "TopicArn": webhook.topic, "Message": event,
                               "Timestamp": _now(), "MessageId": "m"})).status_code == 403
    with pytest.raises(TimeoutError):
        async_to_sync(_receive_within)(layer, channel, 0.3)


async def _receive_within(layer, channel, seconds):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), seconds)
