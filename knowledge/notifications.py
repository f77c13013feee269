"""Publish ``document_indexed`` to the notifications topic once the index change has committed."""

import logging

from django.conf import settings
from django.dispatch import receiver

from stocktool.aws import AWSError, get_sns_service

from .signals import document_indexed

logger = logging.getLogger(__name__)

EVENT_DOCUMENT_INDEXED = "document_indexed"


@receiver(document_indexed, dispatch_uid="document-indexed-to-sns")
def publish_document_indexed(sender, document, **kwargs) -> None:
    payload = {"key": document.key, "title": document.title, "version_id": document.version_id,
               "passages": document.passage_count}
    if not settings.SNS_ENABLED:
        logger.info("notification %s: %s", EVENT_DOCUMENT_INDEXED, payload)
        return
    try:
        get_sns_service().publish(EVENT_DOCUMENT_INDEXED, payload, subject="Document indexed")
    except AWSError:  # the index is updated either way; a lost notification is logged, not raised
        logger.exception("could not publish %s for %s", EVENT_DOCUMENT_INDEXED, document.key)
