"""What the knowledge app publishes: ``document_indexed``, through the transactional outbox."""

from stocktool.outbox import outbox_add, outbox_send_pending

EVENT_DOCUMENT_INDEXED = "document_indexed"


def _about(key: str) -> str:
    return f"document:{key}"


def document_indexed_announce(document) -> None:
    """Record "document indexed" in the transaction that writes the passages; published once it commits."""
    outbox_add(event_type=EVENT_DOCUMENT_INDEXED, about=_about(document.key), subject="Document indexed",
               payload={"key": document.key, "title": document.title, "version_id": document.version_id,
                        "passages": document.passage_count})


def document_indexed_resend(key: str) -> int:
    """Publish what a dead process left unsent about ``key`` (a redelivered S3 event found it indexed)."""
    return outbox_send_pending(about=_about(key))
