"""The chat API: session and token auth, JSON errors, ownership, and the OpenAPI schema."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations import selectors

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(aws, knowledge_base, user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _chat(client, message, conversation_id=None, status=200):
    body = {"message": message} | ({"conversation_id": conversation_id} if conversation_id is not None else {})
    response = client.post("/api/chat", body, format="json")
    assert response.status_code == status, response.content[:400]
    return response.json()


def test_chat_answers_with_reply_tool_calls_and_sources(api):
    body = _chat(api, "What is AAPL stock price?")
    assert set(body) == {"conversation_id", "message_id", "reply", "reply_html", "tool_calls", "sources", "cards",
                         "model", "tokens"}
    assert "AAPL" in body["reply"] and "<strong>AAPL</strong>" in body["reply_html"]
    assert body["tool_calls"][0]["name"] == "get_stock_quote" and body["tool_calls"][0]["source"] == "demo"
    assert body["sources"][0]["kind"] == "market_data" and body["sources"][0]["as_of"]
    follow = _chat(api, "compare it with MSFT over the last year", body["conversation_id"])
    assert follow["conversation_id"] == body["conversation_id"]
    assert follow["tool_calls"][0]["arguments"]["symbols"] == ["AAPL", "MSFT"]


def test_conversations_are_listed_shown_and_deleted(api, user):
    first = _chat(api, "What is an ETF?")
    _chat(api, "hello")
    listed = api.get("/api/conversations").json()
    assert [c["title"] for c in listed["results"]] == ["hello", "What is an ETF?"] and listed["next_cursor"] is None
    page = api.get("/api/conversations?limit=1").json()
    assert len(page["results"]) == 1 and page["next_cursor"]
    rest = api.get("/api/conversations", {"limit": 1, "cursor": page["next_cursor"]}).json()
    assert [c["title"] for c in rest["results"]] == ["What is an ETF?"]
    detail = api.get(f"/api/conversations/{first['conversation_id']}").json()
    assert detail["conversation"]["message_count"] == 2
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["sources"][0]["title"] == "Glossary of common financial terms"
    assert api.delete(f"/api/conversations/{first['conversation_id']}").status_code == 204
    assert api.get(f"/api/conversations/{first['conversation_id']}").status_code == 404


@pytest.mark.parametrize(("body", "error"), [
    ({"message": ""}, "message: The message is empty"),
    ({"message": "   "}, "message: The message is empty"),
    ({"message": "x" * 102_400}, "message: The message is 102,400 characters long; the limit is 4,000"),
    ({}, "message: This field is required."),
    ({"message": None}, "message: This field may not be null."),
    ({"message": ["a"]}, "message: Not a valid string."),
])
def test_bad_input_is_400_json_and_stores_nothing(api, user, body, error):
    response = api.post("/api/chat", body, format="json")
    assert response.status_code == 400 and response.json()["error"].startswith(error)
    assert selectors.conversation_list_for_user(user=user)[0] == []


def test_malformed_json_is_400(api):
    response = api.post("/api/chat", "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["error"]


@pytest.mark.parametrize("conversation_id", ["garbage", "0" * 32, "../x", "<script>", "a" * 199])
def test_garbage_ids_are_404_json(api, conversation_id):
    assert _chat(api, "hello", conversation_id, status=404) == {"error": "No such conversation."}
    assert api.get(f"/api/conversations/{conversation_id}").status_code in (404,)


def test_other_users_conversations_are_404(api, user, other):
    mine = _chat(api, "What is AAPL stock price?")["conversation_id"]
    theirs = APIClient()
    theirs.force_authenticate(other)
    assert theirs.get(f"/api/conversations/{mine}").json() == {"error": "No such conversation."}
    assert theirs.delete(f"/api/conversations/{mine}").status_code == 404
    _chat(theirs, "hello", mine, status=404)
    assert theirs.get("/api/conversations").json()["results"] == []
    assert api.get(f"/api/conversations/{mine}").json()["conversation"]["message_count"] == 2


def test_html_and_script_in_a_message(api):
    body = _chat(api, "<script>alert(1)</script><b>What is MSFT price?</b>")
    assert body["tool_calls"][0]["arguments"] == {"symbol": "MSFT"}
    assert "<script" not in body["reply_html"]


def test_unknown_tickers_are_answered_not_errors(api):
    body = _chat(api, "Compare ZZZQ and QQQZ")
    assert "couldn't find a stock listing for “ZZZQ”, “QQQZ”" in body["reply"]


def test_token_and_session_auth(aws, knowledge_base, user, client):
    anonymous = APIClient()
    assert anonymous.post("/api/chat", {"message": "hi"}, format="json").status_code in (401, 403)
    assert anonymous.get("/api/conversations").json()["error"]
    token = Token.objects.create(user=user)
    with_token = APIClient()
    with_token.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert with_token.post("/api/chat", {"message": "hello"}, format="json").status_code == 200
    client.force_login(user)  # a browser session
    assert client.get("/api/conversations").json()["results"][0]["title"] == "hello"


def test_the_schema_documents_the_chat_api(aws, user, client):
    client.force_login(user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/chat", "/api/conversations", "/api/conversations/{conversation_id}"} <= set(schema["paths"])
    chat = schema["paths"]["/api/chat"]["post"]
    assert "400" in chat["responses"] and "404" in chat["responses"]
    assert client.get("/api/docs/").status_code == 200
