"""Stored messages as the templates show them (the page, and the WebSocket's final render)."""

from django.template.loader import render_to_string


def message_view(message: dict) -> dict:
    metadata = message.get("metadata") or {}
    sources = message.get("sources") or []
    return {
        "id": message.get("id"), "role": message.get("role"), "content": message.get("content") or "",
        "created_at": message.get("created_at"), "tool_calls": message.get("tool_calls") or [],
        "sources": sources, "cards": metadata.get("cards") or [], "model": metadata.get("model"),
        # Citations are the point of a knowledge answer: its sources show without a click.
        "cites_knowledge": any(isinstance(s, dict) and s.get("kind") == "knowledge" for s in sources),
    }


def message_html(message: dict) -> str:
    return render_to_string("conversations/_message.html", {"m": message_view(message)})


def done_message(event: dict) -> dict:
    """The stored form of a turn's final event, for rendering it like the page does."""
    return {"id": event.get("message_id"), "role": "assistant", "content": event.get("answer"),
            "tool_calls": event.get("tool_calls"), "sources": event.get("sources"),
            "metadata": {"cards": event.get("cards"), "model": event.get("model")}}
