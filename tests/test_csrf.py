"""CSRF: forms and session-authenticated API calls need the token; token and basic auth do not; nothing is exempt
without a reason."""

import base64
import secrets

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.authentication import BasicAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.views import APIView

from analysis.models import AnalysisJob
from conversations import selectors

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-1"
# Views that take POSTs from elsewhere and authenticate them another way.
CSRF_EXEMPT = {"sns-webhook": "SNS signs every message; the view verifies the signature, certificate and topic"}


@pytest.fixture
def alice(django_user_model):
    # A fresh id: conversations in DynamoDB outlive each test's database transaction.
    return django_user_model.objects.create_user("alice", password=PASSWORD, pk=secrets.randbelow(10**9) + 10**6)


@pytest.fixture
def browser(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    return client


def _csrf_token(client) -> str:
    client.get("/")  # any page with a form sets the cookie
    return client.cookies["csrftoken"].value


def _views():
    def walk(resolver, namespaces=()):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, (*namespaces, entry.namespace) if entry.namespace else namespaces)
            else:
                yield ":".join((*namespaces, entry.name or str(entry.pattern))), entry.callback

    return list(walk(get_resolver()))


@pytest.mark.parametrize(("path", "data"), [
    ("/", {"message": "What is AAPL stock price?"}),
    ("/analysis/", {"symbols": "AAPL, MSFT", "analysis_type": "risk_assessment", "period": "1y"}),
    ("/accounts/logout/", {}),
])
def test_a_form_post_without_the_token_is_403(aws, browser, alice, path, data):
    assert browser.post(path, data).status_code == 403
    assert selectors.conversation_list_for_user(user=alice)[0] == []
    assert not AnalysisJob.objects.exists()
    assert browser.get("/").status_code == 200  # still signed in: the logout was refused too


def test_the_conversation_forms_need_the_token(aws, browser, alice):
    token = _csrf_token(browser)
    sent = browser.post("/", {"message": "What is an ETF?", "csrfmiddlewaretoken": token})
    assert sent.status_code == 302
    conversation_id = selectors.conversation_list_for_user(user=alice)[0][0]["conversation_id"]
    assert browser.post(f"/chat/{conversation_id}/", {"message": "and a bond?"}).status_code == 403
    assert browser.post(f"/chat/{conversation_id}/delete/").status_code == 403
    assert selectors.conversation_messages_for_user(user=alice, conversation_id=conversation_id)[0][
        "message_count"] == 2


def test_the_log_in_form_needs_the_token(alice):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 403
    client.get("/accounts/login/")
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD,
                                                 "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert signed_in.status_code == 302


@pytest.mark.parametrize(("path", "body"), [
    ("/api/chat", {"message": "What is AAPL stock price?"}),
    ("/api/analysis", {"symbols": ["AAPL", "MSFT"]}),
])
def test_a_session_api_post_needs_the_token(aws, browser, alice, path, body):
    refused = browser.post(path, body, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    assert selectors.conversation_list_for_user(user=alice)[0] == [] and not AnalysisJob.objects.exists()
    token = _csrf_token(browser)
    accepted = browser.post(path, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert accepted.status_code in (200, 202), accepted.content[:300]


def test_token_and_basic_auth_need_no_csrf_token(aws, alice):
    token = Token.objects.create(user=alice).key
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    for authorization in (f"Token {token}", f"Basic {basic}"):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/api/chat", {"message": "What is an ETF?"}, content_type="application/json",
                               headers={"Authorization": authorization})
        assert response.status_code == 200, (authorization.split()[0], response.content[:300])
    assert len(selectors.conversation_list_for_user(user=alice)[0]) == 2


def test_nothing_is_csrf_exempt_without_a_reason():
    exempt = set()
    for name, callback in _views():
        view_class = getattr(callback, "view_class", None)
        if view_class is not None and issubclass(view_class, APIView):
            # DRF marks its views exempt and checks CSRF itself, in SessionAuthentication; the other two
            # schemes carry credentials no browser sends on its own.
            assert set(view_class.authentication_classes) <= {SessionAuthentication, BasicAuthentication,
                                                              TokenAuthentication}, name
        elif getattr(callback, "csrf_exempt", False):
            exempt.add(name)
    assert exempt == set(CSRF_EXEMPT)
