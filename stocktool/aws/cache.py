"""Django cache backend on DynamoDB, shaped like ``django/core/cache/backends/redis.py``.

One item per key, in the table that ``bootstrap`` creates (hash key ``cache_key``):

    cache_key   S   the full key (``KEY_PREFIX:VERSION:key`` by default)
    prefix      S   the cache's KEY_PREFIX, so clear() removes this cache's items only
    n | p | z   N for an int (UpdateItem ADD makes incr atomic), else B: a pickle, or a zlib-compressed one
    exp         N   precise expiry in epoch seconds; absent when the key never expires
    expires_at  N   the same rounded up to a whole second, for DynamoDB's TTL sweep

The sweep runs late (up to 48 h on AWS, never on moto), so every read compares ``exp`` with the clock, as
Django's ``db.py`` backend does.
"""

import functools
import itertools
import math
import pickle
import time
import zlib

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache, InvalidCacheKey
from django.utils.functional import cached_property

from .dynamodb import TTL_ATTRIBUTE, backoff, batch_get, batch_write
from .errors import ConditionFailed, translated
from .session import client

MAX_ITEM_BYTES = 400_000  # AWS documents 400 KB; moto refuses items past 405,000 bytes
MAX_KEY_BYTES = 2048  # DynamoDB's partition key limit
MAX_NUMBER = 10**38  # a DynamoDB Number keeps 38 significant digits; larger ints are pickled
VALUE_ATTRIBUTES = ("n", "p", "z")
_CONDITION_FAILED = "ConditionalCheckFailedException"
_LIVE = "(attribute_not_exists(exp) OR exp > :now)"
_ABSENT_OR_EXPIRED = "attribute_not_exists(cache_key) OR exp <= :now"
# What a batched read needs: less to send and parse (moto serialises each returned attribute slowly).
_READ = "cache_key, exp, " + ", ".join(VALUE_ATTRIBUTES)


def _aws_errors(what: str):
    """Re-raise botocore failures of the wrapped call as AWSError naming the operation and table."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            with translated(f"cache {what} on {self._table}"):
                return method(self, *args, **kwargs)

        return wrapper

    return decorate


def _succeeded(call, **kwargs) -> bool:
    """Run a conditional write; return False when its condition did not hold."""
    try:
        with translated(f"conditional write on {kwargs.get('TableName')}"):
            call(**kwargs)
    except ConditionFailed:
        return False
    return True


def _live(item: dict | None, now: float) -> bool:
    if item is None:
        return False
    exp = item.get("exp")
    return exp is None or float(exp["N"]) > now


def _decode(item: dict):
    if (number := item.get("n")) is not None:
        return int(number["N"])
    if (data := item.get("p")) is not None:
        return pickle.loads(data["B"])
    return pickle.loads(zlib.decompress(item["z"]["B"]))


def _size(item: dict) -> int:
    """Return the item's size as DynamoDB counts it: names plus values (a Number's text is an upper bound)."""
    total = 0
    for name, typed in item.items():
        (value,) = typed.values()
        total += len(name) + (len(value) if isinstance(value, bytes) else len(value.encode()))
    return total


class DynamoDBCacheClient:
    """The I/O of the cache: one table, plain keys already made and validated by DynamoDBCache."""

    def __init__(self, table: str, tag: str, *, consistent_read: bool = True,
                 compress_min_bytes: int = 16 * 1024, max_attempts: int = 8):
        self._table = table
        self._tag = tag
        # Read-your-writes: a session saved in one request must be found by the next.
        self._consistent = consistent_read
        self._compress_min_bytes = compress_min_bytes
        self._max_attempts = max_attempts

    def _ddb(self):
        return client("dynamodb")

    def _encode(self, value) -> tuple[str, dict]:
        # type() rather than isinstance(): bool and IntEnum keep their type through pickle (as in redis.py).
        if type(value) is int and -MAX_NUMBER < value < MAX_NUMBER:
            return "n", {"N": str(value)}
        data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        if len(data) >= self._compress_min_bytes:
            packed = zlib.compress(data)
            if len(packed) < len(data):
                return "z", {"B": packed}
        return "p", {"B": data}

    def _item(self, key: str, value, timeout: float | None, now: float) -> dict:
        name, encoded = self._encode(value)
        item = {"cache_key": {"S": key}, "prefix": {"S": self._tag}, name: encoded}
        if timeout is not None:
            expiry = now + timeout
            item["exp"] = {"N": repr(expiry)}
            item[TTL_ATTRIBUTE] = {"N": str(math.ceil(expiry))}
        size = _size(item)
        if size > MAX_ITEM_BYTES:
            raise ValueError(
                f"cache value for key {key!r} makes a {size:,}-byte item (compressed where that helps); a "
                f"DynamoDB item holds at most {MAX_ITEM_BYTES:,} bytes, so nothing was written"
            )
        return item

    def _backoff(self, attempt: int, what: str) -> None:
        backoff(attempt, f"cache {what} on {self._table}", self._max_attempts)

    @_aws_errors("add")
    def add(self, key: str, value, timeout: float | None) -> bool:
        now = time.time()
        item = self._item(key, value, timeout, now)
        condition = {"ConditionExpression": _ABSENT_OR_EXPIRED,
                     "ExpressionAttributeValues": {":now": {"N": repr(now)}}}
        if timeout == 0:
            # Stored and gone at once: succeed where a put would have, and leave nothing behind.
            return _succeeded(self._ddb().delete_item, TableName=self._table, Key={"cache_key": {"S": key}},
                              **condition)
        return _succeeded(self._ddb().put_item, TableName=self._table, Item=item, **condition)

    @_aws_errors("get")
    def get(self, key: str, default):
        item = self._ddb().get_item(
            TableName=self._table, Key={"cache_key": {"S": key}}, ConsistentRead=self._consistent
        ).get("Item")
        return _decode(item) if _live(item, time.time()) else default

    @_aws_errors("set")
    def set(self, key: str, value, timeout: float | None) -> None:
        item = self._item(key, value, timeout, time.time())
        if timeout == 0:
            self._ddb().delete_item(TableName=self._table, Key={"cache_key": {"S": key}})
        else:
            self._ddb().put_item(TableName=self._table, Item=item)

    @_aws_errors("touch")
    def touch(self, key: str, timeout: float | None) -> bool:
        now = time.time()
        values = {":now": {"N": repr(now)}}
        kwargs = {"TableName": self._table, "Key": {"cache_key": {"S": key}},
                  "ConditionExpression": "attribute_exists(cache_key) AND " + _LIVE}
        if timeout == 0:
            return _succeeded(self._ddb().delete_item, ExpressionAttributeValues=values, **kwargs)
        if timeout is None:
            update = f"REMOVE exp, {TTL_ATTRIBUTE}"
        else:
            update = f"SET exp = :exp, {TTL_ATTRIBUTE} = :ttl"
            values[":exp"] = {"N": repr(now + timeout)}
            values[":ttl"] = {"N": str(math.ceil(now + timeout))}
        return _succeeded(self._ddb().update_item, UpdateExpression=update, ExpressionAttributeValues=values,
                          **kwargs)

    @_aws_errors("delete")
    def delete(self, key: str) -> bool:
        return _succeeded(self._ddb().delete_item, TableName=self._table, Key={"cache_key": {"S": key}},
                          ConditionExpression="attribute_exists(cache_key)")

    @_aws_errors("has_key")
    def has_key(self, key: str) -> bool:
        item = self._ddb().get_item(
            TableName=self._table, Key={"cache_key": {"S": key}}, ConsistentRead=self._consistent,
            ProjectionExpression="cache_key, exp",
        ).get("Item")
        return _live(item, time.time())

    @_aws_errors("incr")
    def incr(self, key: str, delta) -> int:
        if type(delta) is int:
            try:
                with translated(f"cache incr on {self._table}"):
                    resp = self._ddb().update_item(
                        TableName=self._table, Key={"cache_key": {"S": key}}, UpdateExpression="ADD n :d",
                        ConditionExpression="attribute_exists(n) AND " + _LIVE,
                        ExpressionAttributeValues={":d": {"N": str(delta)}, ":now": {"N": repr(time.time())}},
                        ReturnValues="UPDATED_NEW",
                    )
                return int(resp["Attributes"]["n"]["N"])
            except ConditionFailed:
                pass  # missing, expired or not a Number: the rewrite below
        return self._incr_by_rewrite(key, delta)

    def _incr_by_rewrite(self, key: str, delta):
        """Add to a value that is missing, expired or not a Number: compare-and-swap on the old value."""
        for attempt in itertools.count():
            item = self._ddb().get_item(
                TableName=self._table, Key={"cache_key": {"S": key}}, ConsistentRead=True
            ).get("Item")
            now = time.time()
            if not _live(item, now):
                raise ValueError(f"Key '{key}' not found")
            new_value = _decode(item) + delta  # TypeError for None, str..., as in Django's other backends
            exp = item.get("exp")
            new_item = self._item(key, new_value, None if exp is None else float(exp["N"]) - now, now)
            old = next(name for name in VALUE_ATTRIBUTES if name in item)
            if _succeeded(self._ddb().put_item, TableName=self._table, Item=new_item,
                          ConditionExpression=f"{old} = :old", ExpressionAttributeValues={":old": item[old]}):
                return new_value
            self._backoff(attempt, "incr")

    @_aws_errors("get_many")
    def get_many(self, keys) -> dict:
        found = {}
        keys = list(dict.fromkeys(keys))  # BatchGetItem refuses duplicate keys
        now = time.time()
        for item in batch_get(self._table, [{"cache_key": {"S": k}} for k in keys], consistent=self._consistent,
                              projection=_READ, max_attempts=self._max_attempts):
            if _live(item, now):
                found[item["cache_key"]["S"]] = _decode(item)
        return found

    def _batch_write(self, requests: list[dict], what: str) -> None:
        batch_write(self._table, requests, max_attempts=self._max_attempts)

    @_aws_errors("set_many")
    def set_many(self, data: dict, timeout: float | None) -> None:
        now = time.time()
        items = [self._item(key, value, timeout, now) for key, value in data.items()]  # all fit, or none written
        if timeout == 0:
            self.delete_many(list(data))
        else:
            self._batch_write([{"PutRequest": {"Item": item}} for item in items], "set_many")

    @_aws_errors("delete_many")
    def delete_many(self, keys) -> None:
        keys = list(dict.fromkeys(keys))  # BatchWriteItem refuses two requests on one key
        self._batch_write([{"DeleteRequest": {"Key": {"cache_key": {"S": k}}}} for k in keys], "delete_many")

    @_aws_errors("clear")
    def clear(self) -> None:
        kwargs = {"TableName": self._table, "ProjectionExpression": "cache_key", "FilterExpression": "prefix = :p",
                  "ExpressionAttributeValues": {":p": {"S": self._tag}}, "ConsistentRead": True}
        while True:
            page = self._ddb().scan(**kwargs)
            self.delete_many([item["cache_key"]["S"] for item in page.get("Items", ())])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoDBCache(BaseCache):
    """``CACHES`` backend: LOCATION is the table (default settings.DYNAMODB_TABLE_DJANGO_CACHE)."""

    def __init__(self, table, params):
        super().__init__(params)
        self._table = table or settings.DYNAMODB_TABLE_DJANGO_CACHE
        self._class = DynamoDBCacheClient
        # BaseCache reads the culling options; DynamoDB's TTL does the expiring, so nothing culls.
        self._options = {k: v for k, v in params.get("OPTIONS", {}).items()
                         if k not in ("MAX_ENTRIES", "CULL_FREQUENCY")}

    @cached_property
    def _cache(self) -> DynamoDBCacheClient:
        return self._class(self._table, self.key_prefix, **self._options)

    def get_backend_timeout(self, timeout=DEFAULT_TIMEOUT):
        """Return the lifetime in seconds: None never expires, 0 (also for negatives) is not stored."""
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return None if timeout is None else max(0.0, float(timeout))

    def validate_key(self, key):
        super().validate_key(key)
        if len(key.encode()) > MAX_KEY_BYTES:
            raise InvalidCacheKey(f"Cache key is longer than DynamoDB's {MAX_KEY_BYTES} bytes: {key[:60]!r}...")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._cache.add(key, value, self.get_backend_timeout(timeout))

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._cache.get(key, default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._cache.set(key, value, self.get_backend_timeout(timeout))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._cache.touch(key, self.get_backend_timeout(timeout))

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._cache.delete(key)

    def get_many(self, keys, version=None):
        key_map = {self.make_and_validate_key(key, version=version): key for key in keys}
        ret = self._cache.get_many(key_map.keys())
        return {key_map[k]: v for k, v in ret.items()}

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._cache.has_key(key)

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._cache.incr(key, delta)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        if not data:
            return []
        safe_data = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        self._cache.set_many(safe_data, self.get_backend_timeout(timeout))
        return []

    def delete_many(self, keys, version=None):
        if not keys:
            return
        self._cache.delete_many([self.make_and_validate_key(key, version=version) for key in keys])

    def clear(self):
        self._cache.clear()

    def close(self, **kwargs):
        """Keep the connections: the process shares its pooled boto3 clients (stocktool.aws.session)."""

    # BaseCache's async defaults loop over single calls; these keep the batching and the atomic incr.
    async def aget_many(self, keys, version=None):
        return await sync_to_async(self.get_many, thread_sensitive=True)(keys, version)

    async def aset_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return await sync_to_async(self.set_many, thread_sensitive=True)(data, timeout, version)

    async def adelete_many(self, keys, version=None):
        return await sync_to_async(self.delete_many, thread_sensitive=True)(keys, version)

    async def ahas_key(self, key, version=None):
        return await sync_to_async(self.has_key, thread_sensitive=True)(key, version)

    async def aincr(self, key, delta=1, version=None):
        return await sync_to_async(self.incr, thread_sensitive=True)(key, delta, version)
