"""What is Bedrock's own: its client and endpoint, the Converse request, roles that alternate, tool blocks.

The real botocore client talks to ``fake_bedrock`` over HTTP with the test's dummy credentials.
"""

import json
import os

import pytest

from conversations.assistant.providers import ProviderError, Turn, provider_get
from conversations.assistant.providers.bedrock import BedrockProvider
from conversations.assistant.providers.model import SYSTEM_PROMPT
from conversations.assistant.tools import tool_schemas
from stocktool.aws.session import client, reset_clients

from .fake_bedrock import FakeBedrock, text_events, tool_use_events

pytestmark = pytest.mark.django_db
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture
def fake(settings):
    with FakeBedrock() as server:
        settings.BEDROCK_ENDPOINT_URL, settings.BEDROCK_TIMEOUT, settings.BEDROCK_MAX_ATTEMPTS = server.url, 2, 2
        reset_clients()
        yield server
    reset_clients()


def test_without_its_own_endpoint_bedrock_uses_the_regional_one_never_the_emulator(settings):
    settings.BEDROCK_ENDPOINT_URL, settings.BEDROCK_REGION, settings.BEDROCK_TIMEOUT = None, "eu-central-1", 45
    reset_clients()
    try:
        assert os.environ["AWS_ENDPOINT_URL"] == settings.AWS_ENDPOINT_URL  # boto3 would read it
        bedrock = client("bedrock-runtime")
        assert bedrock.meta.endpoint_url == "https://bedrock-runtime.eu-central-1.amazonaws.com"
        assert bedrock.meta.config.read_timeout == 45 and bedrock.meta.config.retries["total_max_attempts"] == 3
        assert client("s3").meta.endpoint_url == settings.AWS_ENDPOINT_URL
    finally:
        reset_clients()


def test_the_setting_picks_bedrock(settings):
    settings.LLM_PROVIDER, settings.BEDROCK_MODEL_ID, settings.BEDROCK_STREAMING = "bedrock", "m.x-v1:0", False
    provider = provider_get()
    assert isinstance(provider, BedrockProvider) and provider.model_name() == "m.x-v1:0" and not provider.streaming
    assert settings.BEDROCK_REGION == settings.AWS_DEFAULT_REGION


def test_a_request_carries_the_prompt_the_tools_and_the_limit(fake):
    fake.script = [{"events": text_events("Hi.")}]
    list(BedrockProvider(model=MODEL, max_tokens=321).run(Turn("hello")))
    (request,) = fake.requests
    assert (request["operation"], request["modelId"]) == ("converse-stream", MODEL)
    assert request["system"] == [{"text": SYSTEM_PROMPT}] and request["inferenceConfig"] == {"maxTokens": 321}
    specs = {t["toolSpec"]["name"]: t["toolSpec"] for t in request["toolConfig"]["tools"]}
    assert set(specs) == {s["function"]["name"] for s in tool_schemas()}
    assert specs["search_knowledge"]["inputSchema"]["json"]["required"] == ["query"]
    assert fake.headers[0]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")  # signed, dummy keys


def test_the_history_starts_with_the_user_and_alternates(fake):
    history = [{"role": "assistant", "content": "Welcome!"}, {"role": "user", "content": "AAPL?"},
               {"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "AAPL is at $243."}]
    fake.script = [{"events": text_events("Fine.")}]
    list(BedrockProvider(model=MODEL).run(Turn("And MSFT?", history)))
    assert fake.requests[0]["messages"] == [
        {"role": "user", "content": [{"text": "AAPL?\n\nHello?"}]},
        {"role": "assistant", "content": [{"text": "AAPL is at $243."}]},
        {"role": "user", "content": [{"text": "And MSFT?"}]}]


def test_tool_use_and_results_go_back_as_blocks(fake, aws):
    fake.script = [{"events": tool_use_events([("t1", "get_stock_quote", '{"symbol": "AAPL"}'),
                                               ("t2", "get_stock_quote", '{"symbol": ')], text="Checking.")},
                   {"events": text_events("AAPL is at $243.")}]
    events = list(BedrockProvider(model=MODEL).run(Turn("AAPL?")))
    assert [e["text"] for e in events if e["type"] == "token"] == ["Checking.", "AAPL is at $243."]
    assistant, results = fake.requests[1]["messages"][-2:]
    assert assistant == {"role": "assistant", "content": [
        {"text": "Checking."},
        {"toolUse": {"toolUseId": "t1", "name": "get_stock_quote", "input": {"symbol": "AAPL"}}},
        {"toolUse": {"toolUseId": "t2", "name": "get_stock_quote", "input": {}}}]}
    first, second = (block["toolResult"] for block in results["content"])
    assert results["role"] == "user" and (first["toolUseId"], second["toolUseId"]) == ("t1", "t2")
    assert json.loads(first["content"][0]["text"])["symbol"] == "AAPL"
    assert "not a JSON object" in json.loads(second["content"][0]["text"])["error"]
    assert "toolConfig" in fake.requests[1]  # Bedrock refuses tool blocks without it
    assert events[-1]["answer"] == "Checking.AAPL is at $243."


def test_an_error_inside_the_stream_ends_the_turn_without_a_retry(fake):
    fake.script = [{"events": text_events("one ", "two "), "exception_after": (2, "modelStreamErrorException",
                                                                               "The model stopped")}]
    events = []
    with pytest.raises(ProviderError, match="modelStreamErrorException: The model stopped"):
        events.extend(BedrockProvider(model=MODEL).run(Turn("hi")))
    assert [e["text"] for e in events] == ["one "] and len(fake.requests) == 1


def test_converse_that_never_answers_times_out_after_the_attempts(fake, settings):
    settings.BEDROCK_TIMEOUT = 0.3
    reset_clients()
    fake.script = [{"events": text_events("late"), "delay": 1}] * 2
    with pytest.raises(ProviderError, match="Read timeout"):
        list(BedrockProvider(model=MODEL, streaming=False).run(Turn("hi")))
    assert len(fake.requests) == 2
