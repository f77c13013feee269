import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing.websocket import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from analysis.consumers import NotificationsConsumer
from analysis.handlers import analysis_finished_dispatch

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user):
    communicator = WebsocketCommunicator(NotificationsConsumer.as_asgi(), "/ws/notifications/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    return communicator, connected


def test_an_anonymous_socket_is_refused():
    async def body():
        communicator, connected = await _connect(AnonymousUser())
        assert not connected

    async_to_sync(body)()


def test_a_user_hears_only_about_their_own_analyses():
    async_to_sync(_hears_only_their_own)()


async def _hears_only_their_own():

    alice = await sync_to_async(get_user_model().objects.create_user)("alice", password="x-123456789")
    bob = await sync_to_async(get_user_model().objects.create_user)("bob", password="x-123456789")
    a, _ = await _connect(alice)
    b, _ = await _connect(bob)
    outcome = await sync_to_async(analysis_finished_dispatch)(
        {"event_type": "analysis_finished", "user_id": str(alice.pk), "analysis_id": "j1", "status": "succeeded"})
    assert outcome == "pushed"
    assert await a.receive_json_from(timeout=2) == {"type": "analysis_finished", "analysis_id": "j1",
                                                    "status": "succeeded"}
    assert await b.receive_nothing(timeout=0.3)
    await a.disconnect()
    await b.disconnect()
    assert get_channel_layer() is not None


def test_a_socket_hears_each_event_id_once():
    """Events are published at least once: the same event pushed twice reaches the page once."""
    async_to_sync(_each_event_once)()


async def _each_event_once():
    carol = await sync_to_async(get_user_model().objects.create_user)("carol", password="x-123456789")
    socket, _ = await _connect(carol)
    event = {"event_type": "analysis_finished", "user_id": str(carol.pk), "analysis_id": "j2",
             "status": "succeeded", "event_id": "e-1"}
    for message in (event, event, event | {"event_id": "e-2"}, event):
        assert await sync_to_async(analysis_finished_dispatch)(message) == "pushed"
    received = [await socket.receive_json_from(timeout=2) for _ in range(2)]
    assert [m["event_id"] for m in received] == ["e-1", "e-2"]
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
