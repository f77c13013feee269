"""The OpenAI-compatible provider against a local HTTP server speaking the chat-completions protocol."""

import json
import time

import pytest

from conversations import selectors, services
from conversations.assistant.providers import ProviderError, Turn, provider_get
from conversations.assistant.providers.openai import OpenAIProvider, history_trim

from .fake_openai import FakeOpenAI, text_chunks, tool_call_chunks

pytestmark = pytest.mark.django_db
SOON = {"retry-after-ms": "10"}  # the SDK waits what the server asks (else 0.5 s, then 1 s)


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def provider(fake, **kwargs):
    options = {"api_key": "sk-test", "base_url": fake.url, "model": "test-model", "timeout": 2, "max_retries": 2} | kwargs
    return OpenAIProvider(**options)


def run(provider_, message="hi", history=None, user=None):
    return list(provider_.run(Turn(message, history or [], user)))


def test_an_answer_streams_token_by_token(fake):
    fake.script = [{"chunks": text_chunks("Hello", ", ", "world.")}]
    events = run(provider(fake))
    assert [e["text"] for e in events if e["type"] == "token"] == ["Hello", ", ", "world."]
    done = events[-1]
    assert (done["type"], done["answer"], done["tokens"], done["model"]) == ("done", "Hello, world.", 42, "test-model")
    request = fake.requests[0]
    assert request["stream"] is True and request["model"] == "test-model"
    assert {t["function"]["name"] for t in request["tools"]} >= {"get_stock_quote", "search_knowledge"}
    assert request["messages"][0]["role"] == "system" and request["messages"][-1] == {"role": "user", "content": "hi"}
    assert {k.lower(): v for k, v in fake.headers[0].items()}["authorization"] == "Bearer sk-test"


def test_tool_calls_run_our_tools_and_go_back_to_the_model(fake, aws, user):
    fake.script = [
        {"chunks": tool_call_chunks([("call_1", "get_stock_quote", '{"symbol": "AAPL"}'),
                                     ("call_2", "get_price_history", '{"symbol": "AAPL", "period": "1mo"}')])},
        {"chunks": text_chunks("AAPL is at ", "$243 (demo data).")},
    ]
    events = run(provider(fake), "What is AAPL stock price?", user=user)
    kinds = [e["type"] for e in events]
    assert kinds.index("tool_end") < kinds.index("token")
    ends = [e for e in events if e["type"] == "tool_end"]
    assert [(e["name"], e["ok"], e["source"]) for e in ends] == [("get_stock_quote", True, "demo"),
                                                                 ("get_price_history", True, "demo")]
    followup = fake.requests[1]["messages"]
    assistant = followup[-3]
    assert assistant["role"] == "assistant" and [c["id"] for c in assistant["tool_calls"]] == ["call_1", "call_2"]
    quote = json.loads(followup[-2]["content"])
    assert followup[-2]["tool_call_id"] == "call_1" and quote["symbol"] == "AAPL" and quote["source"] == "demo"
    done = events[-1]
    assert done["answer"] == "AAPL is at $243 (demo data)." and done["tokens"] == 30 + 42
    assert done["sources"][0]["symbols"] == ["AAPL"] and {c["type"] for c in done["cards"]} == {"quote", "history"}
    assert done["metadata"]["symbols"] == ["AAPL"]


def test_a_bad_tool_call_goes_back_as_an_error(fake, aws):
    fake.script = [{"chunks": tool_call_chunks([("c1", "get_stock_quote", '{"symbol": ')])},
                   {"chunks": tool_call_chunks([("c2", "drop_tables", "{}")])},
                   {"chunks": text_chunks("Sorry.")}]
    events = run(provider(fake))
    assert [e["ok"] for e in events if e["type"] == "tool_end"] == [False, False]
    assert "not a JSON object" in json.loads(fake.requests[1]["messages"][-1]["content"])["error"]
    assert "no tool called" in json.loads(fake.requests[2]["messages"][-1]["content"])["error"]


def test_server_errors_are_retried_then_succeed(fake):
    fake.script = [{"status": 503, "json": {"error": {"message": "overloaded"}}, "headers": SOON},
                   {"status": 429, "json": {"error": {"message": "slow down"}}, "headers": {"Retry-After": "0.01"}},
                   {"chunks": text_chunks("ok")}]
    assert run(provider(fake))[-1]["answer"] == "ok"
    assert len(fake.requests) == 3


def test_a_refused_key_is_not_retried(fake):
    fake.script = [{"status": 401, "json": {"error": {"message": "Incorrect API key provided"}}}]
    with pytest.raises(ProviderError, match="401: Incorrect API key provided"):
        run(provider(fake))
    assert len(fake.requests) == 1


def test_errors_that_persist_give_up_after_the_retries(fake):
    fake.script = [{"status": 500, "json": {"error": "boom"}, "headers": SOON}] * 3
    with pytest.raises(ProviderError, match="500"):
        run(provider(fake, max_retries=2))
    assert len(fake.requests) == 3


def test_a_slow_endpoint_times_out(fake):
    fake.script = [{"delay": 1.5, "chunks": text_chunks("late")}] * 2
    started = time.monotonic()
    with pytest.raises(ProviderError, match="could not be reached|stopped answering"):
        run(provider(fake, timeout=0.3, max_retries=1))
    assert time.monotonic() - started < 3


def test_a_stream_that_stalls_is_not_retried(fake):
    fake.script = [{"chunks": text_chunks("one ", "two ", "three"), "stall_after": 3, "stall": 2},
                   {"chunks": text_chunks("again")}]
    events = []
    with pytest.raises(ProviderError, match="stopped answering"):
        events.extend(provider(fake, timeout=0.3).run(Turn("hi")))
    assert [e["text"] for e in events] == ["one ", "two "]  # nothing repeated, nothing retried
    assert len(fake.requests) == 1


def test_an_unreachable_endpoint_is_a_provider_error():
    p = OpenAIProvider(api_key="k", base_url="http://127.0.0.1:9/v1", model="m", timeout=0.5, max_retries=1)
    with pytest.raises(ProviderError, match="could not be reached"):
        list(p.run(Turn("hi")))


def test_an_endpoint_that_does_not_stream_still_works(fake):
    fake.script = [{"json": {"choices": [{"message": {"role": "assistant", "content": "Plain answer."}}],
                             "usage": {"total_tokens": 7}}}]
    events = run(provider(fake))
    assert events[-1]["answer"] == "Plain answer." and events[-1]["tokens"] == 7


def test_an_empty_answer_is_an_error(fake):
    fake.script = [{"chunks": text_chunks(usage=None)}]
    with pytest.raises(ProviderError, match="empty answer"):
        run(provider(fake))


def test_history_is_trimmed_to_the_context_newest_first(fake):
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i} " + "word " * 400}
               for i in range(40)]
    fake.script = [{"chunks": text_chunks("fine")}]
    run(provider(fake, context_tokens=6000, max_tokens=500), "latest question", history)
    sent = fake.requests[0]["messages"]
    assert sent[-1]["content"] == "latest question" and sent[-2]["content"].startswith("message 39 ")
    assert 2 < len(sent) < 20
    assert sum(len(m["content"] or "") for m in sent) // 4 < 6000 - 500


def test_trimming_keeps_a_cut_version_of_one_long_message():
    kept = history_trim([{"role": "user", "content": "a" * 10_000}], budget=500)
    assert len(kept) == 1 and len(kept[0]["content"]) < 2100 and kept[0]["content"].endswith("[…]")
    assert history_trim([{"role": "tool", "content": "x"}, {"role": "assistant", "content": ""}], 100) == []


def test_a_chat_turn_with_the_openai_provider_is_stored(fake, aws, user, settings):
    settings.LLM_PROVIDER, settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = "openai", fake.url, "sk-test"
    settings.OPENAI_TIMEOUT, settings.OPENAI_MAX_RETRIES = 2, 0
    assert isinstance(provider_get(), OpenAIProvider)
    fake.script = [{"chunks": tool_call_chunks([("c1", "get_company_profile", '{"symbol": "MSFT"}')])},
                   {"chunks": text_chunks("Microsoft is a **Technology** company.")}]
    result = services.chat_send(user=user, message="Tell me about Microsoft")
    assert result["type"] == "done" and result["model"] == settings.OPENAI_MODEL
    messages = selectors.conversation_messages_for_user(user=user, conversation_id=result["conversation_id"])[1]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["tool_calls"][0]["name"] == "get_company_profile"
    fake.script = [{"chunks": text_chunks("Yes.")}]
    services.chat_send(user=user, message="Is it big?", conversation_id=result["conversation_id"])
    assert [m["content"] for m in fake.requests[-1]["messages"][1:]] == [
        "Tell me about Microsoft", "Microsoft is a **Technology** company.", "Is it big?"]


def test_a_failing_model_stores_nothing(fake, aws, user, settings):
    settings.LLM_PROVIDER, settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = "openai", fake.url, "sk-test"
    settings.OPENAI_MAX_RETRIES = 0
    fake.script = [{"status": 500, "json": {"error": {"message": "boom"}}}]
    result = services.chat_send(user=user, message="hello")
    assert result["type"] == "error" and "500" in result["error"]
    assert selectors.conversation_get_for_user(user=user, conversation_id=result["conversation_id"]) is None


def test_a_missing_key_is_a_provider_error(fake):
    with pytest.raises(ProviderError, match="Missing credentials"):
        run(provider(fake, api_key=""))
    assert fake.requests == []
