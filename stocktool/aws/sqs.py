"""SQS: the analysis queue (Celery's broker) and its dead-letter queue."""

import json
import logging
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings

from .errors import found, translated
from .session import LONG_POLL, client

logger = logging.getLogger(__name__)


@lru_cache(maxsize=32)
def _queue_url(endpoint: str | None, name: str) -> str:
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def queue_url(name: str) -> str:
    """Return the URL of queue ``name`` (cached; the queue must exist: `bootstrap_aws` creates it)."""
    with translated(f"queue {name}"):
        return _queue_url(settings.AWS_ENDPOINT_URL, name)


class SQSService:
    def __init__(self, queue_name: str, dlq_name: str):
        self.queue_name, self.dlq_name = queue_name, dlq_name

    @property
    def queue_url(self) -> str:
        return queue_url(self.queue_name)

    @property
    def dlq_url(self) -> str:
        return queue_url(self.dlq_name)

    def send_message(self, body: dict, message_attributes: dict | None = None, delay_seconds: int = 0) -> str:
        """Send ``body`` as JSON; string attributes ride along as SQS message attributes."""
        attrs = {
            str(k): {"DataType": "String", "StringValue": str(v)} for k, v in (message_attributes or {}).items()
        }
        with translated(f"send to {self.queue_name}"):
            resp = client("sqs").send_message(
                QueueUrl=self.queue_url,
                MessageBody=json.dumps(body, default=str),
                MessageAttributes=attrs,
                DelaySeconds=delay_seconds,
            )
        return resp["MessageId"]

    def receive(self, *, max_messages: int = 10, wait_seconds: int = 0, dead_letter: bool = False) -> list[dict]:
        with translated(f"receive from {self.dlq_name if dead_letter else self.queue_name}"):
            resp = client("sqs", purpose=LONG_POLL if wait_seconds else "default").receive_message(
                QueueUrl=self.dlq_url if dead_letter else self.queue_url,
                MaxNumberOfMessages=max(1, min(max_messages, 10)),
                WaitTimeSeconds=wait_seconds,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            )
        return resp.get("Messages", [])

    def process_messages(self, handler: Callable[[dict], object], max_messages: int = 10, wait_seconds: int = 0) -> dict:
        """Hand each message's decoded body to ``handler``; delete only those it handled."""
        stats = {"received": 0, "processed": 0, "failed": 0}
        messages = self.receive(max_messages=max_messages, wait_seconds=wait_seconds)
        done: list[dict] = []
        for msg in messages:
            stats["received"] += 1
            try:
                handler(json.loads(msg["Body"]))
            except Exception:
                logger.exception("message %s failed; left for redelivery", msg["MessageId"])
                stats["failed"] += 1
            else:
                stats["processed"] += 1
                done.append({"Id": str(len(done)), "ReceiptHandle": msg["ReceiptHandle"]})
        if done:
            with translated(f"delete from {self.queue_name}"):
                client("sqs").delete_message_batch(QueueUrl=self.queue_url, Entries=done)
        return stats

    def delete_messages(self, messages: list[dict]) -> None:
        """Delete received ``messages`` (in batches of 10)."""
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                       for i, m in enumerate(messages[start:start + 10])]
            with translated(f"delete from {self.queue_name}"):
                client("sqs").delete_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def depth(self, *, dead_letter: bool = False) -> int:
        """Approximate number of visible messages in the queue (or its dead-letter queue)."""
        url = self.dlq_url if dead_letter else self.queue_url
        with translated(f"depth of {self.dlq_name if dead_letter else self.queue_name}"):
            attrs = client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0))

    def dead_letters_peek(self, max_messages: int = 10) -> list[dict]:
        """Return up to ``max_messages`` dead letters without consuming them (they stay in the queue)."""
        sqs = client("sqs")
        messages = self.receive(max_messages=max_messages, dead_letter=True)
        if messages:
            with translated(f"peek into {self.dlq_name}"):
                sqs.change_message_visibility_batch(QueueUrl=self.dlq_url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages)
                ])
        return [{"message_id": m["MessageId"], "body": m["Body"],
                 "receive_count": int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
                 "sent_at": m.get("Attributes", {}).get("SentTimestamp")} for m in messages]

    def redrive(self, limit: int | None = None) -> int:
        """Move dead letters back to the main queue (body and attributes unchanged); return how many."""
        sqs, moved = client("sqs"), 0
        while limit is None or moved < limit:
            batch = self.receive(max_messages=min(10, (limit - moved) if limit else 10), dead_letter=True)
            if not batch:
                break
            for m in batch:
                kwargs = {"QueueUrl": self.queue_url, "MessageBody": m["Body"]}
                if m.get("MessageAttributes"):
                    kwargs["MessageAttributes"] = m["MessageAttributes"]
                with translated(f"redrive {self.dlq_name}"):
                    sqs.send_message(**kwargs)  # sent first: a crash here duplicates, never loses
                    sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=m["ReceiptHandle"])
                moved += 1
        return moved

    def ping(self, purpose: str = "probe") -> None:
        client("sqs", purpose=purpose).get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )


def change_visibility(queue_url: str, receipt_handle: str, seconds: int) -> None:
    """Keep a received message hidden ``seconds`` more from now (a task still working on it)."""
    with translated("change a message's visibility"):
        client("sqs").change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt_handle,
                                                VisibilityTimeout=seconds)


def exists(name: str) -> bool:
    return found(f"queue {name}", client("sqs").get_queue_url, QueueName=name) is not None
