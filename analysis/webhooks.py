"""The SNS HTTP(S) endpoint for real AWS: confirms its subscription, verifies every message, then acts."""

import json
import logging
import urllib.request
from datetime import datetime

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stocktool.aws import AWSError, get_sns_service
from stocktool.aws.sns_verify import SignatureInvalid, is_sns_url, verify

from .handlers import analysis_finished_dispatch

logger = logging.getLogger(__name__)
MAX_BODY = 256 * 1024  # SNS messages are at most 256 KB
SNS_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
STRING_FIELDS = ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                 "Signature", "SigningCertURL", "SubscribeURL", "Token", "UnsubscribeURL")


def _our_topics() -> set[str]:
    try:
        return {get_sns_service().topic_arn}
    except AWSError:
        return set()


def shape_error(message) -> str | None:
    """What makes ``message`` no SNS message at all (400, before any signature check), or None.

    Missing fields are left to the signature check (403), which names them.
    """
    if not isinstance(message, dict):
        return "not a JSON object"
    if message.get("Type") not in SNS_TYPES:
        return f"Type must be one of {', '.join(SNS_TYPES)}"
    for name in STRING_FIELDS:
        if name in message and not isinstance(message[name], str):
            return f"{name} must be a string"
    if "Timestamp" not in message:
        return None
    try:
        sent = datetime.fromisoformat(message["Timestamp"].replace("Z", "+00:00"))
    except ValueError:
        return "Timestamp is not an ISO 8601 time"
    return "Timestamp has no time zone" if sent.tzinfo is None else None  # (it cannot be compared with now)


@csrf_exempt  # SNS cannot send a CSRF token; the signature check below is what authenticates the caller
@require_POST
def sns_webhook_view(request):
    if not settings.SNS_WEBHOOK_ENABLED:
        return JsonResponse({"error": "the SNS webhook is disabled"}, status=404)
    try:  # the header first: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is never read
        too_large = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY or len(request.body) > MAX_BODY
    except ValueError:
        return JsonResponse({"error": "malformed: bad Content-Length"}, status=400)
    if too_large:
        return JsonResponse({"error": "message too large"}, status=413)
    try:
        message = json.loads(request.body)
    except (ValueError, RecursionError) as exc:
        logger.warning("refused an SNS message: not JSON (%s)", type(exc).__name__)
        return JsonResponse({"error": "malformed: the body is not JSON"}, status=400)
    problem = shape_error(message)
    if problem:
        logger.warning("refused an SNS message: %s", problem)
        return JsonResponse({"error": f"malformed: {problem}"}, status=400)
    try:
        verify(message, topic_arns=_our_topics())
    except SignatureInvalid as exc:
        logger.warning("refused an SNS message: %s", exc)
        return JsonResponse({"error": f"refused: {exc}"}, status=403)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        if not is_sns_url(message.get("SubscribeURL", "")):
            return JsonResponse({"error": "refused: SubscribeURL is not an SNS URL"}, status=403)
        try:
            with urllib.request.urlopen(message["SubscribeURL"], timeout=5):  # noqa: S310 (SNS host checked)
                pass
        except OSError as exc:
            logger.warning("could not confirm the SNS subscription: %s", exc)
            return JsonResponse({"error": f"could not confirm the subscription: {exc}"}, status=502)
        return JsonResponse({"status": "subscribed"})
    if kind == "Notification":
        outcome = analysis_finished_dispatch(message.get("Message", ""))
        return JsonResponse({"status": "accepted", "outcome": outcome})
    return JsonResponse({"status": "ignored"})
