"""The chat WebSocket through Channels' WebsocketCommunicator: streaming, tools shown, errors."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from conversations import selectors
from conversations.consumers import ChatConsumer

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user):
    communicator = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


async def _turn(communicator, message, conversation_id=None):
    """Send one message; return (events, ms to the first token)."""
    started = time.perf_counter()
    await communicator.send_json_to({"message": message, "conversation_id": conversation_id})
    events, first_token = [], None
    while True:
        event = await communicator.receive_json_from(timeout=10)
        events.append(event)
        if event["type"] == "token" and first_token is None:
            first_token = (time.perf_counter() - started) * 1000
        if event["type"] in ("done", "error"):
            return events, first_token


def test_an_anonymous_socket_is_refused():
    async def body():
        _, connected, code = await _connect(AnonymousUser())
        assert not connected and code == 4401

    async_to_sync(body)()


def test_the_answer_streams_with_its_tools_then_renders(aws, knowledge_base, user):
    async def body():
        communicator, connected, _ = await _connect(user)
        assert connected
        await _turn(communicator, "hello")  # warm-up: first use of the tools and templates in this process
        events, _ = await _turn(communicator, "What is AAPL stock price?")  # the time: benchmarks/bench_chat.py
        kinds = [e["type"] for e in events]
        assert kinds[0] == "start" and events[0]["new"] is True
        assert events[0]["title"] == "What is AAPL stock price?"  # the page's heading, as the server renders it
        assert kinds[1:5] == ["tool_start", "tool_end", "tool_start", "tool_end"]
        assert events[1]["name"] == "get_stock_quote" and events[2]["ok"] is True
        assert kinds.count("token") >= 3 and kinds[-1] == "done"
        done = events[-1]
        assert "".join(e["text"] for e in events if e["type"] == "token") == done["answer"]
        assert "<svg" in done["html"] and "get_stock_quote" in done["html"] and "as of" in done["html"]

        follow_up, _ = await _turn(communicator, "compare it with MSFT over the last year", done["conversation_id"])
        compare = next(e for e in follow_up if e["type"] == "tool_start")
        assert compare["name"] == "compare_stocks" and compare["arguments"]["symbols"] == ["AAPL", "MSFT"]
        assert follow_up[0]["new"] is False and "title" not in follow_up[0]
        await communicator.disconnect()
        return done["conversation_id"]

    conversation_id = async_to_sync(body)()
    messages = selectors.conversation_messages_for_user(user=user, conversation_id=conversation_id)[1]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2


def test_errors_come_back_as_events_and_store_nothing(aws, knowledge_base, user, other):
    async def body():
        communicator, _, _ = await _connect(user)
        events, _ = await _turn(communicator, "   ")
        assert events == [{"type": "error", "code": "input", "error": "The message is empty: type a question first."}]
        events, _ = await _turn(communicator, "x" * 100_000)
        assert events[0]["code"] == "input" and "limit is 4,000" in events[0]["error"]
        events, _ = await _turn(communicator, "hi", "not-a-conversation")
        assert events[0]["code"] == "not_found"
        theirs, _, _ = await _connect(other)
        done, _ = await _turn(theirs, "hello")
        events, _ = await _turn(communicator, "hi", done[-1]["conversation_id"])
        assert events[0]["code"] == "not_found"
        await communicator.send_json_to(["not", "an", "object"])
        assert (await communicator.receive_json_from())["code"] == "input"
        await communicator.disconnect()
        await theirs.disconnect()

    async_to_sync(body)()
    assert selectors.conversation_list_for_user(user=user)[0] == []


def test_html_in_the_answer_is_sanitised(aws, knowledge_base, user):
    async def body():
        communicator, _, _ = await _connect(user)
        events, _ = await _turn(communicator, "What is the price of <img src=x onerror=alert(1)> and $ZZZZQ?")
        await communicator.disconnect()
        return events[-1]

    done = async_to_sync(body)()
    assert done["type"] == "done" and "“ZZZZQ”" in done["answer"] and "onerror" not in done["answer"]
    assert "<img" not in done["html"] and "onerror=" not in done["html"]
