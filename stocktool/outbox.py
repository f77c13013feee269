"""The transactional outbox: every committed state change is announced at least once.

A service that changes state and wants the world told writes an OutboxEvent in the same transaction
(`outbox_add`). Once the transaction commits, the process publishes it to the notifications topic and marks
it sent. If the process dies in between (SIGKILL, a lost container, SNS not answering), the row stays unsent
and is published later by whichever comes first:

- the redelivered message's task, which finds its work already done (`outbox_send_pending(about=...)`);
- the sweeper in the events consumer (`outbox_sweep`, every OUTBOX_SWEEP_SECONDS, for rows older than
  OUTBOX_RESEND_AFTER_SECONDS, so it does not race the on-commit publish of a live process).

A row can therefore be published more than once (a process killed after SNS took the message but before the
row was marked): every message carries its ``event_id`` and consumers deduplicate on it
(stocktool/events.py, analysis/consumers.py).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from stocktool.aws import AWSError, get_sns_service

from .models import OutboxEvent

logger = logging.getLogger(__name__)


class OutsideTransaction(RuntimeError):
    """An event written outside the transaction of its change could announce a change that never commits."""


def outbox_add(*, event_type: str, about: str, payload: dict, subject: str = "",
               attributes: dict | None = None) -> OutboxEvent:
    """Record an event in the caller's transaction; it is published once that transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction(f"outbox_add({event_type!r}) must run inside the transaction of its change")
    event = OutboxEvent.objects.create(event_type=event_type, about=about[:300], payload=payload,
                                       subject=(subject or event_type)[:100], attributes=attributes or {})
    # robust: a failure to publish is logged and left to the sweeper, never raised into the committed request
    transaction.on_commit(lambda: outbox_send(event), robust=True)
    return event


def outbox_send(event: OutboxEvent) -> bool:
    """Publish one event and mark it sent; False (and the error kept on the row) if SNS did not take it."""
    if not settings.SNS_ENABLED:
        logger.info("notification %s (%s): %s", event.event_type, event.id, event.payload)
    else:
        event_id = str(event.id)
        try:
            get_sns_service().publish(event.event_type, {**event.payload, "event_id": event_id},
                                      subject=event.subject or event.event_type,
                                      attributes={**event.attributes, "event_id": event_id})
        except AWSError as exc:
            logger.warning("event %s %s (%s) not published yet: %s", event.event_type, event.about, event.id, exc)
            OutboxEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1, last_error=str(exc)[:1000])
            return False
    OutboxEvent.objects.filter(pk=event.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error="")
    return True


def outbox_send_pending(*, about: str) -> int:
    """Publish what is still unsent about ``about`` (a redelivered task whose work was done); return how many."""
    return sum(outbox_send(event) for event in OutboxEvent.objects.filter(about=about, sent_at__isnull=True))


def outbox_sweep(*, older_than: float | None = None, limit: int = 100) -> dict:
    """Publish unsent events older than ``older_than`` seconds; drop sent ones past OUTBOX_KEEP_DAYS.

    On PostgreSQL each row is locked while it is published (SKIP LOCKED), so several sweepers (one per web
    process) do not publish the same row at the same moment.
    """
    age = settings.OUTBOX_RESEND_AFTER_SECONDS if older_than is None else older_than
    stats = {"sent": 0, "failed": 0, "deleted": 0}
    before = timezone.now() - timedelta(seconds=age)
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _ in range(limit):
        with transaction.atomic():
            pending = OutboxEvent.objects.filter(sent_at__isnull=True, created_at__lte=before).order_by("created_at")
            if skip_locked:
                pending = pending.select_for_update(skip_locked=True)
            event = pending.first()
            if event is None:
                break
            if not outbox_send(event):
                stats["failed"] += 1
                break  # SNS is not answering: the rest waits for the next sweep
            stats["sent"] += 1
    expired = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    stats["deleted"], _ = OutboxEvent.objects.filter(sent_at__lt=expired).delete()
    return stats


def outbox_pending() -> int:
    return OutboxEvent.objects.filter(sent_at__isnull=True).count()
