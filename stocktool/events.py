"""The app's events queue: one consumer for everything the notifications topic carries.

SNS fans out to an SQS queue (raw delivery). Each message is either an S3 object event (a knowledge
document changed: index or unindex it) or an app event (an analysis finished: tell the user's open pages).
The consumer runs inside the web process (started by the ASGI lifespan) so WebSocket pushes reach the
sockets it holds; with several web processes, use a shared channel layer (REDIS_URL) and run one consumer
with `python manage.py process_events`.
"""

import asyncio
import json
import logging
import time

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

from analysis.notifications import notification_for
from knowledge.events import MalformedEvent, events_queue, handle_event_message, s3_records
from knowledge.services import index_reconcile
from stocktool.outbox import outbox_sweep

logger = logging.getLogger(__name__)


def event_route(body: str) -> tuple[str, object]:
    """Decide what a message is: ("s3", body), ("push", (group, event)) or ("ignore", why).

    ``why`` is None for a well-formed message that is not for this consumer, else what is wrong with it.
    Either way it is acknowledged: the queue has no dead-letter queue, and a retry cannot mend a message.
    """
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:
        return "ignore", f"not JSON ({type(exc).__name__})"
    try:
        if s3_records(parsed):
            return "s3", parsed
    except MalformedEvent as exc:
        return "ignore", str(exc)
    target = notification_for(parsed)
    return ("push", target) if target else ("ignore", None)


SEEN_SECONDS = 24 * 3600  # how long an event id is remembered (SNS redelivers within minutes, the outbox sooner)


async def _first_delivery(event_id: str | None) -> bool:
    """True unless an event with this id was already pushed (by this or another consumer, through the shared
    cache). If the cache does not answer, push anyway: the page's socket drops repeats itself."""
    if not event_id:
        return True
    try:
        return await cache.aadd(f"event-seen:{event_id}", 1, timeout=SEEN_SECONDS)
    except Exception as exc:  # noqa: BLE001 (the cache's own errors differ by backend)
        logger.warning("events: could not check event %s for a repeat (%s); pushed anyway", event_id, exc)
        return True


async def _forget_delivery(event_id: str | None) -> None:
    if event_id:
        try:
            await cache.adelete(f"event-seen:{event_id}")
        except Exception as exc:  # noqa: BLE001
            logger.warning("events: could not forget event %s (%s)", event_id, exc)


async def events_batch(*, wait_seconds: int = 2, layer=None) -> dict:
    """Receive one batch and handle it; a message whose handling fails stays for redelivery."""
    sqs = events_queue()
    layer = layer or get_channel_layer()
    messages = await asyncio.to_thread(sqs.receive, max_messages=10, wait_seconds=wait_seconds)
    stats = {"received": len(messages), "s3": 0, "push": 0, "duplicate": 0, "ignore": 0, "failed": 0}
    handled = []
    for message in messages:
        try:
            kind, payload = event_route(message["Body"])
            if kind == "ignore" and payload:
                logger.warning("events: dropped message %s (%d bytes): %s", message.get("MessageId"),
                               len(message["Body"]), payload)
            elif kind == "s3":
                await asyncio.to_thread(handle_event_message, payload)
            elif kind == "push" and layer is not None:
                group, event = payload
                event_id = event["payload"].get("event_id")
                if not await _first_delivery(event_id):
                    kind = "duplicate"
                else:
                    try:
                        await layer.group_send(group, event)
                    except Exception:
                        await _forget_delivery(event_id)  # so that the redelivered message is pushed
                        raise
        except Exception:
            logger.exception("event %s failed; left for redelivery", message.get("MessageId"))
            stats["failed"] += 1
            continue
        stats[kind] += 1
        handled.append(message)
    if handled:
        await asyncio.to_thread(sqs.delete_messages, handled)
    return stats


async def events_run(stop: asyncio.Event, *, wait_seconds: int = 2, reconcile_every: float | None = None) -> None:
    """Handle events until ``stop`` is set; every few seconds compare the bucket with the search index
    (moto sends no event for a delete marker, and a queue can lose messages past its retention), and publish
    the outbox's events that a dead process left unsent."""
    every = settings.KNOWLEDGE_RECONCILE_SECONDS if reconcile_every is None else reconcile_every
    last, swept, warned = 0.0, 0.0, False
    while not stop.is_set():
        try:
            if time.monotonic() - last >= every:
                last = time.monotonic()
                changes = await asyncio.to_thread(index_reconcile)
                if changes.get("indexed") or changes.get("removed") or changes.get("failed"):
                    logger.info("reconciled the knowledge index with the bucket: %s", changes)
            if time.monotonic() - swept >= settings.OUTBOX_SWEEP_SECONDS:
                swept = time.monotonic()
                outbox = await asyncio.to_thread(outbox_sweep)
                if outbox["sent"] or outbox["failed"]:
                    logger.info("published events a process left unsent: %s", outbox)
            stats = await events_batch(wait_seconds=wait_seconds)
            if stats["received"]:
                logger.info("events: %s", stats)
            warned = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 (an outage must not end the consumer; said once, not per poll)
            if not warned:
                logger.warning("events queue unavailable (%s); retrying every 2 s", exc)
                warned = True
            await asyncio.sleep(2)


class EventsListener:
    """Run ``events_run`` as a task of the web server's event loop (see stocktool.asgi)."""

    def __init__(self, *, wait_seconds: int = 2, reconcile_every: float | None = None):
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.options = {"wait_seconds": wait_seconds, "reconcile_every": reconcile_every}

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(events_run(self.stop, **self.options),
                                                           name="events-listener")

    async def close(self, timeout: float = 30) -> None:
        """Stop after the batch in hand is handled (a long poll ends within ``wait_seconds``)."""
        self.stop.set()
        if self.task:
            try:
                await asyncio.wait_for(self.task, timeout=timeout)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()
