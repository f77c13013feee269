"""DynamoDB: items to and from DynamoDB's types, batch reads and writes with retries, and the stock-data cache.
(The conversation store, which uses these, lives in ``conversations/dynamodb_store.py``.)

DynamoDB's TTL sweep runs late (up to 48 h on AWS, never on moto), so every read checks ``expires_at``.
"""

import itertools
import json
import logging
import random
import time
import zlib
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .errors import AWSError, translated
from .session import client

TTL_ATTRIBUTE = "expires_at"  # every table's time-to-live attribute (epoch seconds)

logger = logging.getLogger(__name__)

MAX_ITEM_BYTES = 400 * 1024

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


def serialize_value(value) -> dict:
    """One plain value as a DynamoDB attribute value ({"M": ...}, {"N": "1.5"}, ...)."""
    return _ser.serialize(to_dynamo(value))


def serialize(item: dict) -> dict:
    return {k: _ser.serialize(v) for k, v in item.items()}


def deserialize(item: dict) -> dict:
    return {k: from_dynamo(_de.deserialize(v)) for k, v in item.items()}


def item_size(item: dict) -> int:
    """Approximate DynamoDB's size of an item: attribute names plus their values' bytes."""
    return sum(len(k.encode()) + len(json.dumps(v, default=str).encode()) for k, v in item.items())


BATCH_GET, BATCH_WRITE = 100, 25  # DynamoDB's limits per BatchGetItem and BatchWriteItem
BATCH_ATTEMPTS = 8


def backoff(attempt: int, what: str, max_attempts: int = BATCH_ATTEMPTS) -> None:
    """Sleep before another attempt (exponential, jittered, at most 2 s), or give up after ``max_attempts``."""
    if attempt + 1 >= max_attempts:
        raise AWSError(f"{what}: gave up after {max_attempts} attempts (throttled or contended)")
    time.sleep(random.uniform(0.5, 1.0) * min(2.0, 0.05 * 2**attempt))


def batch_get(table: str, keys: list[dict], *, consistent: bool = True, projection: str | None = None,
              max_attempts: int = BATCH_ATTEMPTS) -> list[dict]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with back-off; the items found."""
    found: list[dict] = []
    for start in range(0, len(keys), BATCH_GET):
        request = {table: {"Keys": keys[start:start + BATCH_GET], "ConsistentRead": consistent,
                           **({"ProjectionExpression": projection} if projection else {})}}
        for attempt in itertools.count():
            with translated(f"BatchGetItem on {table}"):
                resp = client("dynamodb").batch_get_item(RequestItems=request)
            found += resp.get("Responses", {}).get(table, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
            backoff(attempt, f"BatchGetItem on {table}", max_attempts)
    return found


def batch_write(table: str, requests: list[dict], *, max_attempts: int = BATCH_ATTEMPTS) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items with back-off."""
    for start in range(0, len(requests), BATCH_WRITE):
        pending = {table: requests[start:start + BATCH_WRITE]}
        for attempt in itertools.count():
            with translated(f"BatchWriteItem on {table}"):
                pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
            backoff(attempt, f"BatchWriteItem on {table}", max_attempts)


class StockCache:
    """Stock data by symbol and namespace, with a per-item expiry.

    Small values are stored as native DynamoDB maps (readable in the console); values whose JSON passes
    BLOB_THRESHOLD bytes (price histories) as one zlib-compressed JSON binary: a 5-year history as 7,500
    Number attributes costs DynamoDB and the SDK far more to (de)serialise than one blob, and compression
    keeps a decade of daily bars well under the 400 KB item limit.
    """

    BLOB_THRESHOLD = 4096

    def __init__(self, table: str):
        self.table = table

    def put_cache_item(self, key: str, value, ttl_seconds: int = 300, namespace: str = "quotes") -> None:
        expires = time.time() + ttl_seconds
        item: dict[str, Any] = {
            "symbol": {"S": key},
            "data_type": {"S": namespace},
            TTL_ATTRIBUTE: {"N": str(int(expires) + 1)},
            "expires_at_ms": {"N": str(int(expires * 1000))},
        }
        raw = json.dumps(value, separators=(",", ":"), allow_nan=False)
        if len(raw) > self.BLOB_THRESHOLD:
            blob = zlib.compress(raw.encode(), 6)
            if len(blob) > MAX_ITEM_BYTES - 1024:
                raise ItemTooLarge(f"cache value {namespace}/{key} is {len(blob):,} bytes compressed; the limit is 400 KB")
            item["blob"] = {"B": blob}
        else:
            item["value"] = serialize_value(value)
        with translated(f"cache put {namespace}/{key}"):
            client("dynamodb").put_item(TableName=self.table, Item=item)

    def get_cache_item(self, key: str, namespace: str = "quotes"):
        """Return the cached value, or None when absent or expired."""
        with translated(f"cache get {namespace}/{key}"):
            resp = client("dynamodb").get_item(
                TableName=self.table, Key={"symbol": {"S": key}, "data_type": {"S": namespace}}
            )
        item = resp.get("Item")
        if not item or int(item.get("expires_at_ms", {}).get("N", "0")) <= time.time() * 1000:
            return None
        if "blob" in item:
            return json.loads(zlib.decompress(item["blob"]["B"]))
        return from_dynamo(_de.deserialize(item["value"])) if "value" in item else None

    def delete_cache_item(self, key: str, namespace: str = "quotes") -> None:
        with translated(f"cache delete {namespace}/{key}"):
            client("dynamodb").delete_item(
                TableName=self.table, Key={"symbol": {"S": key}, "data_type": {"S": namespace}}
            )

    def ping(self, purpose: str = "probe") -> None:
        client("dynamodb", purpose=purpose).describe_table(TableName=self.table)
