"""Reads: a user's conversations and their messages. Another user's conversation, or a malformed id, is None."""

import json
import re

from .store import conversation_store

CONVERSATION_ID = re.compile(r"[0-9a-f]{32}")
MESSAGE_ID = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[0-9a-f]{1,32}")  # a time, a tie-breaker
PACKED = "packed"


def message_pack(details: dict) -> dict:
    """An assistant message's tool calls, sources, cards and context as one JSON string in its metadata.

    One string attribute instead of nested maps and lists: the header's window repeats the last 50-100 messages,
    and DynamoDB (the emulator most of all) parses every nested attribute of it on each read and append.
    """
    return {PACKED: json.dumps(details, separators=(",", ":"), default=str)}


def message_unpack(message: dict) -> dict:
    """A stored message with its packed details restored: tool_calls, sources, and metadata (cards, context)."""
    metadata = message.get("metadata") or {}
    if PACKED not in metadata:
        return message
    details = json.loads(metadata[PACKED])
    return {**message, "tool_calls": details.pop("tool_calls", []), "sources": details.pop("sources", []),
            "metadata": details}


def conversation_id_valid(value) -> bool:
    return isinstance(value, str) and CONVERSATION_ID.fullmatch(value) is not None


def message_id_valid(value) -> bool:
    return isinstance(value, str) and MESSAGE_ID.fullmatch(value) is not None


def conversation_get_for_user(*, user, conversation_id, store=None) -> dict | None:
    """The conversation's header if it exists, has not expired, and belongs to ``user``; else None."""
    if not conversation_id_valid(conversation_id) or not getattr(user, "is_authenticated", False):
        return None
    header = (store or conversation_store()).get_header(conversation_id)
    if header is None or header.get("user_id") != str(user.pk):
        return None
    return header


def conversation_messages_for_user(*, user, conversation_id, limit: int = 50, store=None):
    """(header, the last ``limit`` messages oldest first) of the user's conversation, or None.

    With the DynamoDB store both come from one GetItem of the header (its window of recent messages).
    """
    store = store or conversation_store()
    header = conversation_get_for_user(user=user, conversation_id=conversation_id, store=store)
    if header is None:
        return None
    return header, [message_unpack(m) for m in store.get_recent(conversation_id, limit)]


def conversation_page_for_user(*, user, conversation_id, limit: int = 50, before: str | None = None,
                               store=None):
    """(header, up to ``limit`` messages oldest first, the ``before`` of the page before them), or None.

    Without ``before``, the latest messages: one GetItem of the header (its window), whose message count tells
    whether there are earlier ones. With ``before`` (a message id), the messages before it: one query.
    """
    if before is not None and not message_id_valid(before):
        raise ValueError("not a message id")
    store = store or conversation_store()
    header = conversation_get_for_user(user=user, conversation_id=conversation_id, store=store)
    if header is None:
        return None
    if before is None:
        messages = store.get_recent(conversation_id, limit)
        more = int(header.get("message_count") or 0) > len(messages)
    else:
        messages = store.get_earlier(conversation_id, before=before, limit=limit + 1)
        more, messages = len(messages) > limit, messages[-limit:]
    earlier = messages[0]["id"] if more and messages else None
    return header, [message_unpack(m) for m in messages], earlier


def conversation_list_for_user(*, user, limit: int = 50, cursor: str | None = None) -> tuple[list[dict], str | None]:
    """The user's conversations, most recently active first, and the next page's cursor."""
    return conversation_store().list_conversations(str(user.pk), limit=limit, cursor=cursor)
