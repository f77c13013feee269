"""What the analysis app pushes to its users' open pages (analysis/consumers.py holds their sockets)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .publish import EVENT_ANALYSIS_FINISHED


def user_group(user_id) -> str:
    """The channel-layer group of one user's open pages."""
    return f"user-{user_id}"


def analysis_finished_event(event: dict) -> dict:
    """The channel-layer event that tells a page an analysis finished (only what the page needs)."""
    payload = {"type": EVENT_ANALYSIS_FINISHED, "analysis_id": event.get("analysis_id"), "status": event.get("status")}
    if isinstance(event.get("event_id"), str):  # (the outbox's id: the page's socket drops a repeat)
        payload["event_id"] = event["event_id"][:64]
    return {"type": "notify", "payload": payload}


def push_send(group: str, event: dict) -> str:
    """Send ``event`` to ``group`` from synchronous code; return what was done."""
    layer = get_channel_layer()
    if layer is None:
        return "ignored: no channel layer"
    async_to_sync(layer.group_send)(group, event)
    return "pushed"
