"""What the DynamoDB cache's tests share: values to store, caches built on this run's table, a raw read."""

import pickle
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from stocktool.aws.cache import DynamoDBCache
from stocktool.aws.session import client

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
KEY_ERRORS_WITH_MEMCACHED_MSG = "Cache key contains characters that will cause errors if used with memcached: %r"


def f():
    return 42


class C:
    def m(n):
        return 24


class Unpicklable:
    def __getstate__(self):
        raise pickle.PickleError()


def custom_key_func(key, key_prefix, version):
    """A customized cache key function."""
    return "CUSTOM-" + "-".join([key_prefix, str(version), key])


def make_cache(params=None, cls=DynamoDBCache) -> DynamoDBCache:
    return cls(settings.DYNAMODB_TABLE_DJANGO_CACHE, params or {})


@pytest.fixture
def family(aws):
    """The caches of Django's suite: default, another prefix, version 2, two custom key functions."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    params = {
        "default": {"KEY_PREFIX": prefix},
        "prefix": {"KEY_PREFIX": prefix + "-other"},
        "v2": {"KEY_PREFIX": prefix, "VERSION": 2},
        "custom_key": {"KEY_PREFIX": prefix, "KEY_FUNCTION": custom_key_func},
        "custom_key2": {"KEY_PREFIX": prefix, "KEY_FUNCTION": "tests.cache_support.custom_key_func"},
    }
    built = {name: make_cache(p) for name, p in params.items()}
    yield built
    for cache in built.values():
        cache.clear()


@pytest.fixture
def cache(family):
    return family["default"]


def raw(cache, key, version=None) -> dict | None:
    """Return the stored item as DynamoDB holds it (expired or not)."""
    return client("dynamodb").get_item(
        TableName=settings.DYNAMODB_TABLE_DJANGO_CACHE,
        Key={"cache_key": {"S": cache.make_key(key, version=version)}},
        ConsistentRead=True,
    ).get("Item")
