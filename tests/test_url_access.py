"""Every URL pattern and WebSocket route, walked from the root resolvers, as an anonymous user and as another user.

The routes are listed at collection time, so a new one is tested without anyone adding it here. Path parameters
are filled with real objects that user A owns; user B is signed in, not staff, and owns nothing of A's.
"""

import re
import secrets
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils.regex_helper import normalize
from rest_framework.authtoken.models import Token

from analysis.models import AnalysisJob
from analysis.push import user_group
from conversations import selectors
from conversations.store import conversation_store
from knowledge.models import KnowledgeDocument
from stocktool.models import OutboxEvent
from stocktool.routing import websocket_urlpatterns

# Anyone may call these (names, or the route of an unnamed pattern). The webhook authenticates SNS itself
# (signature, certificate URL, topic); static files are not URL patterns (the ASGI handler serves them).
PUBLIC = {"login", "logout", "health", "sns-webhook", "admin:login", "admin:logout"}
# Signed in is not enough: staff only. Everything under admin: is staff only too.
STAFF_ONLY = {"monitoring", "metrics-summary", "knowledge-sync"}
# Path parameters that name one user's object: another user must get 404 (or 403).
OWNED = {"conversation_id", "job_id"}
METHODS = ("get", "post", "delete")
CONVERSATION_TITLE = "Alice's private portfolio question"


def _walk(resolver, parts=(), namespaces=()):
    for entry in resolver.url_patterns:
        parts_here = (*parts, normalize(entry.pattern.regex.pattern)[0])
        if isinstance(entry, URLResolver):
            yield from _walk(entry, parts_here, (*namespaces, entry.namespace) if entry.namespace else namespaces)
            continue
        template = "".join(text for text, _ in parts_here)
        params = [name for _, names in parts_here for name in names]
        name = ":".join((*namespaces, entry.name)) if entry.name else None
        shown = re.sub(r"%\((\w+)\)s", r"<\1>", template)
        yield {"key": name or f"/{shown}", "name": name, "template": template, "params": params,
               "view": entry.callback}


ROUTES = list(_walk(get_resolver()))


def _key(route) -> str:
    return route["key"]


def _is_staff_only(route) -> bool:
    return route["key"] in STAFF_ONLY or route["template"].startswith("admin/")


def _login_url(route) -> str:
    return reverse("admin:login") if route["template"].startswith("admin/") else reverse(settings.LOGIN_URL)


def _unique_pk() -> int:
    # DynamoDB outlives each test's database transaction: a fresh id keeps users' conversations apart.
    return secrets.randbelow(10**9) + 10**6


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="a-long-password-1", pk=_unique_pk())


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="a-long-password-2", pk=_unique_pk())


@pytest.fixture
def owned(aws, alice):
    """A conversation, an analysis, a token and a knowledge document of Alice's (and a group): ids by name."""
    conversation_id = uuid.uuid4().hex
    conversation_store().put_conversation(
        conversation_id, [{"role": "user", "content": CONVERSATION_TITLE}, {"role": "assistant", "content": "Sure."}],
        user_id=str(alice.pk), ttl_hours=1, title=CONVERSATION_TITLE)
    job = AnalysisJob.objects.create(user=alice, symbols=["AAPL", "MSFT"], weights=[0.5, 0.5], status="succeeded",
                                     result={"symbols": ["AAPL", "MSFT"], "weights": [0.5, 0.5]})
    document = KnowledgeDocument.objects.create(key=f"{settings.KNOWLEDGE_PREFIX}alice-notes.md", title="Notes",
                                                uploaded_by=alice)
    return {
        "conversation_id": conversation_id, "job_id": str(job.pk),
        "objects": {"auth/user": alice.pk, "auth/group": Group.objects.create(name="analysts").pk,
                    "authtoken/tokenproxy": Token.objects.create(user=alice).pk,
                    "knowledge/knowledgedocument": document.pk, "analysis/analysisjob": job.pk,
                    "stocktool/outboxevent": OutboxEvent.objects.create(
                        event_type="analysis_finished", about=f"analysis:{job.pk}", payload={}).pk},
        "content_type_id": ContentType.objects.get_for_model(AnalysisJob).pk,
    }


def _url(route, owned) -> str:
    values = {}
    for param in route["params"]:
        if param in OWNED:
            values[param] = owned[param]
        elif param == "content_type_id":  # the admin's "view on site" link
            values[param] = owned["content_type_id"]
        elif param == "object_id" and route["template"].startswith("admin/r/"):
            values[param] = owned["job_id"]
        elif param in ("object_id", "id"):  # admin/<app>/<model>/<object_id>/...
            model = "/".join(route["template"].split("/")[1:3])
            assert model in owned["objects"], f"{route['key']}: give the fixture an object of {model}"
            values[param] = owned["objects"][model]
        elif param == "document_id":  # the knowledge base is shared: any signed-in user may read a document
            values[param] = owned["objects"]["knowledge/knowledgedocument"]
        elif param == "app_label":
            values[param] = "analysis"
        elif param == "fmt":  # an analysis's download
            values[param] = "json"
        elif param == "url":  # the admin's catch-all
            values[param] = "no-such-page/"
        else:
            pytest.fail(f"{route['key']}: no value for path parameter {param!r}; add one to _url()")
    url = "/" + route["template"] % values
    assert resolve(url).func is route["view"], f"{url} does not reach the view of {route['key']}"
    return url


def _refused(route, response) -> bool:
    if response.status_code == 302:
        return response["Location"].startswith(_login_url(route))
    return response.status_code in (401, 403)


def _call(client, method, url):
    return getattr(client, method)(url, follow=False)


def test_the_walk_finds_every_kind_of_route():
    keys = {_key(r) for r in ROUTES}
    assert {"home", "chat-api", "analysis-detail", "api-docs", "admin:index", "admin:auth_user_change"} <= keys
    assert any(r["name"] is None for r in ROUTES)  # unnamed ones too (the admin's catch-all)


def test_the_lists_have_no_stale_entries():
    keys = {_key(r) for r in ROUTES}
    assert PUBLIC - keys == set()
    assert STAFF_ONLY - keys == set()
    assert OWNED <= {p for r in ROUTES for p in r["params"]}


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if _key(r) not in PUBLIC], ids=_key)
def test_anonymous_is_sent_to_log_in_or_refused(route, owned):
    url, client = _url(route, owned), Client()
    responses = {method: _call(client, method, url) for method in METHODS}
    refused = {m for m, r in responses.items() if _refused(route, r)}
    assert refused, f"{url}: {({m: r.status_code for m, r in responses.items()})}"
    assert all(m in refused or r.status_code == 405 for m, r in responses.items()), \
        f"{url}: {({m: r.status_code for m, r in responses.items()})}"
    for response in responses.values():
        if response.status_code in (401, 403) and response["Content-Type"].startswith("application/json"):
            assert "error" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if _key(r) in PUBLIC], ids=_key)
def test_public_routes_answer_anonymous_without_failing(route, owned):
    url = _url(route, owned)
    for method in METHODS:
        assert _call(Client(), method, url).status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if _key(r) not in PUBLIC], ids=_key)
def test_another_user_gets_nothing_of_alices(route, owned, alice, bob):
    url, client = _url(route, owned), Client()
    client.force_login(bob)
    responses = {method: _call(client, method, url) for method in METHODS}
    statuses = {m: r.status_code for m, r in responses.items()}
    if _is_staff_only(route):
        assert all(_refused(route, r) or r.status_code == 405 for r in responses.values()), f"{url}: {statuses}"
        assert any(_refused(route, r) for r in responses.values()), f"{url}: {statuses}"
    elif OWNED & set(route["params"]):
        assert all(s in (403, 404, 405) for s in statuses.values()), f"{url}: {statuses}"
        assert any(s in (403, 404) for s in statuses.values()), f"{url}: {statuses}"
    for response in responses.values():
        assert response.status_code < 500, f"{url}: {statuses}"
        body = response.content.decode(errors="replace")
        assert owned["conversation_id"] not in body and CONVERSATION_TITLE not in body and owned["job_id"] not in body
    # Nothing of Alice's was changed or deleted.
    assert selectors.conversation_messages_for_user(user=alice, conversation_id=owned["conversation_id"])
    assert AnalysisJob.objects.filter(pk=owned["job_id"], user=alice).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if OWNED & set(r["params"]) and not _is_staff_only(r)],
                         ids=_key)
def test_the_owner_reaches_the_same_urls(route, owned, alice):
    """The control for the 404s above: the ids are real, and Alice's own."""
    client = Client()
    client.force_login(alice)
    assert _call(client, "get", _url(route, owned)).status_code in (200, 405)


# --- WebSockets: every route of the ASGI router, through its real middleware (origin check, session auth) ------
def _ws_paths() -> list[str]:
    return ["/" + normalize(p.pattern.regex.pattern)[0][0] for p in websocket_urlpatterns]


def _headers(client=None, origin="http://localhost") -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
    if client is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
                        .encode()))
    return headers


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def _connect(path, headers):
    from stocktool.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


def test_every_websocket_route_is_walked():
    assert set(_ws_paths()) == {"/ws/chat/", "/ws/notifications/"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", _ws_paths())
def test_an_anonymous_socket_is_refused(path):
    async def body():
        communicator, connected = await _connect(path, _headers())
        assert not connected
        await communicator.disconnect()

    async_to_sync(body)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", _ws_paths())
def test_a_socket_from_another_site_is_refused(path, bob):
    headers = _headers(_signed_in(bob), origin="https://evil.example")

    async def body():
        communicator, connected = await _connect(path, headers)
        assert not connected
        await communicator.disconnect()

    async_to_sync(body)()


@pytest.mark.django_db(transaction=True)
def test_the_chat_socket_refuses_another_users_conversation(owned, alice, bob):
    headers = _headers(_signed_in(bob))

    async def body():
        communicator, connected = await _connect("/ws/chat/", headers)
        assert connected
        await communicator.send_json_to({"message": "what did you say?", "conversation_id": owned["conversation_id"]})
        event = await communicator.receive_json_from(timeout=10)
        await communicator.disconnect()
        return event

    assert async_to_sync(body)() == {"type": "error", "code": "not_found", "error": "No such conversation."}
    header, messages = selectors.conversation_messages_for_user(user=alice, conversation_id=owned["conversation_id"])
    assert len(messages) == 2


@pytest.mark.django_db(transaction=True)
def test_the_notifications_socket_tells_only_the_owner(owned, alice, bob):
    bob_headers, alice_headers = _headers(_signed_in(bob)), _headers(_signed_in(alice))

    async def body():
        bobs, connected = await _connect("/ws/notifications/", bob_headers)
        assert connected
        alices, connected = await _connect("/ws/notifications/", alice_headers)
        assert connected
        payload = {"type": "analysis_finished", "analysis_id": owned["job_id"]}
        await get_channel_layer().group_send(user_group(alice.pk), {"type": "notify", "payload": payload})
        assert await alices.receive_json_from(timeout=5) == payload
        assert await bobs.receive_nothing(timeout=0.3)
        await alices.disconnect()
        await bobs.disconnect()

    async_to_sync(body)()
