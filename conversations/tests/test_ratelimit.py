"""CHAT_RATE_LIMIT: one count per user over the API, the form post and the WebSocket; refused messages store nothing."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings
from rest_framework.test import APIClient

from conversations import selectors
from conversations.consumers import ChatConsumer
from conversations.ratelimit import chat_rate_parse, chat_rate_take

pytestmark = pytest.mark.django_db(transaction=True)  # the WebSocket's database calls run on another thread


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _form(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _socket_turns(user, messages: list[str]) -> list[dict]:
    """Send ``messages`` one after another over one socket; return each turn's last event."""

    async def body():
        communicator = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
        communicator.scope["user"] = user
        assert (await communicator.connect())[0]
        conversation_id, last = None, []
        for message in messages:
            await communicator.send_json_to({"message": message, "conversation_id": conversation_id})
            while (event := await communicator.receive_json_from(timeout=10))["type"] not in ("done", "error"):
                pass
            conversation_id = event.get("conversation_id") or conversation_id
            last.append(event)
        await communicator.disconnect()
        return last

    return async_to_sync(body)()


def _stored_messages(user) -> int:
    return sum(c["message_count"] for c in selectors.conversation_list_for_user(user=user, limit=100)[0])


@override_settings(CHAT_RATE_LIMIT="30/min")
def test_the_31st_message_in_a_minute_is_refused_on_every_interface(aws, knowledge_base, user, other):
    api, form = _api(user), _form(user)
    conversation_id = None
    for _ in range(10):
        response = api.post("/api/chat", {"message": "hello", "conversation_id": conversation_id}, format="json")
        assert response.status_code == 200
        conversation_id = response.json()["conversation_id"]
    url = "/"
    for _ in range(10):
        response = form.post(url, {"message": "hello"})
        assert response.status_code == 302
        url = response["Location"].split("#")[0]
    assert [e["type"] for e in _socket_turns(user, ["hello"] * 10)] == ["done"] * 10
    assert _stored_messages(user) == 60

    refused = api.post("/api/chat", {"message": "hello", "conversation_id": conversation_id}, format="json")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"].startswith("Too many messages: the limit is 30 a minute. Try again in ")
    page = form.post(url, {"message": "one more"})
    assert page.status_code == 429 and "Too many messages: the limit is 30 a minute." in page.content.decode()
    assert 'one more</textarea>' in page.content.decode()  # the draft is kept for later
    [event] = _socket_turns(user, ["hello"])
    assert event["type"] == "error" and event["code"] == "rate_limited" and 1 <= event["retry_after"] <= 60
    assert _stored_messages(user) == 60

    assert _api(other).post("/api/chat", {"message": "hello"}, format="json").status_code == 200  # per user


@override_settings(CHAT_RATE_LIMIT="2/s")
def test_the_window_reopens_after_its_period(user):
    assert [chat_rate_take(user=user) for _ in range(3)] == [None, None, 1]
    time.sleep(2.1)  # the cache's expiry is checked on read; allow a second of rounding
    assert chat_rate_take(user=user) is None


@pytest.mark.parametrize(("rate", "parsed"), [("30/min", (30, 60)), ("5/s", (5, 1)), ("1000/day", (1000, 86400)),
                                              ("100/hour", (100, 3600))])
def test_rates_parse(rate, parsed):
    assert chat_rate_parse(rate) == parsed
