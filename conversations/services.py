"""Writes: a chat turn (validate, read the context, run the provider, store both messages), and deletion.

Nothing is stored until the answer is complete: bad input, another user's conversation, or a provider failure
leave the conversation exactly as it was.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from stocktool.aws import AWSError

from .assistant.providers import Provider, ProviderError, Turn, provider_get
from .selectors import conversation_get_for_user, conversation_messages_for_user, message_pack
from .store import conversation_store

logger = logging.getLogger(__name__)
TITLE_CHARS = 80


class ChatInputError(ValueError):
    """The message cannot be sent as it is (empty, too long, not text)."""


class ConversationNotFound(LookupError):
    """No such conversation for this user (absent, expired, someone else's, or a malformed id)."""


def max_message_chars() -> int:
    return settings.CHAT_MAX_MESSAGE_CHARS


def message_validate(message) -> str:
    """The message, trimmed, or ChatInputError with a sentence the user can act on."""
    if not isinstance(message, str):
        raise ChatInputError("The message must be text.")
    text = "".join(ch for ch in message if ch in "\n\t" or ch.isprintable()).strip()
    if not text:
        raise ChatInputError("The message is empty: type a question first.")
    limit = max_message_chars()
    if len(text) > limit:
        raise ChatInputError(f"The message is {len(text):,} characters long; the limit is {limit:,}. "
                             "Shorten it and send it again.")
    return text


@dataclass
class PreparedTurn:
    user: Any
    conversation_id: str
    is_new: bool
    turn: Turn
    provider: Provider
    store: Any
    header: dict = field(default_factory=dict)


def chat_prepare(*, user, message, conversation_id: str | None = None, provider: Provider | None = None) -> PreparedTurn:
    """Validate the message and the conversation (one read of the store for an existing one); write nothing."""
    text = message_validate(message)
    provider = provider or provider_get()
    store = conversation_store()
    if conversation_id:
        found = conversation_messages_for_user(user=user, conversation_id=conversation_id,
                                               limit=provider.history_limit, store=store)
        if found is None:
            raise ConversationNotFound("No such conversation.")
        header, history = found
        return PreparedTurn(user, conversation_id, False, Turn(text, history, user), provider, store, header)
    return PreparedTurn(user, uuid.uuid4().hex, True, Turn(text, [], user), provider, store)


def chat_run(prepared: PreparedTurn) -> Iterator[dict]:
    """Run the turn: yield the provider's events as they come, then store both messages and yield "done".

    A failure yields one "error" event and stores nothing.
    """
    start = {"type": "start", "conversation_id": prepared.conversation_id, "new": prepared.is_new}
    if prepared.is_new:
        start["title"] = conversation_title(prepared.turn.message)
    yield start
    final = None
    try:
        for event in prepared.provider.run(prepared.turn):
            if event["type"] == "done":
                final = event
            else:
                yield event
    except ProviderError as exc:
        yield {"type": "error", "code": "provider", "error": f"The assistant could not answer: {exc}"}
        return
    if final is None:
        yield {"type": "error", "code": "provider", "error": "The assistant could not answer: no reply."}
        return
    try:
        keys = _store_turn(prepared, final)
    except (AWSError, ValueError) as exc:
        logger.warning("could not store turn of %s: %s", prepared.conversation_id, exc)
        yield {"type": "error", "code": "storage", "error": "The answer could not be saved, so it is not shown; "
               "please try again in a moment."}
        return
    yield {**final, "conversation_id": prepared.conversation_id, "message_id": keys[-1], "user_message_id": keys[0],
           "new": prepared.is_new}


def conversation_title(message: str) -> str:
    """A new conversation's title: its first message on one line, shortened."""
    line = " ".join(message.split())
    return line[:TITLE_CHARS] + ("…" if len(line) > TITLE_CHARS else "")


def _store_turn(prepared: PreparedTurn, final: dict) -> list[str]:
    assistant = {"role": "assistant", "content": final["answer"], "tokens": final.get("tokens"),
                 "metadata": message_pack({
                     **final.get("metadata", {}), "tool_calls": final.get("tool_calls") or [],
                     "sources": final.get("sources") or [], "cards": final.get("cards") or [],
                     "model": final.get("model")})}
    title = conversation_title(prepared.turn.message) if prepared.is_new else None
    return prepared.store.put_conversation(
        prepared.conversation_id, [{"role": "user", "content": prepared.turn.message}, assistant],
        user_id=str(prepared.user.pk), ttl_hours=settings.CHAT_CONVERSATION_TTL_HOURS, title=title,
    )


def chat_send(*, user, message, conversation_id: str | None = None, provider: Provider | None = None) -> dict:
    """One whole turn (the API and the form post): the final event, or an "error" event."""
    prepared = chat_prepare(user=user, message=message, conversation_id=conversation_id, provider=provider)
    last = None
    for event in chat_run(prepared):
        if event["type"] in ("done", "error"):
            last = event
    assert last is not None  # chat_run always ends with "done" or "error"
    return {**last, "conversation_id": prepared.conversation_id}


def conversation_delete(*, user, conversation_id: str) -> None:
    """Delete the user's conversation, or raise ConversationNotFound."""
    store = conversation_store()
    if conversation_get_for_user(user=user, conversation_id=conversation_id, store=store) is None:
        raise ConversationNotFound("No such conversation.")
    store.delete_conversation(conversation_id)
