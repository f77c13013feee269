"""Behaviour suite of the DynamoDB cache backend, after ``BaseCacheTests`` in Django's tests/cache/tests.py.

Everything runs over HTTP against the embedded moto server (the ``aws`` fixture). Each test gets its caches
under a KEY_PREFIX of its own, so tests never see each other's keys; expiry tests use sub-second timeouts,
which the backend's precise expiry supports.
"""

import asyncio
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import CacheKeyWarning, InvalidCacheKey, caches

from stocktool.aws.cache import MAX_ITEM_BYTES, DynamoDBCache
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
        "custom_key2": {"KEY_PREFIX": prefix, "KEY_FUNCTION": "tests.test_dynamodb_cache.custom_key_func"},
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


# --- Django's BaseCacheTests ------------------------------------------------------------------------------


def test_a_set_value_is_read_back(cache):
    cache.set("key", "value")
    assert cache.get("key") == "value"


def test_a_cached_none_is_returned_instead_of_the_default(cache):
    cache.set("key_default_none", None)
    assert cache.get("key_default_none", default="default") is None


def test_add_stores_only_when_the_key_is_absent(cache):
    assert cache.add("addkey1", "value") is True
    assert cache.add("addkey1", "newvalue") is False
    assert cache.get("addkey1") == "value"


def test_caches_with_another_key_prefix_do_not_share_keys(family):
    cache, other = family["default"], family["prefix"]
    cache.set("somekey", "value")
    assert other.has_key("somekey") is False
    other.set("somekey", "value2")
    assert cache.get("somekey") == "value"
    assert other.get("somekey") == "value2"


def test_a_missing_key_returns_none_or_the_default(cache):
    assert cache.get("does_not_exist") is None
    assert cache.get("does_not_exist", "bang!") == "bang!"


def test_get_many_returns_the_keys_that_exist(cache):
    cache.set_many({"a": "a", "b": "b", "c": "c", "d": "d"})
    assert cache.get_many(["a", "c", "d"]) == {"a": "a", "c": "c", "d": "d"}
    assert cache.get_many(["a", "b", "e"]) == {"a": "a", "b": "b"}
    assert cache.get_many(iter(["a", "b", "e"])) == {"a": "a", "b": "b"}
    assert cache.get_many(["a", "a", "b"]) == {"a": "a", "b": "b"}
    cache.set_many({"x": None, "y": 1})
    assert cache.get_many(["x", "y"]) == {"x": None, "y": 1}


def test_delete_removes_one_key_and_says_whether_it_existed(cache):
    cache.set_many({"key1": "spam", "key2": "eggs"})
    assert cache.get("key1") == "spam"
    assert cache.delete("key1") is True
    assert cache.get("key1") is None
    assert cache.get("key2") == "eggs"
    assert cache.delete("nonexistent_key") is False


def test_has_key_and_in_see_live_keys_including_none(cache):
    cache.set("hello1", "goodbye1")
    assert cache.has_key("hello1") is True
    assert cache.has_key("goodbye1") is False
    cache.set("no_expiry", "here", None)
    assert cache.has_key("no_expiry") is True
    cache.set("null", None)
    assert cache.has_key("null") is True
    assert "hello1" in cache
    assert "goodbye1" not in cache
    assert "null" in cache


@pytest.mark.parametrize(("op", "sign"), [("incr", 1), ("decr", -1)])
def test_incr_and_decr_count_and_refuse_missing_keys_and_non_numbers(cache, op, sign):
    step = getattr(cache, op)
    cache.set("answer", 42 - sign)
    assert step("answer") == 42
    assert cache.get("answer") == 42
    assert step("answer", 10) == 42 + 10 * sign
    assert cache.get("answer") == 42 + 10 * sign
    assert step("answer", -10) == 42
    with pytest.raises(ValueError):
        step("does_not_exist")
    with pytest.raises(ValueError):
        step("does_not_exist", -1)
    cache.set("null", None)
    with pytest.raises(TypeError):
        step("null")


def test_close_leaves_the_cache_usable(cache):
    cache.close()
    cache.set("after-close", 1)
    assert cache.get("after-close") == 1


@pytest.mark.parametrize(
    "value",
    ["this is a string", 42, True, [1, 2, 3, 4], (1, 2, 3, 4), {"A": 1, "B": 2}, f, C, 1.5, b"\x00\xff", 10**40],
    ids=["string", "int", "bool", "list", "tuple", "dict", "function", "class", "float", "bytes", "bigint"],
)
def test_any_picklable_value_round_trips_with_its_type(cache, value):
    cache.set("value", value)
    got = cache.get("value")
    assert got == value and type(got) is type(value)


def test_values_expire(cache):
    cache.set("expire1", "very quickly", 0.3)
    cache.set("expire2", "very quickly", 0.3)
    cache.set("expire3", "very quickly", 0.3)
    time.sleep(0.5)
    assert cache.get("expire1") is None
    assert cache.add("expire2", "newvalue") is True
    assert cache.get("expire2") == "newvalue"
    assert cache.has_key("expire3") is False


def test_touch_sets_a_new_timeout(cache):
    cache.set("expire1", "very quickly", timeout=0.3)
    assert cache.touch("expire1", timeout=1.5) is True
    time.sleep(0.6)
    assert cache.has_key("expire1") is True
    time.sleep(1.2)
    assert cache.has_key("expire1") is False
    cache.set("expire1", "very quickly", timeout=0.3)
    assert cache.touch("expire1") is True  # the default timeout
    time.sleep(0.6)
    assert cache.has_key("expire1") is True
    assert cache.touch("nonexistent") is False


def test_unicode_keys_and_values_work_with_set_add_and_set_many(cache):
    stuff = {
        "ascii": "ascii_value",
        "unicode_ascii": "Iñtërnâtiônàlizætiøn1",
        "Iñtërnâtiônàlizætiøn": "Iñtërnâtiônàlizætiøn2",
        "ascii2": {"x": 1},
    }
    for key, value in stuff.items():
        cache.set(key, value)
        assert cache.get(key) == value
    for key, value in stuff.items():
        assert cache.delete(key) is True
        assert cache.add(key, value) is True
        assert cache.get(key) == value
    for key in stuff:
        assert cache.delete(key) is True
    cache.set_many(stuff)
    for key, value in stuff.items():
        assert cache.get(key) == value


def test_binary_strings_round_trip(cache):
    value = "value_to_be_compressed"
    compressed_value = zlib.compress(value.encode())
    cache.set("binary1", compressed_value)
    assert zlib.decompress(cache.get("binary1")).decode() == value
    assert cache.add("binary1-add", compressed_value) is True
    assert cache.get("binary1-add") == compressed_value
    cache.set_many({"binary1-set_many": compressed_value})
    assert cache.get("binary1-set_many") == compressed_value


def test_set_many_stores_all_and_returns_no_failures(cache):
    assert cache.set_many({"key1": "spam", "key2": "eggs"}) == []
    assert cache.get("key1") == "spam"
    assert cache.get("key2") == "eggs"
    assert cache.set_many({}) == []


def test_set_many_takes_a_timeout(cache):
    cache.set_many({"key1": "spam", "key2": "eggs"}, 0.3)
    time.sleep(0.5)
    assert cache.get("key1") is None
    assert cache.get("key2") is None


def test_delete_many_removes_only_the_given_keys(cache):
    cache.set_many({"key1": "spam", "key2": "eggs", "key3": "ham"})
    cache.delete_many(["key1", "key2", "key1"])
    assert cache.get("key1") is None
    assert cache.get("key2") is None
    assert cache.get("key3") == "ham"
    assert cache.delete_many([]) is None


def test_clear_empties_the_cache(cache):
    cache.set_many({"key1": "spam", "key2": "eggs"})
    cache.clear()
    assert cache.get("key1") is None
    assert cache.get("key2") is None


def test_timeouts_over_30_days_are_relative(cache):
    month = 60 * 60 * 24 * 30 + 1
    cache.set("key1", "eggs", month)
    assert cache.get("key1") == "eggs"
    assert cache.add("key2", "ham", month) is True
    assert cache.get("key2") == "ham"
    cache.set_many({"key3": "sausage", "key4": "lobster bisque"}, month)
    assert cache.get_many(["key3", "key4"]) == {"key3": "sausage", "key4": "lobster bisque"}


def test_a_none_timeout_never_expires(cache):
    cache.set("key1", "eggs", None)
    assert cache.get("key1") == "eggs"
    assert "exp" not in raw(cache, "key1") and "expires_at" not in raw(cache, "key1")
    assert cache.add("key2", "ham", None) is True
    assert cache.get("key2") == "ham"
    assert cache.add("key1", "new eggs", None) is False
    assert cache.get("key1") == "eggs"
    cache.set_many({"key3": "sausage", "key4": "lobster bisque"}, None)
    assert cache.get("key3") == "sausage"
    assert cache.get("key4") == "lobster bisque"
    cache.set("key5", "belgian fries", timeout=0.3)
    assert cache.touch("key5", timeout=None) is True
    time.sleep(0.5)
    assert cache.get("key5") == "belgian fries"
    assert "expires_at" not in raw(cache, "key5")


def test_a_zero_timeout_stores_nothing_and_drops_what_was_there(cache):
    cache.set("key1", "eggs", 0)
    assert cache.get("key1") is None
    assert cache.add("key2", "ham", 0) is True
    assert cache.get("key2") is None
    cache.set_many({"key3": "sausage", "key4": "lobster bisque"}, 0)
    assert cache.get("key3") is None
    assert cache.get("key4") is None
    cache.set("key5", "belgian fries", timeout=5)
    assert cache.touch("key5", timeout=0) is True
    assert cache.get("key5") is None
    cache.set("key6", "old")
    cache.set("key6", "new", 0)
    assert raw(cache, "key6") is None
    cache.set("key7", "kept")
    assert cache.add("key7", "other", 0) is False
    assert cache.get("key7") == "kept"


def test_a_negative_timeout_behaves_like_zero(cache):
    cache.set("neg", "old")
    cache.set("neg", "new", -1)
    assert raw(cache, "neg") is None
    assert cache.add("neg2", "x", -5) is True
    assert cache.get("neg2") is None
    assert cache.get_backend_timeout(-5) == 0


def test_a_float_timeout_works(cache):
    cache.set("key1", "spam", 100.2)
    assert cache.get("key1") == "spam"


def test_the_default_timeout_comes_from_the_settings(aws):
    forever = make_cache({"KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}", "TIMEOUT": None})
    short = make_cache({"KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}", "TIMEOUT": 1})
    try:
        forever.set("k", 1)
        short.set("k", 1)
        assert "exp" not in raw(forever, "k")
        assert float(raw(short, "k")["exp"]["N"]) == pytest.approx(time.time() + 1, abs=0.5)
        assert short.get_backend_timeout() == 1 and forever.get_backend_timeout() is None
    finally:
        forever.clear()
        short.clear()


OPERATIONS = [
    ("add", lambda key: [key, 1]),
    ("get", lambda key: [key]),
    ("set", lambda key: [key, 1]),
    ("incr", lambda key: [key]),
    ("decr", lambda key: [key]),
    ("touch", lambda key: [key]),
    ("delete", lambda key: [key]),
    ("get_many", lambda key: [[key, "b"]]),
    ("set_many", lambda key: [{key: 1, "b": 2}]),
    ("delete_many", lambda key: [[key, "b"]]),
]


def _warns_for_each_operation(cache, key, expected, key_func=lambda key, *args: key):
    cache.key_func = key_func  # as Django's suite: the default key function never warns
    for operation, args in OPERATIONS:
        with pytest.warns(CacheKeyWarning) as record:
            getattr(cache, operation)(*args(key))
        assert [str(w.message) for w in record] == [expected], operation


def test_keys_with_memcached_unsafe_characters_warn(cache):
    key = "key with spaces and 清"
    _warns_for_each_operation(cache, key, KEY_ERRORS_WITH_MEMCACHED_MSG % key)


def test_keys_over_250_characters_warn(cache):
    key = ("a" * 250) + "清"
    _warns_for_each_operation(
        cache, key, f"Cache key will cause errors if used with memcached: {key!r} (longer than 250)"
    )


def test_keys_made_over_250_characters_by_the_key_function_warn(cache):
    def key_func(key, *args):
        return key + ":1"

    key = "a" * 249
    _warns_for_each_operation(
        cache, key, f"Cache key will cause errors if used with memcached: {key_func(key)!r} (longer than 250)",
        key_func=key_func,
    )


def test_keys_over_dynamodbs_2048_bytes_are_refused(cache):
    with pytest.warns(CacheKeyWarning), pytest.raises(InvalidCacheKey, match="2048"):
        cache.set("k" * 2100, 1)


def test_versions_separate_get_and_set(family):
    cache, v2 = family["default"], family["v2"]
    cache.set("answer1", 42)
    assert cache.get("answer1") == 42
    assert cache.get("answer1", version=1) == 42
    assert cache.get("answer1", version=2) is None
    assert v2.get("answer1") is None
    assert v2.get("answer1", version=1) == 42
    assert v2.get("answer1", version=2) is None

    cache.set("answer2", 42, version=2)
    assert cache.get("answer2") is None
    assert cache.get("answer2", version=1) is None
    assert cache.get("answer2", version=2) == 42
    assert v2.get("answer2") == 42
    assert v2.get("answer2", version=1) is None

    v2.set("answer3", 42)
    assert cache.get("answer3") is None
    assert cache.get("answer3", version=2) == 42
    assert v2.get("answer3") == 42

    v2.set("answer4", 42, version=1)
    assert cache.get("answer4") == 42
    assert cache.get("answer4", version=2) is None
    assert v2.get("answer4") is None
    assert v2.get("answer4", version=1) == 42


def test_versions_separate_add(family):
    cache, v2 = family["default"], family["v2"]
    assert cache.add("answer1", 42, version=2) is True
    assert cache.get("answer1", version=1) is None
    assert cache.get("answer1", version=2) == 42
    assert cache.add("answer1", 37, version=2) is False
    assert cache.get("answer1", version=2) == 42
    assert cache.add("answer1", 37, version=1) is True
    assert cache.get("answer1", version=1) == 37
    assert cache.get("answer1", version=2) == 42

    assert v2.add("answer2", 42) is True
    assert cache.get("answer2", version=2) == 42
    assert v2.add("answer2", 37) is False
    assert v2.add("answer2", 37, version=1) is True
    assert cache.get("answer2", version=1) == 37
    assert cache.get("answer2", version=2) == 42

    assert v2.add("answer3", 42, version=1) is True
    assert v2.add("answer3", 37, version=1) is False
    assert v2.add("answer3", 37) is True
    assert cache.get("answer3", version=1) == 42
    assert cache.get("answer3", version=2) == 37


def test_versions_separate_has_key(family):
    cache, v2 = family["default"], family["v2"]
    cache.set("answer1", 42)
    assert cache.has_key("answer1") is True
    assert cache.has_key("answer1", version=1) is True
    assert cache.has_key("answer1", version=2) is False
    assert v2.has_key("answer1") is False
    assert v2.has_key("answer1", version=1) is True
    assert v2.has_key("answer1", version=2) is False


def test_versions_separate_delete(family):
    cache, v2 = family["default"], family["v2"]
    for key in ("answer1", "answer2", "answer3", "answer4"):
        cache.set(key, 37, version=1)
        cache.set(key, 42, version=2)
    assert cache.delete("answer1") is True
    assert (cache.get("answer1", version=1), cache.get("answer1", version=2)) == (None, 42)
    assert cache.delete("answer2", version=2) is True
    assert (cache.get("answer2", version=1), cache.get("answer2", version=2)) == (37, None)
    assert v2.delete("answer3") is True
    assert (cache.get("answer3", version=1), cache.get("answer3", version=2)) == (37, None)
    assert v2.delete("answer4", version=1) is True
    assert (cache.get("answer4", version=1), cache.get("answer4", version=2)) == (None, 42)


def test_versions_separate_incr_and_decr(family):
    cache, v2 = family["default"], family["v2"]
    for key in ("answer1", "answer2", "answer3", "answer4"):
        cache.set(key, 37, version=1)
        cache.set(key, 42, version=2)
    # (Which cache counts, the key, the version asked for, then both versions' values after the incr.)
    for which, key, version, after in ((cache, "answer1", None, (38, 42)), (cache, "answer2", 2, (37, 43)),
                                       (v2, "answer3", None, (37, 43)), (v2, "answer4", 1, (38, 42))):
        kwargs = {"version": version} if version else {}
        bumped = max(after) if after[1] == 43 else after[0]
        assert which.incr(key, **kwargs) == bumped
        assert (cache.get(key, version=1), cache.get(key, version=2)) == after
        assert which.decr(key, **kwargs) == bumped - 1


def test_versions_separate_get_many_and_set_many(family):
    cache, v2 = family["default"], family["v2"]
    cache.set_many({"ford1": 37, "arthur1": 42})
    assert cache.get_many(["ford1", "arthur1"]) == {"ford1": 37, "arthur1": 42}
    assert cache.get_many(["ford1", "arthur1"], version=2) == {}
    assert v2.get_many(["ford1", "arthur1"]) == {}
    assert v2.get_many(["ford1", "arthur1"], version=1) == {"ford1": 37, "arthur1": 42}

    cache.set_many({"ford2": 37, "arthur2": 42}, version=2)
    assert cache.get_many(["ford2", "arthur2"]) == {}
    assert cache.get_many(["ford2", "arthur2"], version=2) == {"ford2": 37, "arthur2": 42}
    assert v2.get_many(["ford2", "arthur2"]) == {"ford2": 37, "arthur2": 42}

    v2.set_many({"ford3": 37, "arthur3": 42})
    assert cache.get_many(["ford3", "arthur3"]) == {}
    assert v2.get_many(["ford3", "arthur3"]) == {"ford3": 37, "arthur3": 42}

    v2.set_many({"ford4": 37, "arthur4": 42}, version=1)
    assert cache.get_many(["ford4", "arthur4"]) == {"ford4": 37, "arthur4": 42}
    assert v2.get_many(["ford4", "arthur4"]) == {}


def test_incr_version_moves_the_value_up(family):
    cache, v2 = family["default"], family["v2"]
    cache.set("answer", 42, version=2)
    assert cache.incr_version("answer", version=2) == 3
    assert cache.get("answer", version=2) is None
    assert cache.get("answer", version=3) == 42

    v2.set("answer2", 42)
    assert v2.incr_version("answer2") == 3
    assert v2.get("answer2") is None
    assert v2.get("answer2", version=3) == 42

    with pytest.raises(ValueError):
        cache.incr_version("does_not_exist")
    cache.set("null", None)
    assert cache.incr_version("null") == 2


def test_decr_version_moves_the_value_down(family):
    cache, v2 = family["default"], family["v2"]
    cache.set("answer", 42, version=2)
    assert cache.decr_version("answer", version=2) == 1
    assert cache.get("answer") == 42
    assert cache.get("answer", version=2) is None

    v2.set("answer2", 42)
    assert v2.decr_version("answer2") == 1
    assert v2.get("answer2") is None
    assert v2.get("answer2", version=1) == 42

    with pytest.raises(ValueError):
        cache.decr_version("does_not_exist", version=2)
    cache.set("null", None, version=2)
    assert cache.decr_version("null", version=2) == 1


def test_caches_with_another_key_function_do_not_share_keys(family):
    cache = family["default"]
    cache.set("answer1", 42)
    assert cache.get("answer1") == 42
    assert family["custom_key"].get("answer1") is None
    assert family["custom_key2"].get("answer1") is None
    family["custom_key"].set("answer2", 42)
    assert cache.get("answer2") is None
    assert family["custom_key"].get("answer2") == 42
    assert family["custom_key2"].get("answer2") == 42


def test_unpicklable_values_raise_and_write_nothing(cache):
    with pytest.raises(pickle.PickleError):
        cache.add("unpicklable", Unpicklable())
    with pytest.raises(pickle.PickleError):
        cache.set("unpicklable", Unpicklable())
    assert raw(cache, "unpicklable") is None


def test_get_or_set_stores_the_default(cache):
    assert cache.get("projector") is None
    assert cache.get_or_set("projector", 42) == 42
    assert cache.get("projector") == 42
    assert cache.get_or_set("null", None) is None
    assert cache.get("null", "default") is None  # get_or_set() stored None


def test_get_or_set_calls_a_callable_default(cache):
    def my_callable():
        return "value"

    assert cache.get_or_set("mykey", my_callable) == "value"
    assert cache.get_or_set("mykey", my_callable()) == "value"
    assert cache.get_or_set("null", lambda: None) is None
    assert cache.get("null", "default") is None


def test_get_or_set_honours_the_version(cache):
    assert cache.get_or_set("brian", 1979, version=2) == 1979
    with pytest.raises(TypeError, match="required positional argument: 'default'"):
        cache.get_or_set("brian")
    assert cache.get("brian", version=1) is None
    assert cache.get_or_set("brian", 42, version=1) == 42
    assert cache.get_or_set("brian", 1979, version=2) == 1979
    assert cache.get("brian", version=3) is None


class NeverAdds(DynamoDBCache):
    def add(self, *args, **kwargs):
        return False


def test_get_or_set_returns_the_default_when_another_writer_wins_then_vanishes(aws):
    racing = make_cache({"KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}"}, cls=NeverAdds)
    assert racing.get_or_set("key", "default") == "default"


# --- What DynamoDB adds: storage, expiry on read, sizes ---------------------------------------------------


def test_ints_are_stored_as_numbers_and_other_values_as_pickles(cache):
    cache.set("int", 42)
    cache.set("bool", True)
    cache.set("str", "x")
    assert raw(cache, "int")["n"] == {"N": "42"}
    assert "p" in raw(cache, "bool") and "p" in raw(cache, "str")
    assert pickle.loads(raw(cache, "str")["p"]["B"]) == "x"


def test_each_item_carries_a_ttl_in_whole_seconds_and_a_precise_expiry(cache):
    before = time.time()
    cache.set("k", "v", 30.25)
    item = raw(cache, "k")
    exp = float(item["exp"]["N"])
    assert before + 30.25 <= exp <= time.time() + 30.25
    assert item["expires_at"]["N"] == str(int(exp) + 1)
    assert item["prefix"] == {"S": cache.key_prefix}


def test_reads_ignore_expired_items_that_the_ttl_sweep_has_not_removed(cache):
    cache.set("late", 5, 0.2)
    cache.set_many({"late2": "x"}, 0.2)
    time.sleep(0.4)
    assert raw(cache, "late") is not None  # moto never sweeps; AWS sweeps up to 48 h late
    assert cache.get("late", "gone") == "gone"
    assert cache.has_key("late") is False
    assert cache.get_many(["late", "late2"]) == {}
    with pytest.raises(ValueError):
        cache.incr("late")
    assert cache.touch("late", 10) is False
    assert cache.add("late", 6) is True
    assert cache.get("late") == 6


def test_incr_keeps_the_expiry(cache):
    cache.set("value", 1, timeout=3000)
    exp = raw(cache, "value")["exp"]
    assert cache.incr("value") == 2
    assert cache.decr("value") == 1
    assert raw(cache, "value")["exp"] == exp


def test_incr_adds_to_floats_big_ints_and_float_deltas_as_python_does(cache):
    cache.set("float", 1.5)
    assert cache.incr("float") == 2.5
    assert cache.get("float") == 2.5
    cache.set("big", 10**40)
    assert cache.incr("big") == 10**40 + 1
    cache.set("int", 1)
    assert cache.incr("int", 0.5) == 1.5
    cache.set("text", "abc")
    with pytest.raises(TypeError):
        cache.incr("text")


def test_large_values_are_compressed(cache):
    value = "stock quote " * 100_000  # 1.2 MB pickled, over the item limit before compression
    cache.set("large", value)
    item = raw(cache, "large")
    assert "z" in item and "p" not in item
    assert cache.get("large") == value
    assert cache.get_many(["large"]) == {"large": value}


def test_an_incompressible_value_just_under_the_item_limit_is_stored(cache):
    value = os.urandom(MAX_ITEM_BYTES - 500)
    cache.set("near", value)
    assert "p" in raw(cache, "near")
    assert cache.get("near") == value


def test_a_value_too_large_even_compressed_raises_and_writes_nothing(cache):
    too_large = os.urandom(MAX_ITEM_BYTES + 1)
    cache.set("old", "kept")
    for write in (
        lambda: cache.set("big", too_large),
        lambda: cache.add("big", too_large),
        lambda: cache.set("old", too_large),
        lambda: cache.set_many({"small": 1, "big": too_large}),
    ):
        with pytest.raises(ValueError, match="at most 400,000 bytes, so nothing was written"):
            write()
    assert raw(cache, "big") is None
    assert raw(cache, "small") is None
    assert cache.get("old") == "kept"


def test_clear_spares_a_cache_with_another_key_prefix(family):
    cache, other = family["default"], family["prefix"]
    cache.set_many({"a": 1, "b": 2})
    other.set_many({"a": 10, "c": 30})
    cache.clear()
    assert cache.get_many(["a", "b"]) == {}
    assert other.get_many(["a", "c"]) == {"a": 10, "c": 30}
    other.clear()
    assert other.get_many(["a", "c"]) == {}


def test_get_set_and_delete_many_batch_250_keys(cache):
    data = {f"key{i}": i for i in range(250)}
    assert cache.set_many(data) == []
    assert cache.get_many([*data, "missing1", "missing2"]) == data
    cache.delete_many(list(data)[:200])
    assert cache.get_many(list(data)) == {f"key{i}": i for i in range(200, 250)}


def test_get_many_retries_unprocessed_keys_and_clear_pages_through_the_table(cache):
    # 60 values of 300 KB make an 18 MB answer: past BatchGetItem's 16 MB, DynamoDB returns UnprocessedKeys.
    data = {f"big{i}": os.urandom(300_000) for i in range(60)}
    cache.set_many(data, None)
    unprocessed = []

    def watch(parsed, **kwargs):
        unprocessed.append(len(parsed.get("UnprocessedKeys", {}).get(settings.DYNAMODB_TABLE_DJANGO_CACHE, {})
                               .get("Keys", [])))

    events = client("dynamodb").meta.events
    events.register("after-call.dynamodb.BatchGetItem", watch)
    try:
        assert cache.get_many(list(data)) == data
    finally:
        events.unregister("after-call.dynamodb.BatchGetItem", watch)
    assert len(unprocessed) > 1 and unprocessed[0] > 0 and unprocessed[-1] == 0
    cache.clear()  # a Scan page holds 1 MB, so this takes many pages
    assert cache.get_many(list(data)) == {}


def test_incr_is_atomic_across_20_threads(cache):
    cache.set("counter", 0)
    start = threading.Barrier(20)
    seen, errors = [], []

    def work():
        try:
            start.wait()
            for _ in range(10):
                seen.append(cache.incr("counter"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.get("counter") == 200
    assert sorted(seen) == list(range(1, 201))


def test_add_racing_in_10_threads_succeeds_once(cache):
    start = threading.Barrier(10)
    results = {}

    def work(i):
        start.wait()
        results[i] = cache.add("race", i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, added in results.items() if added]
    assert len(results) == 10 and len(winners) == 1
    assert cache.get("race") == winners[0]


def test_the_async_variants_work(cache):
    async def scenario():
        await cache.aset("a", 1)
        assert await cache.aget("a") == 1
        assert await cache.aget("missing", "dflt") == "dflt"
        assert await cache.aadd("a", 2) is False
        assert await cache.aadd("b", "x") is True
        assert await cache.aincr("a", 4) == 5
        assert await cache.adecr("a") == 4
        assert await cache.ahas_key("b") is True
        assert await cache.atouch("b", None) is True
        await cache.aset_many({"c": 3, "d": 4})
        assert await cache.aget_many(["a", "c", "d", "zz"]) == {"a": 4, "c": 3, "d": 4}
        await cache.adelete_many(["c", "d"])
        assert await cache.aget_many(["c", "d"]) == {}
        assert await cache.adelete("b") is True
        assert await cache.aget_or_set("e", lambda: 7) == 7
        assert await cache.aincr_version("e") == 2
        assert await cache.adecr_version("e", version=2) == 1
        assert sorted(await asyncio.gather(*(cache.aincr("a") for _ in range(10)))) == list(range(5, 15))
        assert await cache.aget("a") == 14
        await cache.aclear()
        assert await cache.aget("a") is None
        await cache.aclose()

    asyncio.run(scenario())


class Counting(DynamoDBCache):
    calls: list

    def get_many(self, *args, **kwargs):
        self.calls.append("get_many")
        return super().get_many(*args, **kwargs)

    def incr(self, *args, **kwargs):
        self.calls.append("incr")
        return super().incr(*args, **kwargs)


def test_async_get_many_and_incr_use_the_batched_and_atomic_calls(aws):
    counting = make_cache({"KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}"}, cls=Counting)
    counting.calls = []

    async def scenario():
        await counting.aset_many({"a": 1, "b": 2})
        assert await counting.aget_many(["a", "b"]) == {"a": 1, "b": 2}
        assert await counting.aincr("a") == 2

    try:
        asyncio.run(scenario())
        assert counting.calls == ["get_many", "incr"]
    finally:
        counting.clear()


# --- Wiring ----------------------------------------------------------------------------------------------


def test_the_default_cache_is_dynamodb_on_this_runs_table(aws):
    default = caches["default"]
    assert isinstance(default, DynamoDBCache)
    assert default._table == settings.DYNAMODB_TABLE_DJANGO_CACHE
    assert settings.DYNAMODB_TABLE_DJANGO_CACHE.startswith(settings.TEST_RUN_PREFIX)
    key = f"wiring-{uuid.uuid4().hex}"
    default.set(key, "on")
    assert default.get(key) == "on"
    assert default.delete(key) is True


def test_location_defaults_to_the_django_cache_table():
    assert DynamoDBCache("", {})._table == settings.DYNAMODB_TABLE_DJANGO_CACHE


def _backend_with(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "stocktool.settings.base", "DEBUG": "true", **env})
    code = "import django; django.setup(); from django.conf import settings as s; c = s.CACHES['default']; " \
           "print(c['BACKEND'], c['LOCATION'])"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_settings_use_dynamodb_when_enabled_and_locmem_otherwise():
    assert _backend_with(DYNAMODB_TABLE_DJANGO_CACHE="my-cache") == "stocktool.aws.cache.DynamoDBCache my-cache"
    assert _backend_with(DYNAMODB_ENABLED="false") == "django.core.cache.backends.locmem.LocMemCache stocktool"
