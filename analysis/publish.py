"""What the analysis app publishes: ``analysis_finished``, through the transactional outbox."""

from stocktool.outbox import outbox_add, outbox_send_pending

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


def _about(job_id) -> str:
    return f"analysis:{job_id}"


def analysis_finished_announce(job) -> None:
    """Record "Analysis Ready" (or "Analysis Failed") in the transaction that saves the outcome; it is
    published to SNS once that commits, or later if the process dies first (stocktool/outbox.py)."""
    payload = analysis_event(job)
    outbox_add(event_type=EVENT_ANALYSIS_FINISHED, about=_about(job.id), payload=payload,
               subject="Analysis Ready" if job.status == "succeeded" else "Analysis Failed",
               attributes={"user_id": payload["user_id"], "analysis_id": payload["analysis_id"]})


def analysis_finished_resend(job_id) -> int:
    """Publish what a dead process left unsent about this job (its redelivered message found it done)."""
    return outbox_send_pending(about=_about(job_id))
