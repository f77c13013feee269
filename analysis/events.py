"""Turn analysis signals into SNS notifications (sent after the transaction commits)."""

import logging

from django.conf import settings
from django.dispatch import receiver

from stocktool.aws import AWSError, get_sns_service

from .signals import analysis_finished

logger = logging.getLogger(__name__)

EVENT_ANALYSIS_FINISHED = "analysis_finished"


def analysis_event(job) -> dict:
    return {
        "analysis_id": str(job.id),
        "user_id": str(job.user_id) if job.user_id else None,
        "status": job.status,
        "analysis_type": job.analysis_type,
        "symbols": job.symbols,
        "error": job.error or None,
    }


@receiver(analysis_finished, dispatch_uid="analysis-finished-to-sns")
def publish_analysis_finished(sender, job, **kwargs) -> None:
    payload = analysis_event(job)
    if not settings.SNS_ENABLED:
        logger.info("notification %s: %s", EVENT_ANALYSIS_FINISHED, payload)
        return
    try:
        get_sns_service().publish(
            EVENT_ANALYSIS_FINISHED, payload, subject="Analysis Ready" if job.status == "succeeded" else "Analysis Failed",
            attributes={"user_id": payload["user_id"], "analysis_id": payload["analysis_id"]},
        )
    except AWSError:
        # The result is saved; a lost notification must not fail the job. The page polls as a fallback.
        logger.exception("could not publish %s for analysis %s", EVENT_ANALYSIS_FINISHED, job.id)
