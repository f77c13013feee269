"""The conversation store on DynamoDB: one item per message and a header per conversation, with the latest
messages' window, an optimistic version check on every append, and expiry checked on every read (DynamoDB's
TTL sweep runs late: up to 48 h on AWS, never on moto)."""

import json
import logging
import random
import time
import uuid
import zlib
from datetime import UTC, datetime

from stocktool.aws.dynamodb import (
    MAX_ITEM_BYTES,
    TTL_ATTRIBUTE,
    ItemTooLarge,
    batch_get,
    batch_write,
    deserialize,
    item_size,
    serialize,
    serialize_value,
    to_dynamo,
)
from stocktool.aws.errors import AWSError, ConditionFailed, translated
from stocktool.aws.session import client

from .orphans import orphan_sweeper

logger = logging.getLogger(__name__)

HEADER_SK = "#meta"  # sorts before every timestamp, so a descending query meets it last
NO_HINT = object()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ConversationStore:
    """Conversation history: one item per message, plus a header item per conversation.

    - A message item (range key ``<ISO time>#<random>``) never collides, so concurrent writers never lose
      a message; the message items are the history of record.
    - The header (range key ``#meta``) carries the owner, title, expiry, message count and a window of the
      latest messages as one compressed JSON binary, so the hot read ("the last 50") is one GetItem of one
      small attribute (a DynamoDB list of maps costs moto about 25 ms to return, a binary 4 ms).
    - An append writes the message item, then rewrites the header under an optimistic version check
      (retried with jitter on a conflict); if the header cannot be written the message is deleted again,
      so nothing is left half-written.
    - A conversation expires ``ttl_hours`` after its last activity: the header's expiry decides, and
      reads check it, because DynamoDB's TTL sweep is late (never, on moto).
    """

    WINDOW = 50  # messages kept in the header for the hot read
    WINDOW_ENTRY_BYTES = 2048  # larger messages appear in the window as a stub with their key
    CONFLICT_RETRIES = 40

    def __init__(self, table: str):
        self.table = table

    # --- writes ---------------------------------------------------------------------------------------
    def put_conversation(self, conversation_id: str, messages: list[dict], user_id: str | None = None,
                         ttl_hours: int = 24, title: str | None = None, metadata: dict | None = None) -> list[str]:
        """Append ``messages`` to the conversation and refresh its expiry; return the messages' keys.

        Several messages (a question and its answer) cost one BatchWriteItem and one header update."""
        items = [self._message_item(conversation_id, m, ttl_hours, i) for i, m in enumerate(messages)]
        if not items:
            return []
        ddb = client("dynamodb")
        with translated(f"write conversation {conversation_id}"):
            if len(items) == 1:
                ddb.put_item(TableName=self.table, Item=items[0])
            else:
                batch_write(self.table, [{"PutRequest": {"Item": item}} for item in items])
        try:
            self._update_header(conversation_id, [self._window_entry(i) for i in items], user_id, ttl_hours,
                                title, metadata)
        except Exception:
            # Nothing half-written: take the messages back out if the header could not be updated. When
            # DynamoDB is down that fails too; the sweeper retries in the background until it answers.
            deletes = [{"DeleteRequest": {"Key": {"conversation_id": i["conversation_id"],
                                                  "timestamp": i["timestamp"]}}} for i in items]
            try:
                batch_write(self.table, deletes)
            except AWSError as exc:
                orphan_sweeper.add(self.table, deletes, reason=str(exc))
            raise
        return [item["timestamp"]["S"] for item in items]

    def _header_hint(self, conversation_id: str):
        """The raw header this instance already holds (a subclass caching reads), or NO_HINT to read it."""
        return NO_HINT

    def append_message(self, conversation_id: str, message: dict, **kwargs) -> str:
        return self.put_conversation(conversation_id, [message], **kwargs)[0]

    def _message_item(self, conversation_id: str, message: dict, ttl_hours: int, position: int = 0) -> dict:
        if message.get("role") not in ("user", "assistant", "system", "tool"):
            raise ValueError(f"message role must be user, assistant, system or tool, not {message.get('role')!r}")
        if not isinstance(message.get("content", ""), str):
            raise ValueError("message content must be a string")
        # The position keeps a question before its answer when both fall in one microsecond.
        sort_key = f"{_now_iso()}#{position:02d}{uuid.uuid4().hex[:8]}"
        item = {
            "conversation_id": conversation_id,
            "timestamp": sort_key,
            "role": message["role"],
            "content": message.get("content", ""),
            "created_at": message.get("created_at") or sort_key[:27],
            TTL_ATTRIBUTE: int(time.time() + ttl_hours * 3600),
        }
        for extra in ("tool_calls", "tokens", "sources", "metadata"):
            if message.get(extra) is not None:
                item[extra] = to_dynamo(message[extra])
        size = item_size(item)
        if size > MAX_ITEM_BYTES:
            raise ItemTooLarge(
                f"message of {size:,} bytes exceeds DynamoDB's 400 KB item limit; nothing was written"
            )
        return serialize(item)

    def _window_entry(self, item: dict) -> dict:
        entry = {k: v for k, v in deserialize(item).items() if k not in ("conversation_id", TTL_ATTRIBUTE)}
        if len(json.dumps(entry, default=str)) > self.WINDOW_ENTRY_BYTES:
            entry = {k: entry[k] for k in ("timestamp", "role", "created_at")} | {"truncated": True}
        return entry

    def _update_header(self, conversation_id, entries, user_id, ttl_hours, title, metadata) -> None:
        # Not TransactWriteItems: moto deep-copies the whole table on each transaction (slow, and racy
        # under concurrent writers). Optimistic concurrency on a version number instead.
        key = {"conversation_id": {"S": conversation_id}, "timestamp": {"S": HEADER_SK}}
        for attempt in range(self.CONFLICT_RETRIES):
            hint = self._header_hint(conversation_id) if attempt == 0 else NO_HINT
            header = hint if hint is not NO_HINT else self._raw_header(
                conversation_id, include_expired=True, attributes="#w, #v, #e, #r")
            expired = header is not None and int(header.get(TTL_ATTRIBUTE, {}).get("N", "0")) <= time.time()
            window = [] if header is None or expired else _unpack_window(header)
            window = sorted(window + entries, key=lambda e: e["timestamp"])[-self.WINDOW:]
            version = int(header["version"]["N"]) if header and "version" in header else None
            now = _now_iso()
            names = {"#w": "window", "#v": "version", "#u": "updated_at", "#e": TTL_ATTRIBUTE,
                     "#n": "message_count", "#c": "created_at"}
            values = {":w": {"B": _pack_window(window)}, ":v": {"N": str((version or 0) + 1)}, ":u": {"S": now},
                      ":e": {"N": str(int(time.time() + ttl_hours * 3600))}, ":one": {"N": str(len(entries))},
                      ":c": {"S": now}}
            sets = ["#w = :w", "#v = :v", "#u = :u", "#e = :e", "#c = if_not_exists(#c, :c)"]
            # Message items carry their own expiry for DynamoDB's sweep; move it along with the conversation's
            # (at most every half TTL, so a busy conversation costs one extra pass a half-day, not per message).
            refreshed = int(header.get("ttl_refreshed_at", {}).get("N", "0")) if header else 0
            refresh_due = header is not None and not expired and time.time() - refreshed > ttl_hours * 1800
            if refresh_due or header is None or expired:
                names["#r"], values[":r"] = "ttl_refreshed_at", {"N": str(int(time.time()))}
                sets.append("#r = :r")
            if user_id is not None:
                names["#o"], values[":o"] = "user_id", {"S": str(user_id)}
                sets.append("#o = :o")
            if title:
                names["#t"], values[":t"] = "title", {"S": title[:200]}
                sets.append("#t = if_not_exists(#t, :t)")
            if metadata:
                names["#m"], values[":m"] = "metadata", serialize_value(metadata)
                sets.append("#m = :m")
            if version is None:
                condition = "attribute_not_exists(#v)"
            else:
                condition, values[":old"] = "#v = :old", {"N": str(version)}
            try:
                with translated(f"write conversation {conversation_id}"):
                    client("dynamodb").update_item(
                        TableName=self.table, Key=key, UpdateExpression="SET " + ", ".join(sets) + " ADD #n :one",
                        ConditionExpression=condition, ExpressionAttributeNames=names,
                        ExpressionAttributeValues=values,
                    )
            except ConditionFailed:
                time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))  # another writer won: retry
            else:
                if refresh_due:  # the turn is committed: a failed refresh is logged, never undoes it
                    try:
                        self._refresh_message_ttl(conversation_id, int(values[":e"]["N"]))
                    except AWSError as exc:
                        logger.warning("expiry of %s's messages not refreshed: %s", conversation_id, exc)
                return
        raise AWSError(f"write conversation {conversation_id}: gave up after {self.CONFLICT_RETRIES} conflicts")

    def _refresh_message_ttl(self, conversation_id: str, expires_at: int) -> None:
        """Give every message item the conversation's new expiry (re-put in batches of 25)."""
        kwargs = {"TableName": self.table, "KeyConditionExpression": "conversation_id = :c AND #ts > :h",
                  "ExpressionAttributeNames": {"#ts": "timestamp"},
                  "ExpressionAttributeValues": {":c": {"S": conversation_id}, ":h": {"S": HEADER_SK}}}
        puts = []
        with translated(f"refresh the expiry of {conversation_id}"):
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                for item in page.get("Items", []):
                    item[TTL_ATTRIBUTE] = {"N": str(expires_at)}
                    puts.append({"PutRequest": {"Item": item}})
        batch_write(self.table, puts)

    def delete_conversation(self, conversation_id: str) -> int:
        """Delete the conversation and all its messages; return how many items were removed."""
        keys = [
            {"conversation_id": {"S": conversation_id}, "timestamp": {"S": sk}}
            for sk in self._all_sort_keys(conversation_id)
        ]
        batch_write(self.table, [{"DeleteRequest": {"Key": k}} for k in keys])
        return len(keys)

    # --- reads ----------------------------------------------------------------------------------------
    def _raw_header(self, conversation_id: str, include_expired: bool = False,
                    attributes: str | None = None) -> dict | None:
        kwargs = {}
        if attributes:
            kwargs = {"ProjectionExpression": attributes,
                      "ExpressionAttributeNames": {"#w": "window", "#v": "version", "#e": TTL_ATTRIBUTE,
                                                   "#n": "message_count", "#r": "ttl_refreshed_at"}}
            kwargs["ExpressionAttributeNames"] = {k: v for k, v in kwargs["ExpressionAttributeNames"].items()
                                                  if k in attributes}
        with translated(f"read conversation {conversation_id}"):
            resp = client("dynamodb").get_item(
                TableName=self.table,
                Key={"conversation_id": {"S": conversation_id}, "timestamp": {"S": HEADER_SK}},
                ConsistentRead=True, **kwargs,
            )
        item = resp.get("Item")
        if not item or (not include_expired and int(item.get(TTL_ATTRIBUTE, {}).get("N", "0")) <= time.time()):
            return None
        return item

    def get_header(self, conversation_id: str) -> dict | None:
        """Return the conversation's title, owner, counts and times, or None if absent or expired."""
        raw = self._raw_header(conversation_id)
        if raw is None:
            return None
        header = deserialize({k: v for k, v in raw.items() if k not in ("window", "version", "ttl_refreshed_at")})
        return _public_header(header)

    def get_recent(self, conversation_id: str, limit: int = WINDOW) -> list[dict]:
        """Return the last ``limit`` messages (oldest first) with one GetItem; [] if absent or expired."""
        if limit > self.WINDOW:
            return self.get_conversation(conversation_id, limit=limit)
        raw = self._raw_header(conversation_id, attributes="#w, #e, #n")
        if raw is None:
            return []
        entries = _unpack_window(raw)[-limit:]
        stubs = [e["timestamp"] for e in entries if e.get("truncated")]
        if stubs:
            full = {m["timestamp"]: m for m in self._get_messages(conversation_id, stubs)}
            entries = [full.get(e["timestamp"], e) if e.get("truncated") else e for e in entries]
        if int(raw.get("message_count", {}).get("N", "0")) > len(entries) and len(entries) < limit:
            return self.get_conversation(conversation_id, limit=limit)  # the window was lost: use the history
        return [_public_message(e) for e in entries]

    def get_conversation(self, conversation_id: str, limit: int | None = None) -> list[dict]:
        """Return the conversation's messages, oldest first (the last ``limit`` when given); [] if expired."""
        if self._raw_header(conversation_id) is None:
            return []
        items, cursor = [], None
        while True:
            page, cursor = self.get_messages_page(
                conversation_id, limit=(limit - len(items)) if limit else 500, cursor=cursor, newest_first=bool(limit)
            )
            items += page
            if cursor is None or (limit is not None and len(items) >= limit):
                break
        if limit is not None:
            items.reverse()
        return items

    def get_messages_page(self, conversation_id: str, *, limit: int = 50, cursor: str | None = None,
                          newest_first: bool = True) -> tuple[list[dict], str | None]:
        """Return one page of messages and the cursor of the next page (None at the end)."""
        kwargs = {
            "TableName": self.table,
            "KeyConditionExpression": "conversation_id = :c AND #ts > :h",
            "FilterExpression": "#e > :now",
            "ExpressionAttributeNames": {"#ts": "timestamp", "#e": TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {
                ":c": {"S": conversation_id}, ":h": {"S": HEADER_SK}, ":now": {"N": str(int(time.time()))},
            },
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
            "Limit": max(1, min(limit, 1000)),
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"conversation_id": {"S": conversation_id}, "timestamp": {"S": cursor}}
        with translated(f"read conversation {conversation_id}"):
            resp = client("dynamodb").query(**kwargs)
        messages = [_public_message(deserialize(i)) for i in resp.get("Items", [])]
        last = resp.get("LastEvaluatedKey")
        return messages, (last["timestamp"]["S"] if last else None)

    def list_conversations(self, user_id: str, *, limit: int = 20, cursor: str | None = None) -> tuple[list[dict], str | None]:
        """Return a user's conversations, most recently active first, and the next page's cursor."""
        kwargs = {
            "TableName": self.table,
            "IndexName": "user-index",
            "KeyConditionExpression": "user_id = :u",
            "FilterExpression": "#e > :now",
            "ExpressionAttributeNames": {"#e": TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {":u": {"S": str(user_id)}, ":now": {"N": str(int(time.time()))}},
            "ScanIndexForward": False,
            "Limit": max(1, min(limit, 100)),
            "ProjectionExpression": "conversation_id, user_id, updated_at, created_at, title, message_count, "
                                    "metadata, #e",
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = _start_key(cursor, user_id=str(user_id))
        with translated(f"list conversations of {user_id}"):
            resp = client("dynamodb").query(**kwargs)
        last = resp.get("LastEvaluatedKey")
        return [_public_header(deserialize(i)) for i in resp.get("Items", [])], (json.dumps(last) if last else None)

    def _get_messages(self, conversation_id: str, sort_keys: list[str]) -> list[dict]:
        keys = [{"conversation_id": {"S": conversation_id}, "timestamp": {"S": sk}} for sk in sort_keys]
        return [deserialize(i) for i in batch_get(self.table, keys)]

    def _all_sort_keys(self, conversation_id: str) -> list[str]:
        kwargs = {
            "TableName": self.table,
            "KeyConditionExpression": "conversation_id = :c",
            "ExpressionAttributeValues": {":c": {"S": conversation_id}},
            "ProjectionExpression": "#ts",
            "ExpressionAttributeNames": {"#ts": "timestamp"},
        }
        out = []
        with translated(f"list the items of {conversation_id}"):
            for page in client("dynamodb").get_paginator("query").paginate(**kwargs):
                out += [i["timestamp"]["S"] for i in page.get("Items", [])]
        return out

    def ping(self, purpose: str = "probe") -> None:
        client("dynamodb", purpose=purpose).describe_table(TableName=self.table)


_CURSOR_KEYS = {"conversation_id", "timestamp", "user_id", "updated_at"}  # the table's and user-index's keys


def _start_key(cursor: str, *, user_id: str) -> dict:
    """The ExclusiveStartKey a list cursor stands for; ValueError for anything list_conversations did not give
    this user (it would reach DynamoDB as a malformed key, or start inside another user's partition)."""
    try:
        key = json.loads(cursor)
    except (ValueError, RecursionError):
        raise ValueError("not a cursor") from None
    if (not isinstance(key, dict) or set(key) != _CURSOR_KEYS or key["user_id"] != {"S": user_id}
            or not all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) and v["S"]
                       for v in key.values())):
        raise ValueError("not a cursor")
    return key


def _pack_window(entries: list[dict]) -> bytes:
    return zlib.compress(json.dumps(entries, separators=(",", ":"), default=str).encode(), 6)


def _unpack_window(raw: dict) -> list[dict]:
    blob = raw.get("window", {}).get("B")
    return json.loads(zlib.decompress(blob)) if blob else []


def _public_message(item: dict) -> dict:
    out = {k: v for k, v in item.items() if k not in ("conversation_id", TTL_ATTRIBUTE, "truncated")}
    out["id"] = out.pop("timestamp")
    return out


def _public_header(item: dict) -> dict:
    out = {k: v for k, v in item.items() if k not in ("timestamp", "window")}
    if TTL_ATTRIBUTE in out:
        out[TTL_ATTRIBUTE] = int(out[TTL_ATTRIBUTE])
    return out
