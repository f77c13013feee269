"""Behaviour suite of the DynamoDB cache backend, after ``BaseCacheTests`` in Django's tests/cache/tests.py.

Everything runs over HTTP against the embedded moto server (the ``aws`` fixture). Each test gets its caches
under a KEY_PREFIX of its own, so tests never see each other's keys; expiry tests use sub-second timeouts,
which the backend's precise expiry supports.
"""

import time
import uuid
import zlib

import pytest

from tests.cache_support import C, f, make_cache, raw

pytestmark = pytest.mark.integration


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
