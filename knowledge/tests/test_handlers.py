"""S3 events: bucket -> SNS -> events queue -> index, over HTTP against the emulator."""

import json
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from knowledge.handlers import events_process, handle_event_message, s3_records
from knowledge.models import KnowledgeDocument
from knowledge.selectors import knowledge_search
from knowledge.services import index_reconcile
from stocktool.aws import get_sns_service
from stocktool.aws.session import client
from stocktool.aws.sqs import queue_url
from stocktool.provisioning.knowledge_events import KNOWLEDGE_NOTIFICATION_ID

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def s3_event(key, event="ObjectCreated:Put", bucket=None):
    from urllib.parse import quote_plus

    return {"Records": [{"eventSource": "aws:s3", "eventName": event, "s3": {
        "bucket": {"name": bucket or settings.S3_BUCKET_NAME}, "object": {"key": quote_plus(key)}}}]}


@pytest.fixture
def drained(aws):
    """Handle what earlier tests left in the shared events queue, so timings start from an empty queue."""
    while events_process(wait_seconds=0)["received"]:
        pass


def found(key, query):
    return any(r["key"] == key for r in knowledge_search(query=query, limit=10))


def process_until(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events_process(wait_seconds=1)
        if predicate():
            return True
    return False


def test_records_are_read_from_raw_and_enveloped_messages_and_keys_decoded():
    raw = s3_event("knowledge/a b/c+d.md")
    assert s3_records(raw)[0]["key"] == "knowledge/a b/c+d.md"
    envelope = {"Type": "Notification", "Message": json.dumps(raw)}
    assert s3_records(json.dumps(envelope))[0]["event"] == "ObjectCreated:Put"
    assert s3_records({"Service": "Amazon S3", "Event": "s3:TestEvent"}) == []
    assert s3_records({"event_type": "analysis_ready"}) == []


def test_bootstrap_wires_the_bucket_to_the_events_queue(aws):
    s3, sns, sqs = client("s3"), client("sns"), client("sqs")
    config = s3.get_bucket_notification_configuration(Bucket=settings.S3_BUCKET_NAME)["TopicConfigurations"]
    mine = next(c for c in config if c["Id"] == KNOWLEDGE_NOTIFICATION_ID)
    assert sorted(mine["Events"]) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    assert mine["Filter"]["Key"]["FilterRules"][0]["Value"] == settings.KNOWLEDGE_PREFIX
    topic = get_sns_service().topic_arn
    assert mine["TopicArn"] == topic
    url = queue_url(settings.SQS_QUEUE_EVENTS)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subs = [s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Endpoint"] == arn]
    assert len(subs) == 1
    assert sns.get_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"])["Attributes"][
        "RawMessageDelivery"] == "true"
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == topic
    topic_policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert any(s.get("Principal") == {"Service": "s3.amazonaws.com"} for s in topic_policy["Statement"])


def test_an_object_copied_in_with_a_plain_client_becomes_searchable_within_10_seconds(drained):
    key = f"knowledge/cli-{uuid.uuid4().hex[:8]}.md"
    started = time.monotonic()
    client("s3").put_object(Bucket=settings.S3_BUCKET_NAME, Key=key,
                            Body=b"# Quantum dolphins\n\nA note on marsupial hedging.")
    assert process_until(lambda: found(key, "marsupial dolphins"))
    assert time.monotonic() - started < 10
    assert knowledge_search(query="marsupial dolphins")[0]["key"] == key


def test_a_removed_object_leaves_the_results(drained):
    key = f"knowledge/rm-{uuid.uuid4().hex[:8]}.md"
    s3 = client("s3")
    version = s3.put_object(Bucket=settings.S3_BUCKET_NAME, Key=key, Body=b"# Gone\n\nThe ocelot clause.")["VersionId"]
    assert process_until(lambda: found(key, "ocelot"))
    s3.delete_object(Bucket=settings.S3_BUCKET_NAME, Key=key, VersionId=version)  # ObjectRemoved:Delete
    assert process_until(lambda: not found(key, "ocelot"))


def test_a_delete_marker_without_an_event_is_caught_by_reconciling(drained):
    key = f"knowledge/dm-{uuid.uuid4().hex[:8]}.md"
    s3 = client("s3")
    s3.put_object(Bucket=settings.S3_BUCKET_NAME, Key=key, Body=b"# Marker\n\nThe lemur paragraph.")
    assert process_until(lambda: found(key, "lemur"))
    s3.delete_object(Bucket=settings.S3_BUCKET_NAME, Key=key)  # moto sends no event for a delete marker
    assert index_reconcile()["removed"] >= 1
    assert not found(key, "lemur")


def test_duplicate_and_out_of_order_events_leave_the_index_right(aws):
    key = f"knowledge/dup-{uuid.uuid4().hex[:8]}.md"
    s3 = client("s3")
    s3.put_object(Bucket=settings.S3_BUCKET_NAME, Key=key, Body=b"# V\n\nFirst gecko.")
    s3.put_object(Bucket=settings.S3_BUCKET_NAME, Key=key, Body=b"# V\n\nSecond iguana.")
    created = s3_event(key)
    assert handle_event_message(created) == {"indexed": 1}
    assert handle_event_message(created) == {"unchanged": 1}
    assert handle_event_message(s3_event(key, "ObjectRemoved:Delete")) == {"unchanged": 1}  # late: it exists
    assert knowledge_search(query="iguana") and not knowledge_search(query="gecko")


def test_events_for_another_bucket_or_prefix_are_ignored(aws):
    assert handle_event_message(s3_event("knowledge/x.md", bucket="someone-else")) == {"ignored": 1}
    assert handle_event_message(s3_event("elsewhere/x.md")) == {"ignored": 1}
    assert not KnowledgeDocument.objects.exists()


def test_other_messages_on_the_topic_are_acknowledged_without_harm(drained):
    get_sns_service().publish("analysis_ready", {"analysis_id": 1})
    assert process_until(lambda: True, seconds=1)
    url = queue_url(settings.SQS_QUEUE_EVENTS)
    attrs = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] in ("0", 0)


@pytest.mark.django_db(transaction=True)  # the command handles events in a worker thread: its writes commit
def test_process_events_once_runs_one_batch(drained):
    key = f"knowledge/cmd-{uuid.uuid4().hex[:8]}.md"
    client("s3").put_object(Bucket=settings.S3_BUCKET_NAME, Key=key, Body=b"# Cmd\n\nThe manatee memo.")
    for _ in range(5):
        call_command("process_events", "--once", "--wait", "1")
        if found(key, "manatee"):
            break
    assert found(key, "manatee")


def test_indexing_a_document_publishes_document_indexed_after_commit(aws, notifications_queue,
                                                                     django_capture_on_commit_callbacks):
    from knowledge.services import document_upload

    with django_capture_on_commit_callbacks(execute=True):
        document_upload(name=f"signal-{uuid.uuid4().hex[:6]}.md", content=b"# Signal test\n\nThe quokka clause.")
    messages = client("sqs").receive_message(QueueUrl=notifications_queue, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=2).get("Messages", [])
    bodies = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    indexed = [b for b in bodies if b.get("event_type") == "document_indexed"]
    assert indexed and indexed[0]["title"] == "Signal test" and indexed[0]["passages"] >= 1
    assert indexed[0]["event_id"]  # the outbox's id, which subscribers deduplicate on
