"""The same conversations with every language-model provider, each against a local server speaking its protocol.

openai: the official SDK against ``fake_openai`` (chat completions, Server-Sent Events). bedrock: botocore against
``fake_bedrock`` (ConverseStream's event stream), and bedrock-converse: the same without streaming (Converse).
"""

import json
import re
from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings

from conversations import selectors, services
from conversations.assistant.engine import LocalProvider
from conversations.assistant.providers import ProviderError, Turn, provider_get
from conversations.assistant.providers.bedrock import BedrockProvider
from conversations.assistant.providers.model import MAX_TOOL_ROUNDS
from conversations.assistant.providers.openai import OpenAIProvider
from conversations.assistant.tools import KNOWLEDGE_SOURCE
from stocktool.aws.session import reset_clients

from .fake_bedrock import FakeBedrock, text_events, tool_use_events
from .fake_openai import FakeOpenAI, text_chunks, tool_call_chunks

pytestmark = pytest.mark.django_db


class OpenAIBackend:
    provider_name, model, streaming = "openai", "test-model", True

    def __init__(self, fake, settings):
        self.fake, self.settings = fake, settings

    def text(self, *pieces, usage=42):
        return {"chunks": text_chunks(*pieces, usage=usage)}

    def tools(self, calls):
        return {"chunks": tool_call_chunks(calls)}

    def error(self, status, code, message):
        return {"status": status, "json": {"error": {"message": message, "code": code}},
                "headers": {"retry-after-ms": "10"}}

    def stall(self, pieces, after):
        return {"chunks": text_chunks(*pieces), "stall_after": after + 1, "stall": 2}  # after the role chunk

    def provider(self, *, timeout=2.0, retries=2, url=None):
        return OpenAIProvider(api_key="sk-test", base_url=url or self.fake.url, model=self.model, timeout=timeout,
                              max_retries=retries)

    def down(self):
        return self.provider(timeout=0.5, retries=1, url="http://127.0.0.1:9/v1")

    def use(self):
        self.settings.LLM_PROVIDER, self.settings.OPENAI_MODEL = "openai", self.model
        self.settings.OPENAI_BASE_URL, self.settings.OPENAI_API_KEY = self.fake.url, "sk-test"

    def system(self, i):
        return self.fake.requests[i]["messages"][0]["content"]

    def tool_names(self, i):
        return {t["function"]["name"] for t in self.fake.requests[i]["tools"]}

    def sent(self, i):
        """The user and assistant texts of request ``i``."""
        return [(m["role"], m["content"]) for m in self.fake.requests[i]["messages"]
                if m["role"] in ("user", "assistant") and m.get("content")]

    def tool_results(self, i):
        return [json.loads(m["content"]) for m in self.fake.requests[i]["messages"] if m["role"] == "tool"]


class BedrockBackend:
    provider_name, model = "bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0"

    def __init__(self, fake, settings, *, streaming=True):
        self.fake, self.settings, self.streaming = fake, settings, streaming

    def text(self, *pieces, usage=42):
        return {"events": text_events(*pieces, usage=usage)}

    def tools(self, calls):
        return {"events": tool_use_events(calls)}

    def error(self, status, code, message):
        return {"error": (status, code, message)}

    def stall(self, pieces, after):
        return {"events": text_events(*pieces), "stall_after": after + 1, "stall": 2}  # after messageStart

    def provider(self, *, timeout=2.0, retries=2, url=None):
        self.settings.BEDROCK_ENDPOINT_URL = url or self.fake.url
        self.settings.BEDROCK_TIMEOUT, self.settings.BEDROCK_MAX_ATTEMPTS = timeout, retries + 1
        reset_clients()  # the client is built from the settings
        return BedrockProvider(model=self.model, streaming=self.streaming)

    def down(self):
        return self.provider(timeout=0.5, retries=1, url="http://127.0.0.1:9")

    def use(self):
        self.settings.LLM_PROVIDER, self.settings.BEDROCK_MODEL_ID = "bedrock", self.model
        self.settings.BEDROCK_STREAMING = self.streaming
        self.provider()

    def system(self, i):
        return self.fake.requests[i]["system"][0]["text"]

    def tool_names(self, i):
        return {t["toolSpec"]["name"] for t in self.fake.requests[i]["toolConfig"]["tools"]}

    def sent(self, i):
        return [(m["role"], block["text"]) for m in self.fake.requests[i]["messages"]
                for block in m["content"] if "text" in block]

    def tool_results(self, i):
        return [json.loads(block["toolResult"]["content"][0]["text"]) for m in self.fake.requests[i]["messages"]
                for block in m["content"] if "toolResult" in block]


@contextmanager
def serving(name: str, settings):
    if name == "openai":
        with FakeOpenAI() as fake:
            yield OpenAIBackend(fake, settings)
        return
    try:
        with FakeBedrock() as fake:
            yield BedrockBackend(fake, settings, streaming=name == "bedrock")
    finally:
        reset_clients()


@pytest.fixture(params=["openai", "bedrock", "bedrock-converse"])
def backend(request, settings):
    with serving(request.param, settings) as served:
        yield served


@pytest.fixture(params=["openai", "bedrock"])
def streaming(request, settings):
    with serving(request.param, settings) as served:
        yield served


def model_points(buffer, metric):
    return [(value, dict(dims)) for _, name, value, _, dims in buffer.drain() if name == metric]


def run(provider, message="hi", history=None, user=None):
    return list(provider.run(Turn(message, history or [], user)))


def tokens_of(events):
    return [e["text"] for e in events if e["type"] == "token"]


def test_an_answer_streams_and_the_turn_is_measured_once(backend, captured):
    backend.fake.script = [backend.text("Hello", ", ", "world.")]
    events = run(backend.provider())
    assert tokens_of(events) == (["Hello", ", ", "world."] if backend.streaming else ["Hello, world."])
    done = events[-1]
    assert done["type"] == "done" and (done["answer"], done["tokens"], done["model"]) == ("Hello, world.", 42,
                                                                                          backend.model)
    assert (done["sources"], done["cards"], done["tool_calls"]) == ([], [], [])
    assert done["metadata"] == {"intent": "model", "symbols": [], "period": None, "fields": [],
                                "provider": backend.provider_name}
    assert "search_knowledge" in backend.system(0) and "by title" in backend.system(0)
    assert {"get_stock_quote", "search_knowledge", "compare_stocks"} <= backend.tool_names(0)
    points = captured.drain()
    tokens = [(p[2], dict(p[4])) for p in points if p[1] == "ModelTokens"]
    latency = [p for p in points if p[1] == "ModelLatency"]
    assert tokens == [(42.0, {"Model": backend.model})] and len(latency) == 1


def test_every_provider_finishes_with_the_fields_the_local_engine_gives(backend):
    backend.fake.script = [backend.text("Hello.")]
    done, local = run(backend.provider())[-1], list(LocalProvider().run(Turn("hello")))[-1]
    assert set(done) == set(local) == {"type", "answer", "sources", "cards", "tool_calls", "metadata", "tokens",
                                       "model"}
    assert {"intent", "symbols", "period", "fields", "provider"} <= set(done["metadata"]) & set(local["metadata"])


def test_a_knowledge_search_is_cited_as_the_local_engine_cites_it(backend, aws, knowledge_base, user):
    backend.fake.script = [backend.tools([("c1", "search_knowledge", '{"query": "Sharpe ratio"}')]),
                           backend.text("The Sharpe ratio is excess return per unit of risk (*Sharpe ratio*).")]
    events = run(backend.provider(), "What is a Sharpe ratio?", user=user)
    done = events[-1]
    knowledge = [s for s in done["sources"] if s["kind"] == "knowledge"]
    assert knowledge and {"title", "key", "url", "heading", "version_id"} <= set(knowledge[0])
    assert knowledge[0]["key"].startswith(django_settings.KNOWLEDGE_PREFIX)
    assert knowledge[0]["source"] == KNOWLEDGE_SOURCE and "sharpe" in knowledge[0]["title"].lower()
    # The document's page, at the passage found (the opening one is the top of the page).
    assert all(re.fullmatch(r"/knowledge/\d+/(#passage-\d+)?", s["url"]) for s in knowledge)
    local = list(LocalProvider().run(Turn("What is a Sharpe ratio?", [], user)))[-1]
    cited = next(s for s in local["sources"] if s["kind"] == "knowledge")  # maybe at another passage
    assert set(cited) == set(knowledge[0]) and cited["url"].split("#")[0] == knowledge[0]["url"].split("#")[0]
    assert [cited[k] for k in ("title", "key", "version_id", "source")] == [
        knowledge[0][k] for k in ("title", "key", "version_id", "source")]
    (result,) = backend.tool_results(1)
    assert result["results"][0]["title"] == knowledge[0]["title"] and result["results"][0]["url"] == knowledge[0]["url"]
    assert [(c["name"], c["ok"]) for c in done["tool_calls"]] == [("search_knowledge", True)]


def test_market_tools_give_cards_and_sources(backend, aws, user, captured):
    backend.fake.script = [
        backend.tools([("call_1", "get_stock_quote", '{"symbol": "AAPL"}'),
                       ("call_2", "get_price_history", '{"symbol": "AAPL", "period": "1mo"}')]),
        backend.text("AAPL is at ", "$243 (demo data)."),
    ]
    events = run(backend.provider(), "What is AAPL stock price?", user=user)
    kinds = [e["type"] for e in events]
    assert kinds.index("tool_end") < kinds.index("token")
    ends = [e for e in events if e["type"] == "tool_end"]
    assert [(e["name"], e["ok"], e["source"]) for e in ends] == [("get_stock_quote", True, "demo"),
                                                                 ("get_price_history", True, "demo")]
    quote, history = backend.tool_results(1)
    assert quote["symbol"] == "AAPL" and quote["source"] == "demo" and history["period"] == "1mo"
    done = events[-1]
    assert done["answer"] == "AAPL is at $243 (demo data)." and done["tokens"] == 30 + 42
    assert {c["type"] for c in done["cards"]} == {"quote", "history"}
    assert done["sources"][0]["kind"] == "market_data" and done["sources"][0]["symbols"] == ["AAPL"]
    assert done["metadata"]["symbols"] == ["AAPL"]
    assert model_points(captured, "ModelTokens") == [(72.0, {"Model": backend.model})]


def test_a_follow_up_sends_the_history(backend):
    history = [{"role": "user", "content": "What is AAPL at?"},
               {"role": "assistant", "content": "AAPL is at $243 (demo data).", "metadata": {"symbols": ["AAPL"]}}]
    backend.fake.script = [backend.text("MSFT is at $410.")]
    run(backend.provider(), "And MSFT?", history)
    assert backend.sent(0) == [("user", "What is AAPL at?"), ("assistant", "AAPL is at $243 (demo data)."),
                               ("user", "And MSFT?")]


def test_a_chat_turn_is_stored_and_its_follow_up_carries_it(backend, aws, user):
    backend.use()
    assert provider_get().name == backend.provider_name and provider_get().model_name() == backend.model
    backend.fake.script = [backend.tools([("c1", "get_company_profile", '{"symbol": "MSFT"}')]),
                           backend.text("Microsoft is a **Technology** company.")]
    result = services.chat_send(user=user, message="Tell me about Microsoft")
    assert result["type"] == "done" and result["model"] == backend.model
    messages = selectors.conversation_messages_for_user(user=user, conversation_id=result["conversation_id"])[1]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["tool_calls"][0]["name"] == "get_company_profile"
    backend.fake.script = [backend.text("Yes.")]
    services.chat_send(user=user, message="Is it big?", conversation_id=result["conversation_id"])
    assert backend.sent(-1) == [("user", "Tell me about Microsoft"),
                                ("assistant", "Microsoft is a **Technology** company."), ("user", "Is it big?")]


def test_an_endpoint_that_is_down_is_a_provider_error(backend):
    with pytest.raises(ProviderError) as caught:
        run(backend.down())
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


def test_throttling_is_retried_then_answered(backend):
    backend.fake.script = [backend.error(429, "ThrottlingException", "Too many requests"), backend.text("ok")]
    assert run(backend.provider())[-1]["answer"] == "ok"
    assert len(backend.fake.requests) == 2


def test_a_refused_request_is_not_retried(backend):
    backend.fake.script = [backend.error(400, "ValidationException", "The model does not support tool use")]
    with pytest.raises(ProviderError, match="The model does not support tool use"):
        run(backend.provider())
    assert len(backend.fake.requests) == 1


def test_malformed_tool_arguments_are_answered_with_an_error(backend, aws):
    backend.fake.script = [backend.tools([("c1", "get_stock_quote", '{"symbol": ')]), backend.text("Sorry.")]
    events = run(backend.provider())
    assert [e["ok"] for e in events if e["type"] == "tool_end"] == [False]
    assert "not a JSON object" in backend.tool_results(1)[0]["error"]
    assert events[-1]["answer"] == "Sorry."


def test_a_stream_that_stalls_is_not_retried(streaming):
    backend = streaming
    backend.fake.script = [backend.stall(("one ", "two ", "three"), after=2), backend.text("again")]
    events = []
    with pytest.raises(ProviderError, match="stopped"):
        events.extend(backend.provider(timeout=0.3).run(Turn("hi")))
    assert tokens_of(events) == ["one ", "two "]  # nothing repeated, nothing retried
    assert len(backend.fake.requests) == 1


def test_a_model_that_only_calls_tools_stops_after_the_last_round(backend, aws):
    backend.fake.script = [backend.tools([(f"c{i}", "get_stock_quote", '{"symbol": "AAPL"}')])
                           for i in range(MAX_TOOL_ROUNDS + 1)]
    events = []
    with pytest.raises(ProviderError, match="empty answer"):
        events.extend(backend.provider().run(Turn("hi")))
    assert len(backend.fake.requests) == MAX_TOOL_ROUNDS + 1
    assert sum(e["type"] == "tool_end" for e in events) == MAX_TOOL_ROUNDS
