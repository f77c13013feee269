"""The DynamoDB cache (Django's BaseCacheTests, continued): key warnings, versions, get_or_set."""

import pickle
import uuid

import pytest
from django.core.cache import CacheKeyWarning, InvalidCacheKey

from stocktool.aws.cache import DynamoDBCache
from tests.cache_support import KEY_ERRORS_WITH_MEMCACHED_MSG, Unpicklable, make_cache, raw

pytestmark = pytest.mark.integration


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
