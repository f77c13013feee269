import threading
import time
import uuid

import pytest

from conversations.dynamodb_store import ConversationStore, ItemTooLarge
from stocktool.aws import get_dynamodb_service

pytestmark = pytest.mark.integration


@pytest.fixture
def store(aws):
    return get_dynamodb_service("conversation")


@pytest.fixture
def cache(aws):
    return get_dynamodb_service("cache")


def new_id():
    return f"c-{uuid.uuid4()}"


def test_a_conversation_with_one_message_returns_one_message(store):
    cid = new_id()
    store.put_conversation(cid, [{"role": "user", "content": "What is AAPL trading at?"}], user_id="42")
    messages = store.get_conversation(cid)
    assert len(messages) == 1
    assert messages[0]["role"] == "user" and messages[0]["content"] == "What is AAPL trading at?"
    assert messages[0]["created_at"].endswith("Z") and messages[0]["id"]


def test_messages_keep_tool_calls_token_counts_and_floats(store):
    cid = new_id()
    store.put_conversation(cid, [
        {"role": "user", "content": "compare"},
        {"role": "assistant", "content": "done", "tool_calls": [{"name": "get_stock_quote", "args": {"symbol": "MSFT"}}],
         "tokens": {"prompt": 12, "completion": 30}, "sources": [{"price": 412.37, "weight": 0.1}]},
    ])
    answer = store.get_conversation(cid)[1]
    assert answer["tool_calls"] == [{"name": "get_stock_quote", "args": {"symbol": "MSFT"}}]
    assert answer["tokens"] == {"prompt": 12, "completion": 30}
    assert answer["sources"] == [{"price": 412.37, "weight": 0.1}]


def test_eight_threads_appending_100_messages_each_lose_nothing_and_keep_order(store):
    cid = new_id()
    errors = []

    def writer(n):
        try:
            for i in range(100):
                store.append_message(cid, {"role": "user", "content": f"{n}:{i}"}, user_id="7")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    messages = store.get_conversation(cid)
    assert len(messages) == 800
    assert len({m["id"] for m in messages}) == 800
    for n in range(8):
        mine = [int(m["content"].split(":")[1]) for m in messages if m["content"].startswith(f"{n}:")]
        assert mine == list(range(100))
    assert store.get_header(cid)["message_count"] == 800
    recent = store.get_recent(cid, 50)
    assert [m["id"] for m in recent] == [m["id"] for m in messages[-50:]]


def test_the_recent_window_matches_the_full_history_after_it_is_trimmed(store):
    cid = new_id()
    for i in range(ConversationStore.WINDOW * 2 + 30):
        store.append_message(cid, {"role": "assistant" if i % 2 else "user", "content": f"m{i}"})
    history = store.get_conversation(cid)
    assert len(history) == ConversationStore.WINDOW * 2 + 30
    assert store.get_recent(cid, 50) == history[-50:]
    assert store.get_conversation(cid, limit=50) == history[-50:]
    assert store.get_recent(cid, 10) == history[-10:]


def test_large_messages_come_back_whole_from_the_recent_window(store):
    cid = new_id()
    big = "x" * 50_000
    store.put_conversation(cid, [{"role": "user", "content": "hi"}, {"role": "assistant", "content": big}])
    recent = store.get_recent(cid)
    assert [m["content"] for m in recent] == ["hi", big]


def test_a_message_over_the_item_limit_is_refused_and_nothing_is_written(store):
    cid = new_id()
    with pytest.raises(ItemTooLarge, match="400"):
        store.put_conversation(cid, [{"role": "user", "content": "ok"}, {"role": "user", "content": "y" * 410_000}])
    assert store.get_header(cid) is None
    assert store.get_conversation(cid) == []


def test_bad_messages_are_refused(store):
    with pytest.raises(ValueError, match="role"):
        store.put_conversation(new_id(), [{"role": "hacker", "content": "x"}])


def test_an_expired_conversation_is_never_returned(store):
    cid = new_id()
    # Two seconds (expiry is kept in whole seconds, so at least one second of life is left for the first read).
    store.put_conversation(cid, [{"role": "user", "content": "short-lived"}], user_id="ttl-user", ttl_hours=2 / 3600)
    assert store.get_conversation(cid)
    time.sleep(3.1)
    assert store.get_conversation(cid) == []
    assert store.get_recent(cid) == []
    assert store.get_header(cid) is None
    assert store.list_conversations("ttl-user")[0] == []


def test_a_users_conversations_are_listed_newest_first_with_pages(store):
    user = f"u-{uuid.uuid4().hex[:6]}"
    ids = []
    for n in range(5):
        cid = new_id()
        store.put_conversation(cid, [{"role": "user", "content": f"q{n}"}], user_id=user, title=f"Chat {n}")
        ids.append(cid)
        time.sleep(0.002)
    store.append_message(ids[1], {"role": "assistant", "content": "later"}, user_id=user)
    first, cursor = store.list_conversations(user, limit=3)
    rest, end = store.list_conversations(user, limit=3, cursor=cursor)
    listed = [c["conversation_id"] for c in first + rest]
    assert listed == [ids[1], ids[4], ids[3], ids[2], ids[0]]
    assert end is None or store.list_conversations(user, limit=3, cursor=end)[0] == []
    assert first[0]["title"] == "Chat 1" and first[0]["message_count"] == 2


def test_messages_page_backwards_with_a_cursor(store):
    cid = new_id()
    store.put_conversation(cid, [{"role": "user", "content": str(i)} for i in range(7)])
    page1, cursor = store.get_messages_page(cid, limit=3)
    page2, cursor2 = store.get_messages_page(cid, limit=3, cursor=cursor)
    assert [m["content"] for m in page1] == ["6", "5", "4"]
    assert [m["content"] for m in page2] == ["3", "2", "1"]
    assert cursor2 is not None


def test_delete_removes_the_conversation(store):
    cid = new_id()
    store.put_conversation(cid, [{"role": "user", "content": str(i)} for i in range(30)], user_id="del")
    assert store.delete_conversation(cid) == 31
    assert store.get_conversation(cid) == [] and store.get_header(cid) is None


def test_cache_round_trips_floats_and_nested_data_exactly(cache):
    value = {"price": 187.43, "change_pct": -0.0123456789, "volume": 51234567, "history": [1.1, 2.2, 3.3],
             "nested": {"a": [0.1, {"b": 1e-7}]}, "name": "Apple"}
    cache.put_cache_item("AAPL", value)
    assert cache.get_cache_item("AAPL") == value
    assert cache.get_cache_item("AAPL", namespace="profile") is None


def test_a_cache_item_with_a_one_second_ttl_is_gone_two_seconds_later(cache):
    cache.put_cache_item("MSFT", {"price": 1.5}, ttl_seconds=1)
    assert cache.get_cache_item("MSFT") == {"price": 1.5}
    time.sleep(2)
    assert cache.get_cache_item("MSFT") is None


def test_a_large_value_round_trips_compressed_and_floats_stay_floats(cache):
    history = {"columns": {"date": [f"2020-01-{i % 28 + 1:02d}" for i in range(2600)],
                           "close": [100.0 + i * 0.01 for i in range(2600)], "volume": list(range(2600))}}
    cache.put_cache_item("SPY", history, ttl_seconds=60, namespace="history:10y")
    back = cache.get_cache_item("SPY", namespace="history:10y")
    assert back == history
    assert isinstance(back["columns"]["close"][0], float)


def test_a_value_too_large_even_compressed_is_refused_and_nothing_is_written(cache):
    import os

    noise = os.urandom(500_000).hex()  # about 500 KB even compressed
    with pytest.raises(ItemTooLarge, match="400 KB"):
        cache.put_cache_item("BIG", {"noise": noise}, namespace="blob")
    assert cache.get_cache_item("BIG", namespace="blob") is None


def test_message_items_expire_with_the_conversations_last_activity(store, settings):
    from conversations.dynamodb_store import HEADER_SK
    from stocktool.aws.dynamodb import TTL_ATTRIBUTE
    from stocktool.aws.session import client

    cid = new_id()
    ttl_hours = 4 / 3600  # a refresh is due after half the TTL: two seconds
    store.put_conversation(cid, [{"role": "user", "content": "first"}], ttl_hours=ttl_hours)
    time.sleep(2.2)
    store.put_conversation(cid, [{"role": "user", "content": "second"}], ttl_hours=ttl_hours)
    items = client("dynamodb").query(
        TableName=settings.DYNAMODB_TABLE_CONVERSATIONS, KeyConditionExpression="conversation_id = :c",
        ExpressionAttributeValues={":c": {"S": cid}})["Items"]
    expiries = {i["timestamp"]["S"]: int(i[TTL_ATTRIBUTE]["N"]) for i in items}
    header_expiry = expiries.pop(HEADER_SK)
    assert len(expiries) == 2 and set(expiries.values()) == {header_expiry}
    assert [m["content"] for m in store.get_conversation(cid)] == ["first", "second"]
