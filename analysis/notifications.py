"""Deliver app events (from the events queue or the SNS webhook) to the users' open pages."""

import json
import re

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .events import EVENT_ANALYSIS_FINISHED

USER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def user_group(user_id) -> str:
    return f"user-{user_id}"


def notification_for(message: str | dict) -> tuple[str, dict] | None:
    """Return (group, channel-layer event) for an app event that users' pages should hear about."""
    try:
        event = json.loads(message) if isinstance(message, str) else message
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or event.get("event_type") != EVENT_ANALYSIS_FINISHED:
        return None
    # The channel layer refuses other group names (TypeError), which would fail the message on every delivery.
    if not isinstance(event.get("user_id"), str | int) or not USER_ID.fullmatch(str(event["user_id"])):
        return None
    payload = {"type": EVENT_ANALYSIS_FINISHED, "analysis_id": event.get("analysis_id"), "status": event.get("status")}
    if isinstance(event.get("event_id"), str):  # (the outbox's id: the page's socket drops a repeat)
        payload["event_id"] = event["event_id"][:64]
    return user_group(event["user_id"]), {"type": "notify", "payload": payload}


def notification_dispatch(message: str | dict) -> str:
    """Push an app event to its user's WebSocket group (from synchronous code); return what was done."""
    target = notification_for(message)
    if target is None:
        return "ignored"
    layer = get_channel_layer()
    if layer is None:
        return "ignored: no channel layer"
    async_to_sync(layer.group_send)(*target)
    return "pushed"
