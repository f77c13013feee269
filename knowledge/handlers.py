"""The events the knowledge app handles: S3 events from the events queue (bucket -> SNS topic -> SQS, raw
delivery) index or unindex a document. ``s3_event_handle`` is registered with stocktool.events in
KnowledgeConfig.ready, with the periodic comparison of the bucket and the index (``index_reconcile_run``).

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

from stocktool.events import Handle, MalformedMessage, events_queue

from .publish import document_indexed_resend
from .services import document_sync_from_s3, index_reconcile

logger = logging.getLogger(__name__)


MalformedEvent = MalformedMessage  # an S3 event (or an SNS envelope) that cannot be read: dropped, not retried


def s3_event_handle(message: dict) -> Handle | None:
    """Index what a message's S3 records name; None for a message without any."""
    return Handle("s3", handle_event_message, message) if s3_records(message) else None


def index_reconcile_run() -> None:
    """Compare the bucket with the search index (moto sends no event for a delete marker, and a queue can lose
    messages past its retention), and mend the index."""
    changes = index_reconcile()
    if changes.get("indexed") or changes.get("removed") or changes.get("failed"):
        logger.info("reconciled the knowledge index with the bucket: %s", changes)


def s3_records(body: dict | str) -> list[dict]:
    """The object events in a message body: raw S3 JSON, or an SNS envelope around it. Test events give [].

    Raise MalformedEvent for JSON that cannot be parsed or records of the wrong shape.
    """
    try:
        if isinstance(body, str):
            body = json.loads(body)
        if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
            body = json.loads(body["Message"])
        records = body.get("Records", []) if isinstance(body, dict) else []
        if not all(isinstance(record, dict) for record in records):
            raise TypeError("a record is not an object")
        return [_s3_record(record) for record in records
                if record.get("eventSource") == "aws:s3" and "s3" in record]
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise MalformedEvent(f"not an S3 event: {type(exc).__name__}: {str(exc)[:200]}") from None


def _s3_record(record: dict) -> dict:
    obj = record["s3"].get("object", {})
    key, version, etag = obj.get("key", ""), obj.get("versionId", ""), obj.get("eTag", "")
    bucket, event = record["s3"].get("bucket", {}).get("name", ""), record.get("eventName", "")
    if not all(isinstance(v, str) for v in (key, version, etag, bucket, event)):
        raise TypeError("a record's names must be strings")
    return {
        "event": event,
        "bucket": bucket,
        "key": unquote_plus(key),  # keys in events are URL-encoded, "/" and spaces too
        "version_id": version,
        "etag": etag,
    }


def handle_event_message(body: dict | str) -> dict:
    """Apply one queue message's records to the index; return counts by outcome."""
    counts: dict[str, int] = {}
    for record in s3_records(body):
        if record["bucket"] != settings.S3_BUCKET_NAME or not record["key"].startswith(settings.KNOWLEDGE_PREFIX):
            outcome = "ignored"
        else:
            hint = record["version_id"] if record["event"].startswith("ObjectCreated") else ""
            outcome = document_sync_from_s3(key=record["key"], version_hint=hint)
            if outcome == "unchanged":  # a redelivery: the process that indexed it may have died before announcing
                document_indexed_resend(record["key"])
            logger.info("%s %s: %s", record["event"], record["key"], outcome)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def events_process(*, wait_seconds: int = 0, max_messages: int = 10) -> dict:
    """Receive one batch from the events queue and handle it; a message that fails stays for redelivery.

    Messages that are not S3 events (other publishers on the topic) are acknowledged and skipped; malformed
    ones too, with a log line: the queue has no dead-letter queue, and a retry could not mend them.
    """
    sqs = events_queue()
    messages = sqs.receive(max_messages=max_messages, wait_seconds=wait_seconds)
    stats = {"received": len(messages), "processed": 0, "failed": 0}
    done = []
    for message in messages:
        try:
            outcomes = handle_event_message(message["Body"])
        except MalformedEvent as exc:
            logger.warning("events: dropped message %s: %s", message.get("MessageId"), exc)
            outcomes = {"malformed": 1}
        except Exception:
            logger.exception("events: message %s failed; left for redelivery", message.get("MessageId"))
            stats["failed"] += 1
            continue
        stats["processed"] += 1
        for outcome, n in outcomes.items():
            stats[outcome] = stats.get(outcome, 0) + n
        done.append(message)
    if done:
        sqs.delete_messages(done)
    return stats
