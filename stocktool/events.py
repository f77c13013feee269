"""The app's events queue: one consumer for everything the notifications topic carries.

SNS fans out to an SQS queue (raw delivery). The apps say what a message means: each registers a handler
(``handler_register``, from its AppConfig.ready) that reads a parsed message and returns what to do with it:
``Handle`` (work to run, such as indexing the document an S3 event names) or ``Push`` (an event for a group of
the users' open pages), or None when the message is not its own. Apps also register periodic work
(``periodic_register``: the knowledge app compares the bucket with its index). This package imports no app.

The consumer runs inside the web process (started by the ASGI lifespan) so WebSocket pushes reach the
sockets it holds; with several web processes, use a shared channel layer (REDIS_URL) and run one consumer
with `python manage.py process_events`.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

from stocktool.aws.sqs import SQSService
from stocktool.outbox import outbox_sweep

logger = logging.getLogger(__name__)


class MalformedMessage(ValueError):
    """A message that claims to be one a handler knows and cannot be read: dropped, not retried."""


@dataclass(frozen=True)
class Handle:
    """Run ``work(payload)`` (in a thread: it may block); counted under ``kind`` in the batch's figures."""

    kind: str
    work: Callable[[Any], Any]
    payload: Any


@dataclass(frozen=True)
class Push:
    """Send ``event`` to the channel-layer group ``group`` (the open pages of one user)."""

    group: str
    event: dict


Handler = Callable[[Any], Handle | Push | None]


@dataclass
class Periodic:
    name: str
    every: Callable[[], float]  # seconds between runs (read at each run: settings may change)
    work: Callable[[], Any]


_handlers: list[Handler] = []
_periodic: dict[str, Periodic] = {}


def handler_register(handler: Handler) -> None:
    """Have the consumer ask ``handler`` about every message (once, however often an app registers it)."""
    if handler not in _handlers:
        _handlers.append(handler)


def periodic_register(name: str, every: Callable[[], float], work: Callable[[], Any]) -> None:
    """Have the consumer run ``work()`` every ``every()`` seconds between batches."""
    _periodic[name] = Periodic(name, every, work)


def events_queue() -> SQSService:
    return SQSService(settings.SQS_QUEUE_EVENTS, settings.SQS_QUEUE_EVENTS)


def event_route(body: str) -> tuple[str, object]:
    """Decide what a message is: (kind, Handle), ("push", (group, event)) or ("ignore", why).

    ``why`` is None for a well-formed message that is not for this consumer, else what is wrong with it.
    Either way it is acknowledged: the queue has no dead-letter queue, and a retry cannot mend a message.
    """
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError, RecursionError) as exc:
        return "ignore", f"not JSON ({type(exc).__name__})"
    for handler in _handlers:
        try:
            action = handler(parsed)
        except MalformedMessage as exc:
            return "ignore", str(exc)
        if isinstance(action, Handle):
            return action.kind, action
        if isinstance(action, Push):
            return "push", (action.group, action.event)
    return "ignore", None


def _outbox_sweep() -> None:
    outbox = outbox_sweep()
    if outbox["sent"] or outbox["failed"]:
        logger.info("published events a process left unsent: %s", outbox)


# The project's own: publish the outbox's events that a dead process left unsent.
periodic_register("outbox sweep", lambda: settings.OUTBOX_SWEEP_SECONDS, _outbox_sweep)


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
    stats = {"received": len(messages), "push": 0, "duplicate": 0, "ignore": 0, "failed": 0}
    handled = []
    for message in messages:
        try:
            kind, payload = event_route(message["Body"])
            if kind == "ignore" and payload:
                logger.warning("events: dropped message %s (%d bytes): %s", message.get("MessageId"),
                               len(message["Body"]), payload)
            elif isinstance(payload, Handle):
                await asyncio.to_thread(payload.work, payload.payload)
            elif kind == "push" and layer is not None:
                group, event = cast(tuple[str, dict], payload)  # ("push", (group, event)), as event_route says
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
        stats[kind] = stats.get(kind, 0) + 1
        handled.append(message)
    if handled:
        await asyncio.to_thread(sqs.delete_messages, handled)
    return stats


async def events_run(stop: asyncio.Event, *, wait_seconds: int = 2, every: dict[str, float] | None = None) -> None:
    """Handle events until ``stop`` is set, running the registered periodic work when it is due (``every``
    overrides a periodic's interval by name)."""
    warned, last = False, dict.fromkeys(_periodic, 0.0)  # each at once, then every interval
    while not stop.is_set():
        try:
            for periodic in list(_periodic.values()):
                interval = (every or {}).get(periodic.name, periodic.every())
                if time.monotonic() - last.get(periodic.name, 0.0) >= interval:
                    last[periodic.name] = time.monotonic()
                    await asyncio.to_thread(periodic.work)
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

    def __init__(self, *, wait_seconds: int = 2, every: dict[str, float] | None = None):
        self.stop = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.wait_seconds, self.every = wait_seconds, every

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(events_run(self.stop, wait_seconds=self.wait_seconds, every=self.every),
                                                           name="events-listener")

    async def close(self, timeout: float = 30) -> None:
        """Stop after the batch in hand is handled (a long poll ends within ``wait_seconds``)."""
        self.stop.set()
        if self.task:
            try:
                await asyncio.wait_for(self.task, timeout=timeout)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()
