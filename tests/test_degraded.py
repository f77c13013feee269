"""While the AWS endpoint is down: pages answer with a clear message, the API with a 503 JSON error, nothing
hangs, the breaker stops the calls, and everything works again when the endpoint is back, with nothing lost."""

import time

import pytest
from django.contrib.auth import get_user_model

from stocktool.aws import breaker
from tests.faultproxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.django_db]

DEGRADED = "storage is not answering"


@pytest.fixture
def outage(behind_proxy):
    return behind_proxy(FaultProxy, AWS_CONNECT_TIMEOUT=1, AWS_READ_TIMEOUT=1, AWS_BREAKER_RESET_SECONDS=4.0,
                        CHAT_RATE_LIMIT="1000/min")


@pytest.fixture
def user_client(client, db):
    user = get_user_model().objects.create_user("outage-user", password="x")
    client.force_login(user)
    return client


def _timed(call):
    start = time.perf_counter()
    resp = call()
    return resp, time.perf_counter() - start


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_during_an_outage_every_route_answers_clearly_and_quickly_then_recovers(outage, user_client, mode, figures):
    chat = user_client.post("/api/chat", {"message": "What is AAPL stock price?"}, content_type="application/json")
    assert chat.status_code == 200, chat.content
    conversation_id = chat.json()["conversation_id"]

    outage.down(mode)
    answers = {}
    for name, call in {
        "chat api": lambda: user_client.post("/api/chat", {"message": "And MSFT?", "conversation_id": conversation_id},
                                             content_type="application/json"),
        "list api": lambda: user_client.get("/api/conversations"),
        "home page": lambda: user_client.get("/"),
        "conversation page": lambda: user_client.get(f"/chat/{conversation_id}/"),
        "analysis page": lambda: user_client.get("/analysis/"),
        "health": lambda: user_client.get("/health"),
    }.items():
        answers[name] = _timed(call)
    statuses = {name: resp.status_code for name, (resp, _) in answers.items()}
    assert statuses == {"chat api": 503, "list api": 503, "home page": 200, "conversation page": 503,
                        "analysis page": 200, "health": 503}, statuses
    for name in ("chat api", "list api"):
        assert answers[name][0].json()["error"], name  # JSON with one readable line
    assert DEGRADED in answers["home page"][0].content.decode()
    assert DEGRADED in answers["conversation page"][0].content.decode()
    assert answers["conversation page"][0]["Retry-After"] == "5"
    # No request waits longer than its attempts' timeouts (3 x 1 s here), and once the breaker is open the
    # requests after it do not wait on the network at all.
    times = {name: round(took, 2) for name, (_, took) in answers.items()}
    assert max(took for name, took in times.items() if name != "health") < 4.5, times
    # /health probes five services in parallel, one attempt each (1 s to connect, 1 s to read here), with a
    # client of its own per service and thread: building those is what a loaded machine makes slow.
    assert times["health"] < 10, times
    assert any(c.state == "open" for c in breaker.circuits().values())
    reached = outage.connections
    resp, took = _timed(lambda: user_client.get("/api/conversations"))
    assert resp.status_code == 503 and took < 0.5
    assert outage.connections == reached

    figures("during the outage: " + ", ".join(f"{name} {resp.status_code} in {took * 1000:.0f} ms"
                                                for name, (resp, took) in answers.items()))
    outage.up()
    time.sleep(4.1)  # the breaker's reset period: the next call is its trial
    again = user_client.post("/api/chat", {"message": "And MSFT?", "conversation_id": conversation_id},
                             content_type="application/json")
    assert again.status_code == 200, again.content
    detail = user_client.get(f"/api/conversations/{conversation_id}").json()
    # The first turn (2 messages) survived the outage, the refused turn left nothing, the new turn is there.
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    assert [m["content"] for m in detail["messages"]][::2] == ["What is AAPL stock price?", "And MSFT?"]
