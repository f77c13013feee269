"""The transactional outbox, over HTTP against the emulator: an event is written with its change, published
after commit, kept when SNS does not take it, published later by the sweeper or by a redelivered task, and
pushed to a page once per event id however often it is delivered."""

import json
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from analysis import services
from analysis.models import AnalysisJob
from analysis.publish import analysis_finished_announce
from knowledge.handlers import events_process
from stocktool.aws import get_sns_service
from stocktool.aws.session import LONG_POLL, client
from stocktool.events import events_batch
from stocktool.models import OutboxEvent
from stocktool.outbox import OutsideTransaction, outbox_add, outbox_pending, outbox_sweep
from tests.faultproxy import FaultProxy
from tests.workers import listen_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _published(queue_url, wait=2) -> list[dict]:
    """The app events on the subscribed queue (SNS envelopes unwrapped), drained."""
    sqs, found = client("sqs", purpose=LONG_POLL), []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=wait, MaxNumberOfMessages=10,
                                       VisibilityTimeout=30).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        wait = 1


def _job(user=None, status=AnalysisJob.Status.SUCCEEDED):
    return AnalysisJob.objects.create(user=user, symbols=["AAPL"], analysis_type="performance", period="3mo",
                                      status=status, attempts=1, result={"return": 0.1})


def test_an_event_outside_the_transaction_of_its_change_is_refused(aws):
    with pytest.raises(OutsideTransaction, match="analysis_finished"):
        outbox_add(event_type="analysis_finished", about="analysis:x", payload={})
    assert not OutboxEvent.objects.exists()


def test_a_change_that_rolls_back_announces_nothing(aws, notifications_queue):
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            outbox_add(event_type="analysis_finished", about="analysis:rolled-back", payload={"analysis_id": "r"})
            1 / 0
    assert not OutboxEvent.objects.exists()
    assert _published(notifications_queue, wait=1) == []


def test_when_sns_does_not_answer_the_change_commits_and_the_sweeper_announces_it_later(
        behind_proxy, notifications_queue, settings):
    proxy = behind_proxy(FaultProxy, AWS_READ_TIMEOUT=1, AWS_CONNECT_TIMEOUT=1, AWS_MAX_ATTEMPTS=1)
    get_sns_service().topic_arn  # (looked up once, before the outage)
    proxy.down("refuse")
    with transaction.atomic():
        job = _job()
        event = outbox_add(event_type="analysis_finished", about=f"analysis:{job.id}",
                           payload={"analysis_id": str(job.id), "status": "succeeded"})
    # committed, and the failed publish did not raise into the caller
    assert AnalysisJob.objects.filter(pk=job.pk).exists()
    event.refresh_from_db()
    assert event.sent_at is None and event.attempts == 1 and event.last_error
    assert outbox_sweep(older_than=0)["failed"] == 1  # still down: kept, tried again later
    assert outbox_pending() == 1

    proxy.up()
    from stocktool.aws import breaker

    breaker.reset()
    assert outbox_sweep(older_than=3600) == {"sent": 0, "failed": 0, "deleted": 0}  # too young: a live process may send it
    assert outbox_sweep(older_than=0)["sent"] == 1
    assert outbox_sweep(older_than=0)["sent"] == 0  # sent once, marked
    event.refresh_from_db()
    assert event.sent_at is not None and event.attempts == 3 and event.last_error == ""
    assert [(e["event_id"], e["analysis_id"]) for e in _published(notifications_queue)] == [(str(event.id), str(job.id))]


def test_a_redelivered_task_announces_what_the_dead_run_committed_but_never_sent(aws, notifications_queue,
                                                                                  monkeypatch):
    job = _job(status=AnalysisJob.Status.RUNNING)
    # The run saves the result and dies before its on-commit publish runs (as under SIGKILL).
    with monkeypatch.context() as dying, transaction.atomic():
        dying.setattr("stocktool.outbox.transaction.on_commit", lambda *args, **kwargs: None)
        job.status = AnalysisJob.Status.SUCCEEDED
        job.save()
        analysis_finished_announce(job)
    assert outbox_pending() == 1 and _published(notifications_queue, wait=1) == []

    assert services.analysis_run(job_id=job.id) is None  # the redelivery: the job is not run again ...
    job.refresh_from_db()
    assert job.attempts == 1
    events = _published(notifications_queue)  # ... but its announcement goes out
    assert [(e["analysis_id"], e["status"]) for e in events] == [(str(job.id), "succeeded")]
    assert outbox_pending() == 0
    assert services.analysis_run(job_id=job.id) is None  # and only once
    assert _published(notifications_queue, wait=1) == []


def test_the_sweeper_forgets_sent_events_after_the_keeping_period(aws, settings):
    with transaction.atomic():
        old = outbox_add(event_type="document_indexed", about="document:a", payload={})
        new = outbox_add(event_type="document_indexed", about="document:b", payload={})
    assert outbox_pending() == 0
    OutboxEvent.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS + 1))
    assert outbox_sweep(older_than=0)["deleted"] == 1
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [new.pk]


@pytest.fixture
def drained(aws):
    while events_process(wait_seconds=0)["received"]:
        pass


def test_the_events_consumer_pushes_each_event_id_once_however_often_it_is_delivered(drained):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("user-88", channel)
    event = {"analysis_id": "job-88", "user_id": "88", "status": "succeeded", "event_id": "3f1c-dup-test"}
    for payload in (event, event, event | {"event_id": "3f1c-other"}):  # a resend, then another event
        get_sns_service().publish("analysis_finished", payload, attributes={"user_id": "88"})

    async def consume(until):
        totals = {"push": 0, "duplicate": 0}
        for _ in range(15):
            stats = await events_batch(wait_seconds=1, layer=layer)
            for kind in totals:
                totals[kind] += stats[kind]
            if totals["push"] + totals["duplicate"] >= until:
                break
        return totals

    assert async_to_sync(consume)(3) == {"push": 2, "duplicate": 1}
    received = [async_to_sync(layer.receive)(channel)["payload"]["event_id"] for _ in range(2)]
    assert sorted(received) == ["3f1c-dup-test", "3f1c-other"]


def test_the_events_listener_sweeps_the_outbox(drained, settings, monkeypatch):
    settings.OUTBOX_SWEEP_SECONDS, settings.OUTBOX_RESEND_AFTER_SECONDS = 1, 0
    with monkeypatch.context() as dying, transaction.atomic():
        dying.setattr("stocktool.outbox.transaction.on_commit", lambda *args, **kwargs: None)
        event = outbox_add(event_type="document_indexed", about="document:swept", payload={"key": "swept"})

    assert listen_until(lambda: not outbox_pending(), tries=50)
    event.refresh_from_db()
    assert event.sent_at is not None


def test_a_redelivered_s3_event_announces_an_indexed_document_whose_process_died(aws, notifications_queue,
                                                                                 monkeypatch, settings):
    from knowledge.handlers import handle_event_message
    from knowledge.services import document_sync_from_s3

    key = f"{settings.KNOWLEDGE_PREFIX}outbox-{uuid.uuid4().hex[:6]}.md"
    version = client("s3").put_object(Bucket=settings.S3_BUCKET_NAME, Key=key,
                                      Body=b"# Quokka\n\nThe quokka memorandum.")["VersionId"]
    with monkeypatch.context() as dying:  # indexed, then the process dies before its on-commit publish
        dying.setattr("stocktool.outbox.transaction.on_commit", lambda *args, **kwargs: None)
        assert document_sync_from_s3(key=key, version_hint=version) == "indexed"
    assert outbox_pending() == 1

    record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
              "s3": {"bucket": {"name": settings.S3_BUCKET_NAME}, "object": {"key": key, "versionId": version}}}
    assert handle_event_message({"Records": [record]}) == {"unchanged": 1}  # the redelivered event
    events = [e for e in _published(notifications_queue) if e.get("event_type") == "document_indexed"]
    assert [(e["key"], e["version_id"]) for e in events] == [(key, version)]
    assert outbox_pending() == 0


def test_an_event_whose_push_failed_is_pushed_when_it_comes_again(aws, settings, monkeypatch):
    from stocktool import events
    from stocktool.aws.sqs import SQSService

    name = f"{settings.TEST_RUN_PREFIX}ev-{uuid.uuid4().hex[:8]}"  # its own queue: the message comes back in 1 s
    url = client("sqs").create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    monkeypatch.setattr(events, "events_queue", lambda: SQSService(name, name))
    event_id = f"fail-{uuid.uuid4().hex}"
    client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(
        {"event_type": "analysis_finished", "analysis_id": "j", "user_id": "89", "status": "succeeded",
         "event_id": event_id}))

    class Layer:
        def __init__(self):
            self.down, self.sent = True, []

        async def group_send(self, group, event):
            if self.down:
                raise ConnectionError("channel layer down")
            self.sent.append(event["payload"]["event_id"])

    layer = Layer()

    async def consume():
        totals = {"push": 0, "failed": 0, "duplicate": 0}
        for _ in range(15):
            stats = await events_batch(wait_seconds=1, layer=layer)
            for kind in totals:
                totals[kind] += stats[kind]
            layer.down = False  # back after the first failure
            if totals["push"]:
                break
        return totals

    try:
        assert async_to_sync(consume)() == {"push": 1, "failed": 1, "duplicate": 0}  # not dropped as a repeat
        assert layer.sent == [event_id]
    finally:
        client("sqs").delete_queue(QueueUrl=url)
