import logging
import uuid

from celery import shared_task
from django.conf import settings

from . import services
from .models import AnalysisJob
from .refresh import stock_refresh

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=services.TRANSIENT_ERRORS,
    retry_backoff=settings.ANALYSIS_RETRY_BACKOFF,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=settings.ANALYSIS_MAX_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
)
def analysis_run_task(self, job_id: str) -> None:
    """Run one analysis. Transient failures retry with exponential back-off and jitter; the last one
    fails the job and leaves the message unacknowledged, so SQS moves it to the dead-letter queue once
    its receive limit is reached."""
    # No such job, now or on any retry (deleted, or a message analysis_request did not send): the message is
    # acknowledged with one line rather than redelivered until it reaches the dead-letter queue.
    try:
        job_id = str(uuid.UUID(str(job_id)))
    except ValueError:
        logger.warning("analysis_run_task: %r is not an analysis id; message dropped", str(job_id)[:100])
        return
    try:
        services.analysis_run(job_id=job_id)
    except AnalysisJob.DoesNotExist:
        logger.warning("analysis_run_task: no analysis %s; message dropped", job_id)
    except services.TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            services.analysis_fail(job_id=job_id, error=f"gave up after {self.request.retries + 1} attempts: {exc}")
        raise


@shared_task(acks_late=True, ignore_result=True)
def stock_refresh_task(symbols: list[str] | None = None, period: str | None = None) -> dict:
    """Refresh the watchlist in the stock-data cache (Celery beat at market close, where Lambda is not used)."""
    return stock_refresh(symbols=symbols, period=period)
