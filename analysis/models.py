import uuid

from django.conf import settings
from django.db import models


class AnalysisJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Type(models.TextChoices):
        RISK_ASSESSMENT = "risk_assessment", "Risk assessment"
        PERFORMANCE = "performance", "Performance"
        CORRELATION = "correlation", "Correlation"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="analysis_jobs")
    analysis_type = models.CharField(max_length=32, choices=Type.choices, default=Type.RISK_ASSESSMENT)
    symbols = models.JSONField()
    weights = models.JSONField(null=True, blank=True)
    period = models.CharField(max_length=8, default="1y")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_analysis_type_display()} of {', '.join(self.symbols)} ({self.status})"

    @property
    def duration_ms(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds() * 1000
        return None

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
