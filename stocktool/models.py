import uuid

from django.db import models


class OutboxEvent(models.Model):
    """An event for the notifications topic, written in the same database transaction as the change it
    announces (the transactional outbox: see stocktool/outbox.py). Its id is the event id subscribers
    deduplicate on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=64)
    about = models.CharField(max_length=300, db_index=True)  # "analysis:<id>", "document:<key>"
    subject = models.CharField(max_length=100, blank=True)
    payload = models.JSONField()
    attributes = models.JSONField(default=dict, blank=True)  # SNS message attributes (subscription filters)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="outbox_unsent")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.about} ({'sent' if self.sent_at else 'pending'})"
