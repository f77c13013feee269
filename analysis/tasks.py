from celery import shared_task

from . import services


@shared_task(
    bind=True,
    autoretry_for=services.TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,
    acks_late=True,
    reject_on_worker_lost=True,
)
def analysis_run_task(self, job_id: str) -> None:
    """Run one analysis. Transient failures retry with back-off; the last one fails the job and leaves
    the message unacknowledged, so SQS moves it to the dead-letter queue after its receive limit."""
    try:
        services.analysis_run(job_id=job_id)
    except services.AnalysisBusy as exc:
        raise self.retry(exc=exc, countdown=30, max_retries=None) from None
    except services.TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            services.analysis_fail(job_id=job_id, error=f"gave up after {self.request.retries + 1} attempts: {exc}")
        raise
