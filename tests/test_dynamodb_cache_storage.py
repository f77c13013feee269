"""What the DynamoDB cache adds to Django's contract: how it stores, expiry on read, sizes, batches, threads,
async, and its wiring in the settings."""

import asyncio
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

from stocktool.aws.cache import MAX_ITEM_BYTES, DynamoDBCache
from stocktool.aws.session import client
from tests.cache_support import ROOT, make_cache, raw

pytestmark = pytest.mark.integration


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
