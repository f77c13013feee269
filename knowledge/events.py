"""S3 events from the events queue: bucket -> SNS topic -> SQS (raw delivery) -> index or unindex.

Trust: messages reach the queue only from the topic (the queue policy names it) and the topic accepts S3
publishes only from this bucket (topic policy), so no SNS signature travels or needs checking on this path;
SNS signatures matter where SNS POSTs over HTTP. Whatever a message says, it is only a hint: the handler reads
the key's current state from S3 and indexes that (`document_sync_from_s3`), so a duplicate, late, reordered or
forged event cannot put anything into the index that the bucket does not hold.
"""

import json
import logging
from urllib.parse import unquote_plus

from django.conf import settings

from stocktool.aws.sqs import SQSService

from .services import document_sync_from_s3

logger = logging.getLogger(__name__)


def s3_records(body: dict | str) -> list[dict]:
    """The object events in a message body: raw S3 JSON, or an SNS envelope around it. Test events give []."""
    if isinstance(body, str):
        body = json.loads(body)
    if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
        body = json.loads(body["Message"])
    out = []
    for record in (body or {}).get("Records", []) if isinstance(body, dict) else []:
        if record.get("eventSource") != "aws:s3" or "s3" not in record:
            continue
        obj = record["s3"].get("object", {})
        out.append({
            "event": record.get("eventName", ""),
            "bucket": record["s3"].get("bucket", {}).get("name", ""),
            "key": unquote_plus(obj.get("key", "")),  # keys in events are URL-encoded, "/" and spaces too
            "version_id": obj.get("versionId", ""),
            "etag": obj.get("eTag", ""),
        })
    return out


def handle_event_message(body: dict | str) -> dict:
    """Apply one queue message's records to the index; return counts by outcome."""
    counts: dict[str, int] = {}
    for record in s3_records(body):
        if record["bucket"] != settings.S3_BUCKET_NAME or not record["key"].startswith(settings.KNOWLEDGE_PREFIX):
            outcome = "ignored"
        else:
            hint = record["version_id"] if record["event"].startswith("ObjectCreated") else ""
            outcome = document_sync_from_s3(key=record["key"], version_hint=hint)
            logger.info("%s %s: %s", record["event"], record["key"], outcome)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def events_queue() -> SQSService:
    return SQSService(settings.SQS_QUEUE_EVENTS, settings.SQS_QUEUE_EVENTS)


def events_process(*, wait_seconds: int = 0, max_messages: int = 10) -> dict:
    """Receive one batch from the events queue and handle it; a message that fails stays for redelivery.

    Messages that are not S3 events (other publishers on the topic) are acknowledged and skipped.
    """
    outcomes: dict[str, int] = {}

    def handler(body):
        for outcome, n in handle_event_message(body).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n

    stats = events_queue().process_messages(handler, max_messages=max_messages, wait_seconds=wait_seconds)
    return {**stats, **outcomes}
