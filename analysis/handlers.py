"""The events the analysis app handles: "analysis finished", from the events queue (registered with
stocktool.events in AnalysisConfig.ready) or from the SNS webhook, becomes a push to its user's open pages."""

import json
import re

from stocktool.events import Push

from .publish import EVENT_ANALYSIS_FINISHED
from .push import analysis_finished_event, push_send, user_group

USER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def analysis_finished_handle(message: str | dict) -> Push | None:
    """The push an "analysis finished" message asks for; None for any other message."""
    try:
        event = json.loads(message) if isinstance(message, str) else message
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or event.get("event_type") != EVENT_ANALYSIS_FINISHED:
        return None
    # The channel layer refuses other group names (TypeError), which would fail the message on every delivery.
    if not isinstance(event.get("user_id"), str | int) or not USER_ID.fullmatch(str(event["user_id"])):
        return None
    return Push(user_group(event["user_id"]), analysis_finished_event(event))


def analysis_finished_dispatch(message: str | dict) -> str:
    """Handle a message from synchronous code (the SNS webhook); return what was done."""
    push = analysis_finished_handle(message)
    return "ignored" if push is None else push_send(push.group, push.event)
