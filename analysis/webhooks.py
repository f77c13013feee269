"""The SNS HTTP(S) endpoint for real AWS: confirms its subscription, verifies every message, then acts."""

import json
import logging
import urllib.request

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stocktool.aws import AWSError, get_sns_service
from stocktool.aws.sns_verify import SignatureInvalid, is_sns_url, verify

from .notifications import notification_dispatch

logger = logging.getLogger(__name__)
MAX_BODY = 256 * 1024  # SNS messages are at most 256 KB


def _our_topics() -> set[str]:
    try:
        return {get_sns_service().topic_arn}
    except AWSError:
        return set()


@csrf_exempt  # SNS cannot send a CSRF token; the signature check below is what authenticates the caller
@require_POST
def sns_webhook_view(request):
    if not settings.SNS_WEBHOOK_ENABLED:
        return JsonResponse({"error": "the SNS webhook is disabled"}, status=404)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "message too large"}, status=413)
    try:
        message = json.loads(request.body)
        verify(message, topic_arns=_our_topics())
    except (ValueError, SignatureInvalid) as exc:
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
        outcome = notification_dispatch(message.get("Message", ""))
        return JsonResponse({"status": "accepted", "outcome": outcome})
    return JsonResponse({"status": "ignored"})
