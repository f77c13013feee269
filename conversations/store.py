"""The conversation store this app uses: DynamoDB's, or an in-process stand-in when DYNAMODB_ENABLED is off."""

import copy
import itertools
import threading
import time
from datetime import UTC, datetime

from django.conf import settings

from .dynamodb_store import NO_HINT, ConversationStore


class ConversationReads(ConversationStore):
    """The DynamoDB store, reading each header once per instance: ``get_header`` then ``get_recent`` (the owner
    check, then the history) cost one GetItem between them. Use one instance per request or turn."""

    def __init__(self, table: str):
        super().__init__(table)
        self._headers: dict[str, dict | None] = {}

    def _raw_header(self, conversation_id: str, include_expired: bool = False, **kwargs):
        if include_expired:  # the writers read the header afresh, as they need
            return super()._raw_header(conversation_id, include_expired=True, **kwargs)
        if conversation_id not in self._headers:  # the whole item: whatever a reader projects is in it
            self._headers[conversation_id] = super()._raw_header(conversation_id)
        return self._headers[conversation_id]

    def _header_hint(self, conversation_id: str):
        # The header read at the start of the turn: the append's version check catches any later writer.
        return self._headers.get(conversation_id, NO_HINT)

    def get_earlier(self, conversation_id: str, *, before: str, limit: int) -> list[dict]:
        """The last ``limit`` messages before the message whose id is ``before``, oldest first."""
        messages, cursor = [], before
        while len(messages) < limit:  # a page can come back short: the query filters out expired items
            page, cursor = self.get_messages_page(conversation_id, limit=limit - len(messages), cursor=cursor)
            messages += page
            if cursor is None:
                break
        return messages[::-1]

    def put_conversation(self, conversation_id: str, messages: list[dict], **kwargs) -> list[str]:
        try:
            return super().put_conversation(conversation_id, messages, **kwargs)
        finally:
            self._headers.pop(conversation_id, None)

    def delete_conversation(self, conversation_id: str) -> int:
        self._headers.pop(conversation_id, None)
        return super().delete_conversation(conversation_id)


class MemoryConversationStore:
    """The same methods as ConversationStore, in this process's memory (no AWS: tests, laptops)."""

    _counter = itertools.count()

    def __init__(self):
        self._conversations: dict[str, dict] = {}
        self._lock = threading.Lock()

    def put_conversation(self, conversation_id: str, messages: list[dict], user_id: str | None = None,
                         ttl_hours: int = 24, title: str | None = None, metadata: dict | None = None) -> list[str]:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock:
            header = self._conversations.setdefault(conversation_id, {
                "conversation_id": conversation_id, "created_at": now, "message_count": 0, "messages": []})
            keys = []
            for message in messages:
                key = f"{now}#{next(self._counter):08d}"
                header["messages"].append({**copy.deepcopy(message), "id": key, "created_at": now})
                keys.append(key)
            header["message_count"] += len(messages)
            header["updated_at"] = now
            header["expires_at"] = int(time.time() + ttl_hours * 3600)
            if user_id is not None:
                header["user_id"] = str(user_id)
            if title and not header.get("title"):
                header["title"] = title[:200]
            if metadata:
                header["metadata"] = copy.deepcopy(metadata)
        return keys

    def append_message(self, conversation_id: str, message: dict, **kwargs) -> str:
        return self.put_conversation(conversation_id, [message], **kwargs)[0]

    def _live(self, conversation_id: str) -> dict | None:
        header = self._conversations.get(conversation_id)
        return header if header and header["expires_at"] > time.time() else None

    def get_header(self, conversation_id: str) -> dict | None:
        with self._lock:
            header = self._live(conversation_id)
            return {k: copy.deepcopy(v) for k, v in header.items() if k != "messages"} if header else None

    def get_recent(self, conversation_id: str, limit: int = 50) -> list[dict]:
        with self._lock:
            header = self._live(conversation_id)
            return copy.deepcopy(header["messages"][-limit:]) if header else []

    def get_earlier(self, conversation_id: str, *, before: str, limit: int) -> list[dict]:
        with self._lock:
            header = self._live(conversation_id)
            earlier = [m for m in header["messages"] if m["id"] < before] if header else []
            return copy.deepcopy(earlier[-limit:])

    def get_conversation(self, conversation_id: str, limit: int | None = None) -> list[dict]:
        return self.get_recent(conversation_id, limit or 10**9)

    def list_conversations(self, user_id: str, *, limit: int = 20, cursor: str | None = None):
        with self._lock:
            mine = sorted((h for h in self._conversations.values()
                           if h.get("user_id") == str(user_id) and h["expires_at"] > time.time()),
                          key=lambda h: h["updated_at"], reverse=True)
        start = int(cursor or 0)
        page = [{k: v for k, v in h.items() if k != "messages"} for h in mine[start:start + limit]]
        return copy.deepcopy(page), (str(start + limit) if start + limit < len(mine) else None)

    def delete_conversation(self, conversation_id: str) -> int:
        with self._lock:
            header = self._conversations.pop(conversation_id, None)
        return 0 if header is None else header["message_count"] + 1


memory_store = MemoryConversationStore()


def conversation_store():
    """A store for one request or turn."""
    if not settings.DYNAMODB_ENABLED:
        return memory_store
    return ConversationReads(settings.DYNAMODB_TABLE_CONVERSATIONS)
