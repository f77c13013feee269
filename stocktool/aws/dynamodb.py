"""DynamoDB: the conversation store and the stock-data cache.

DynamoDB's TTL sweep runs late (up to 48 h on AWS, never on moto), so every read checks ``expires_at``.
"""

import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from .bootstrap import TTL_ATTRIBUTE
from .errors import AWSError, translate
from .session import client

MAX_ITEM_BYTES = 400 * 1024
HEADER_SK = "#meta"  # sorts before every timestamp, so a descending query meets it last

_ser = TypeSerializer()
_de = TypeDeserializer()


class ItemTooLarge(AWSError):
    """The value does not fit in one DynamoDB item (400 KB)."""


def to_dynamo(value):
    """Convert plain data to DynamoDB types: floats become Decimals that round-trip exactly."""
    return json.loads(json.dumps(value, default=str), parse_float=Decimal)


def from_dynamo(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    return value


def serialize(item: dict) -> dict:
    return {k: _ser.serialize(v) for k, v in item.items()}


def deserialize(item: dict) -> dict:
    return {k: from_dynamo(_de.deserialize(v)) for k, v in item.items()}


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ConversationStore:
    """One item per message, so concurrent writers never overwrite each other; a header item per conversation."""

    def __init__(self, table: str):
        self.table = table

    def put_conversation(self, conversation_id: str, messages: list[dict], user_id: str | None = None,
                         ttl_hours: int = 24, title: str | None = None) -> list[str]:
        """Append ``messages`` to the conversation and refresh its expiry; return the messages' keys."""
        expires_at = int(time.time() + ttl_hours * 3600)
        keys = []
        try:
            for message in messages:
                sort_key = f"{_now_iso()}#{uuid.uuid4().hex[:8]}"
                item = {
                    "conversation_id": conversation_id,
                    "timestamp": sort_key,
                    "role": message.get("role", "user"),
                    "content": message.get("content", ""),
                    "created_at": message.get("created_at") or sort_key[:27],
                    TTL_ATTRIBUTE: expires_at,
                }
                for extra in ("tool_calls", "tokens", "sources", "metadata"):
                    if message.get(extra) is not None:
                        item[extra] = to_dynamo(message[extra])
                raw = serialize(item)
                if len(json.dumps(raw, default=str).encode()) > MAX_ITEM_BYTES - 1024:
                    raise ItemTooLarge(f"message of {len(item['content'])} characters exceeds DynamoDB's 400 KB item limit")
                client("dynamodb").put_item(TableName=self.table, Item=raw)
                keys.append(sort_key)
            self._touch_header(conversation_id, user_id, expires_at, title, len(messages))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"write conversation {conversation_id}") from exc
        return keys

    def _touch_header(self, conversation_id, user_id, expires_at, title, added: int) -> None:
        names = {"#u": "updated_at", "#e": TTL_ATTRIBUTE, "#n": "message_count"}
        values = {":u": {"S": _now_iso()}, ":e": {"N": str(expires_at)}, ":n": {"N": str(added)}}
        expr = "SET #u = :u, #e = :e ADD #n :n"
        if user_id is not None:
            names["#o"], values[":o"] = "user_id", {"S": str(user_id)}
            expr = "SET #u = :u, #e = :e, #o = :o ADD #n :n"
        if title:
            names["#t"], values[":t"] = "title", {"S": title[:200]}
            expr = expr.replace(" ADD", ", #t = if_not_exists(#t, :t) ADD")
        client("dynamodb").update_item(
            TableName=self.table,
            Key={"conversation_id": {"S": conversation_id}, "timestamp": {"S": HEADER_SK}},
            UpdateExpression=expr, ExpressionAttributeNames=names, ExpressionAttributeValues=values,
        )

    def get_header(self, conversation_id: str) -> dict | None:
        resp = client("dynamodb").get_item(
            TableName=self.table, Key={"conversation_id": {"S": conversation_id}, "timestamp": {"S": HEADER_SK}},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        if not item:
            return None
        header = deserialize(item)
        return None if header.get(TTL_ATTRIBUTE, 0) <= time.time() else header

    def get_conversation(self, conversation_id: str, limit: int | None = None) -> list[dict]:
        """Return the conversation's messages, oldest first (the last ``limit`` when given); [] if expired."""
        if self.get_header(conversation_id) is None:
            return []
        kwargs = {
            "TableName": self.table,
            "KeyConditionExpression": "conversation_id = :c AND #ts > :h",
            "ExpressionAttributeNames": {"#ts": "timestamp"},
            "ExpressionAttributeValues": {":c": {"S": conversation_id}, ":h": {"S": HEADER_SK}},
            "ScanIndexForward": limit is None,
            "ConsistentRead": True,
        }
        items: list[dict] = []
        try:
            while True:
                if limit is not None:
                    kwargs["Limit"] = limit - len(items)
                resp = client("dynamodb").query(**kwargs)
                items += [deserialize(i) for i in resp.get("Items", [])]
                if "LastEvaluatedKey" not in resp or (limit is not None and len(items) >= limit):
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"read conversation {conversation_id}") from exc
        if limit is not None:
            items.reverse()
        return items

    def ping(self, purpose: str = "probe") -> None:
        client("dynamodb", purpose=purpose).describe_table(TableName=self.table)


class StockCache:
    """Stock data by symbol and namespace, with a per-item expiry."""

    def __init__(self, table: str):
        self.table = table

    def put_cache_item(self, key: str, value, ttl_seconds: int = 300, namespace: str = "quotes") -> None:
        item = {"symbol": key, "data_type": namespace, "value": to_dynamo(value),
                TTL_ATTRIBUTE: int(time.time() + ttl_seconds), "expires_at_ms": int((time.time() + ttl_seconds) * 1000)}
        try:
            client("dynamodb").put_item(TableName=self.table, Item=serialize(item))
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"cache put {namespace}/{key}") from exc

    def get_cache_item(self, key: str, namespace: str = "quotes"):
        """Return the cached value, or None when absent or expired."""
        try:
            resp = client("dynamodb").get_item(
                TableName=self.table, Key={"symbol": {"S": key}, "data_type": {"S": namespace}}
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"cache get {namespace}/{key}") from exc
        item = resp.get("Item")
        if not item:
            return None
        item = deserialize(item)
        if item.get("expires_at_ms", 0) <= time.time() * 1000:
            return None
        return item.get("value")

    def ping(self, purpose: str = "probe") -> None:
        client("dynamodb", purpose=purpose).describe_table(TableName=self.table)
