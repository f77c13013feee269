"""Deliver app events (from the events queue or the SNS webhook) to the users' open pages."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .events import EVENT_ANALYSIS_FINISHED

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    return f"user-{user_id}"


def notification_dispatch(message: str | dict) -> str:
    """Push an ``analysis_finished`` event to its user's WebSocket group; return what was done."""
    try:
        event = json.loads(message) if isinstance(message, str) else dict(message)
    except ValueError:
        return "ignored: not JSON"
    if event.get("event_type") != EVENT_ANALYSIS_FINISHED or not event.get("user_id"):
        return "ignored"
    layer = get_channel_layer()
    if layer is None:
        return "ignored: no channel layer"
    async_to_sync(layer.group_send)(user_group(event["user_id"]), {
        "type": "notify",
        "payload": {"type": EVENT_ANALYSIS_FINISHED, "analysis_id": event.get("analysis_id"),
                    "status": event.get("status")},
    })
    return "pushed"
