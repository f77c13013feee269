"""Oversized input everywhere: a 4xx with a JSON error body, and nothing written to the database or AWS."""

import json
import secrets

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from analysis.models import AnalysisJob
from conversations import selectors
from knowledge.models import KnowledgeDocument

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def user(django_user_model):
    # DynamoDB outlives each test's database transaction: a fresh id keeps other tests' conversations apart.
    return django_user_model.objects.create_user("big", password="a-long-password-1",
                                                 pk=secrets.randbelow(10**9) + 10**6)


@pytest.fixture
def api(aws, user):
    client = APIClient()  # a token, as API clients log in: no CSRF, no session
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def nothing_written(user):
    return (not AnalysisJob.objects.exists() and selectors.conversation_list_for_user(user=user)[0] == []
            and not KnowledgeDocument.objects.exists())


def refused(resp, status=400, needle=""):
    assert resp.status_code == status, resp.content[:300]
    assert resp["Content-Type"] == "application/json" and needle in resp.json()["error"], resp.json()
    return resp.json()["error"]


@pytest.mark.parametrize("path", ["/api/chat", "/api/analysis"])
def test_a_10_mb_json_body_is_413_json_not_a_500(api, user, path):
    body = json.dumps({"message": "x" * TEN_MB, "symbols": ["AAPL"] * 3})
    refused(api.post(path, body, content_type="application/json"), 413, "over 2,621,440 bytes")
    assert nothing_written(user)


@pytest.mark.parametrize("path", ["/api/chat", "/api/analysis"])
def test_json_nested_too_deep_is_400_not_a_500(api, user, path):
    body = "[" * 100_000 + "]" * 100_000
    refused(api.post(path, body, content_type="application/json"), 400, "nested too deeply")
    assert nothing_written(user)


def test_a_message_over_the_limit_is_400_with_its_length(api, user, settings):
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    refused(api.post("/api/chat", {"message": "y" * (limit + 1)}, format="json"), 400,
            f"is {limit + 1:,} characters long; the limit is {limit:,}")
    assert nothing_written(user)


@pytest.mark.parametrize("payload,needle", [
    ({"symbols": [f"S{i}" for i in range(1000)]}, "at most 25 symbols"),
    ({"symbols": ["A" * 10_000]}, "is not a ticker"),
    ({"symbols": ["AAPL"], "weights": [1.0] * 1000}, "at most 25 weights"),
    ('{"symbols": ["AAPL", "MSFT"], "weights": [1e999, 1]}', "valid number"),  # parsed as inf
    ({"symbols": ["AAPL", "MSFT"], "weights": [-1e308, 1]}, "greater than or equal to 0"),
    ({"symbols": ["AAPL"], "period": "p" * 100_000}, "period"),
    ({"symbols": ["AAPL"], "analysis_type": "t" * 100_000}, "analysis_type"),
])
def test_oversized_analysis_requests_are_400_and_create_no_job(api, user, payload, needle):
    body = payload if isinstance(payload, str) else json.dumps(payload)
    refused(api.post("/api/analysis", body, content_type="application/json"), 400, needle)
    assert nothing_written(user)


def test_huge_but_finite_weights_are_relative_not_zero(api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post("/api/analysis", {"symbols": ["AAPL", "MSFT"], "weights": [1e308, 1e308],
                                          "analysis_type": "performance", "period": "3mo"}, format="json")
    assert resp.status_code == 202, resp.content[:300]
    job = AnalysisJob.objects.get()
    assert job.status == "succeeded", job.error
    assert json.dumps(job.result)  # finite numbers only: the weights came out as halves, not zeros (NaN)


@pytest.mark.parametrize("path,params,needle", [
    ("/api/conversations", {"limit": 10**9}, "limit"),
    ("/api/conversations", {"limit": -1}, "limit"),
    ("/api/conversations", {"limit": "9" * 5000}, "limit"),
    ("/api/conversations", {"cursor": "c" * 5000}, "cursor"),
    ("/api/conversations", {"cursor": json.dumps({"user_id": {"S": "1"}})}, "cursor"),
    ("/api/conversations/abc", {"limit": 10**6}, "limit"),
    ("/api/knowledge/search", {"q": "q" * 501}, "q"),
    ("/api/knowledge/search", {"q": "risk " * 20_000}, "q"),
    ("/api/knowledge/search", {"q": "risk", "k": 10**9}, "k"),
    ("/api/knowledge/search", {"q": "risk", "k": 0}, "k"),
])
def test_oversized_query_parameters_are_400_json(api, user, path, params, needle):
    refused(api.get(path, params), 400, needle)


def test_a_conversation_id_of_any_length_is_404_json(api, user):
    refused(api.get("/api/conversations/" + "c" * 5000), 404, "No such conversation")
    refused(api.delete("/api/conversations/" + "c" * 5000), 404, "No such conversation")
    refused(api.post("/api/chat", {"message": "hi", "conversation_id": "c" * 201}, format="json"), 400,
            "conversation_id")
    assert nothing_written(user)


def test_an_unknown_api_path_is_a_json_404(api):
    refused(api.get("/api/analysis/" + "x" * 5000), 404, "Not found")
    refused(api.get("/api/no-such-thing"), 404, "Not found")
