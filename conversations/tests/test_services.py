"""Chat turns through the service with the local provider, against the emulator's conversation table."""

from collections import Counter

import pytest
from django.conf import settings

from conversations import selectors, services
from conversations.assistant.engine import MODEL, LocalProvider
from conversations.assistant.providers import Provider, ProviderError, provider_get
from conversations.store import MemoryConversationStore, conversation_store
from monitoring import metrics
from monitoring.tests.helpers import statistics
from stocktool.aws.session import client

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation_calls():
    """DynamoDB operations on the conversation table made by this thread, by name."""
    calls = Counter()

    def count(params, model, **kwargs):
        table = settings.DYNAMODB_TABLE_CONVERSATIONS
        if params.get("TableName") == table or table in params.get("RequestItems", {}):
            calls[model.name] += 1

    events = client("dynamodb").meta.events
    events.register("provide-client-params.dynamodb", count, unique_id="count-conversation-calls")
    yield calls
    events.unregister("provide-client-params.dynamodb", unique_id="count-conversation-calls")


def _messages(user, conversation_id):
    return selectors.conversation_messages_for_user(user=user, conversation_id=conversation_id)[1]


def test_a_turn_stores_the_question_and_the_grounded_answer(chat, user):
    result = chat("What is AAPL stock price?")
    assert result["type"] == "done" and "AAPL" in result["answer"]
    header = selectors.conversation_get_for_user(user=user, conversation_id=result["conversation_id"])
    assert header["user_id"] == str(user.pk) and header["title"] == "What is AAPL stock price?"
    question, answer = _messages(user, result["conversation_id"])
    assert (question["role"], question["content"]) == ("user", "What is AAPL stock price?")
    assert answer["role"] == "assistant" and answer["content"] == result["answer"]
    assert [c["name"] for c in answer["tool_calls"]] == ["get_stock_quote", "get_price_history"]
    assert answer["sources"][0]["source"] == "demo" and answer["sources"][0]["as_of"]
    assert answer["metadata"]["symbols"] == ["AAPL"] and answer["metadata"]["cards"][0]["type"] == "quote"
    assert answer["id"] == result["message_id"]


def test_a_continued_turn_costs_one_read_and_two_writes(chat, user, conversation_calls):
    first = chat("What is AAPL stock price?")
    conversation_calls.clear()
    prepared = services.chat_prepare(user=user, message="compare it with MSFT over the last year",
                                     conversation_id=first["conversation_id"])
    # The owner check and the context share one GetItem of the header.
    assert conversation_calls == Counter({"GetItem": 1})
    second = list(services.chat_run(prepared))[-1]
    assert [c["arguments"]["symbols"] for c in second["tool_calls"]] == [["AAPL", "MSFT"]]
    # Both messages in one BatchWriteItem, the header in one UpdateItem checked against the version read above.
    assert conversation_calls == Counter({"GetItem": 1, "BatchWriteItem": 1, "UpdateItem": 1})
    assert len(_messages(user, first["conversation_id"])) == 4


def test_the_answer_streams_after_the_tools_ran(aws, knowledge_base, user):
    prepared = services.chat_prepare(user=user, message="How volatile is TSLA?", provider=LocalProvider())
    events = list(services.chat_run(prepared))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.index("tool_end") < kinds.index("token")
    assert "".join(e["text"] for e in events if e["type"] == "token") == events[-1]["answer"]
    assert kinds.count("token") > 3


@pytest.mark.parametrize("message", ["", "   \n\t ", "x" * 100_000, None, 42])
def test_bad_messages_are_refused_before_anything_is_stored(chat, user, message):
    with pytest.raises(services.ChatInputError):
        chat(message)
    assert selectors.conversation_list_for_user(user=user)[0] == []


def test_the_limit_is_stated(chat):
    with pytest.raises(services.ChatInputError, match="100,000 characters long; the limit is 4,000"):
        chat("x" * 100_000)
    assert chat("x" * 4000)["type"] == "done"


@pytest.mark.parametrize("conversation_id", ["nope", "../../etc", "0" * 32, "<script>", "'; DROP TABLE"])
def test_garbage_conversation_ids_are_not_found(chat, conversation_id):
    with pytest.raises(services.ConversationNotFound):
        chat("hello", conversation_id=conversation_id)


def test_another_users_conversation_is_not_found_and_untouched(chat, user, other):
    mine = chat("What is AAPL stock price?")["conversation_id"]
    with pytest.raises(services.ConversationNotFound):
        chat("compare it with MSFT", conversation_id=mine, who=other)
    assert selectors.conversation_get_for_user(user=other, conversation_id=mine) is None
    with pytest.raises(services.ConversationNotFound):
        services.conversation_delete(user=other, conversation_id=mine)
    assert len(_messages(user, mine)) == 2


class BrokenProvider(Provider):
    name = "broken"

    def run(self, turn):
        yield {"type": "token", "text": "Half an ans"}
        raise ProviderError("the model endpoint could not be reached")


def test_a_provider_failure_stores_nothing(chat, user):
    conversation_id = chat("hello")["conversation_id"]
    result = services.chat_send(user=user, message="What is AAPL?", conversation_id=conversation_id,
                                provider=BrokenProvider())
    assert result["type"] == "error" and "could not be reached" in result["error"]
    assert len(_messages(user, conversation_id)) == 2


def test_html_in_a_message_is_stored_as_text_and_answered(chat, user):
    result = chat("<script>alert(1)</script> What is <b>AAPL</b> price?")
    assert result["type"] == "done"
    question = _messages(user, result["conversation_id"])[0]
    assert question["content"] == "<script>alert(1)</script> What is <b>AAPL</b> price?"


def test_unknown_tickers_get_a_clear_answer(chat):
    result = chat("What is the price of QQQQZ?")
    assert "couldn't find a stock listing for “QQQQZ”" in result["answer"] and result["tool_calls"] == []


def test_deleting_removes_the_conversation(chat, user):
    conversation_id = chat("hello")["conversation_id"]
    services.conversation_delete(user=user, conversation_id=conversation_id)
    assert selectors.conversation_get_for_user(user=user, conversation_id=conversation_id) is None


def test_each_user_lists_only_their_conversations(chat, user, other):
    chat("hello")
    chat("What is an ETF?")
    chat("hi", who=other)
    mine, _ = selectors.conversation_list_for_user(user=user)
    assert sorted(c["title"] for c in mine) == ["What is an ETF?", "hello"]
    assert [c["title"] for c in selectors.conversation_list_for_user(user=other)[0]] == ["hi"]


def test_the_model_reports_tokens_and_latency(chat):
    metrics.flush()
    before = statistics(settings.CLOUDWATCH_NAMESPACE, "ModelTokens", {"Model": MODEL})["SampleCount"]
    result = chat("What is a Sharpe ratio?")
    metrics.flush()
    tokens = statistics(settings.CLOUDWATCH_NAMESPACE, "ModelTokens", {"Model": MODEL})
    latency = statistics(settings.CLOUDWATCH_NAMESPACE, "ModelLatency", {"Model": MODEL})
    assert tokens["SampleCount"] - before >= 1 and tokens["Maximum"] >= result["tokens"] > 20
    assert latency["SampleCount"] >= 1


def test_the_provider_setting_picks_the_provider(settings):
    assert isinstance(provider_get(), LocalProvider)
    settings.LLM_PROVIDER = "openai"
    assert provider_get().model_name() == settings.OPENAI_MODEL
    with pytest.raises(ProviderError):
        provider_get("parrot")


def test_without_dynamodb_conversations_live_in_memory(settings, knowledge_base, user, other):
    settings.DYNAMODB_ENABLED = False
    assert isinstance(conversation_store(), MemoryConversationStore)
    first = services.chat_send(user=user, message="hello")
    second = services.chat_send(user=user, message="And how about an ETF?", conversation_id=first["conversation_id"])
    assert second["type"] == "done"
    assert len(_messages(user, first["conversation_id"])) == 4
    with pytest.raises(services.ConversationNotFound):
        services.chat_send(user=other, message="hi", conversation_id=first["conversation_id"])
