"""The events consumer: one queue, S3 object events and app events, over HTTP against the emulator."""

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from knowledge.handlers import events_process
from knowledge.selectors import knowledge_search
from stocktool.aws import get_sns_service
from stocktool.aws.session import client
from stocktool.events import event_route, events_batch
from tests.workers import listen_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def drained(aws):
    while events_process(wait_seconds=0)["received"]:
        pass


def test_messages_are_routed_by_what_they_are():
    assert event_route('{"Records": [{"eventSource": "aws:s3", "s3": {"object": {"key": "k"}}}]}')[0] == "s3"
    kind, (group, event) = event_route('{"event_type": "analysis_finished", "user_id": "5", "analysis_id": "a"}')
    assert (kind, group, event["payload"]["analysis_id"]) == ("push", "user-5", "a")
    assert event_route('{"event_type": "something_else"}') == ("ignore", None)
    assert event_route("not json") == ("ignore", "not JSON (JSONDecodeError)")


def test_a_finished_analysis_published_to_sns_reaches_the_users_group(drained):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("user-77", channel)
    get_sns_service().publish("analysis_finished", {"analysis_id": "job-1", "user_id": "77", "status": "succeeded"},
                              attributes={"user_id": "77", "analysis_id": "job-1"})

    async def consume_until_pushed():
        for _ in range(10):
            stats = await events_batch(wait_seconds=1, layer=layer)
            if stats["push"]:
                return stats
        return stats

    stats = async_to_sync(consume_until_pushed)()
    assert stats["push"] == 1 and stats["failed"] == 0
    event = async_to_sync(layer.receive)(channel)
    assert event["payload"] == {"type": "analysis_finished", "analysis_id": "job-1", "status": "succeeded"}


def test_the_listener_indexes_a_document_put_straight_into_the_bucket(drained):
    key = f"{settings.KNOWLEDGE_PREFIX}listener-{uuid.uuid4().hex[:6]}.md"
    client("s3").put_object(Bucket=settings.S3_BUCKET_NAME, Key=key, Body=b"# Okapi\n\nThe okapi memorandum.")

    assert listen_until(lambda: any(h["key"] == key for h in knowledge_search(query="okapi memorandum", limit=5)))


def test_the_command_handles_one_batch(drained, capsys):
    from django.core.management import call_command

    get_sns_service().publish("something_else", {"x": 1})
    call_command("process_events", "--once", "--wait", "1")
    assert "received" in capsys.readouterr().out
