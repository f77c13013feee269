"""One chat turn with the local provider, end to end, against the raw DynamoDB calls a turn needs.

    .venv/bin/python benchmarks/bench_chat.py

A turn continues a conversation: the owner check and the context (one GetItem of the header), the tools (the
stock-data cache: one GetItem per quote or history), the answer, and both messages stored (PutItem + UpdateItem
each). Targets (the issue's): under 50 ms at the median; the page's first streamed token under 200 ms.
"""

import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from harness import measure, report, setup

os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-chat.sqlite3'}")
os.environ.setdefault("LLM_PROVIDER", "local")
os.environ.setdefault("LOG_LEVEL", "WARNING")

QUESTIONS = {
    "price": "What is AAPL stock price?",
    "compare": "compare it with MSFT over the last year",
    "company": "What is Apple's market cap?",
    "term": "What is a Sharpe ratio?",
}


def _prepare():
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from knowledge.services import document_index_bytes

    call_command("migrate", verbosity=0)
    for path in sorted(Path(settings.KNOWLEDGE_DIR).glob("*.md")):
        document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}{path.name}", data=path.read_bytes())
    user, _ = get_user_model().objects.get_or_create(username=f"bench-{uuid.uuid4().hex[:6]}")
    return user


def _raw_turn_calls(user, table: str, cache_table: str, conversations: int = 10):
    """The DynamoDB calls of a price turn, made directly with boto3 on a conversation of the same shape: the header
    GetItem, the two stock-cache GetItems, and each message's PutItem plus its UpdateItem of the header window."""
    from conversations.services import chat_send
    from stocktool.aws.session import client

    ddb = client("dynamodb")
    headers = []
    for _ in range(conversations):  # as many as the measured turns use, so the windows grow alike
        cid = chat_send(user=user, message="hello")["conversation_id"]
        answer = chat_send(user=user, message=QUESTIONS["price"], conversation_id=cid)
        headers.append({"conversation_id": {"S": cid}, "timestamp": {"S": "#meta"}})
    state = {"i": 0}
    cache_keys = [{"symbol": {"S": "AAPL"}, "data_type": {"S": "demo/quote"}},
                  {"symbol": {"S": "AAPL"}, "data_type": {"S": "demo/history:1mo"}}]
    messages = [{"role": {"S": "user"}, "content": {"S": QUESTIONS["price"]}},
                {"role": {"S": "assistant"}, "content": {"S": answer["answer"]},
                 "metadata": {"M": {"packed": {"S": json.dumps(answer["cards"]) + json.dumps(answer["tool_calls"])}}}}]

    def turn():
        header = headers[state["i"] % len(headers)]
        state["i"] += 1
        ddb.get_item(TableName=table, Key=header, ConsistentRead=True)
        for key in cache_keys:
            ddb.get_item(TableName=cache_table, Key=key)
        for message in messages:
            sort_key = f"{time.time():.6f}#{uuid.uuid4().hex[:8]}"
            ddb.put_item(TableName=table, Item={**header, "timestamp": {"S": sort_key}, **message})
            try:
                ddb.update_item(
                    TableName=table, Key=header,
                    UpdateExpression="SET #w = list_append(if_not_exists(#w, :empty), :new), #u = :u ADD #n :one",
                    ConditionExpression="attribute_not_exists(#w) OR size(#w) < :max",
                    ExpressionAttributeNames={"#w": "window", "#u": "updated_at", "#n": "message_count"},
                    ExpressionAttributeValues={":new": {"L": [{"M": {"timestamp": {"S": sort_key}, **message}}]},
                                               ":empty": {"L": []}, ":u": {"S": sort_key}, ":one": {"N": "1"},
                                               ":max": {"N": "100"}})
            except ddb.exceptions.ConditionalCheckFailedException:
                ddb.update_item(TableName=table, Key=header, UpdateExpression="REMOVE " + ", ".join(
                    f"#w[{i}]" for i in range(50)), ExpressionAttributeNames={"#w": "window"})
    return turn


def _turns(user, question: str, conversations: int = 10):
    """Continue one of ``conversations`` conversations per call, round robin (their windows keep growing)."""
    from conversations.services import chat_send

    ids = [chat_send(user=user, message="hello")["conversation_id"] for _ in range(conversations)]
    state = {"i": 0}

    def turn():
        cid = ids[state["i"] % len(ids)]
        state["i"] += 1
        result = chat_send(user=user, message=question, conversation_id=cid)
        assert result["type"] == "done", result
    return turn


def _first_tokens(user, n: int) -> list[float]:
    """Milliseconds from sending a message over the chat WebSocket to its first streamed token."""
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from conversations.consumers import ChatConsumer

    async def run() -> list[float]:
        communicator = WebsocketCommunicator(ChatConsumer.as_asgi(), "/ws/chat/")
        communicator.scope["user"] = user
        await communicator.connect()
        out, conversation_id = [], None
        for i in range(n + 5):
            started = time.perf_counter()
            await communicator.send_json_to({"message": QUESTIONS["price"], "conversation_id": conversation_id})
            first = None
            while True:
                event = await communicator.receive_json_from(timeout=10)
                if event["type"] == "token" and first is None:
                    first = (time.perf_counter() - started) * 1000
                if event["type"] in ("done", "error"):
                    conversation_id = event.get("conversation_id")
                    break
            if i >= 5:  # warm-up
                out.append(first)
        await communicator.disconnect()
        return out

    return async_to_sync(run)()


def main():
    server, label = setup("bench-chat-")
    try:
        from django.conf import settings

        user = _prepare()
        n = int(os.environ.get("BENCH_N", "200"))
        print(f"endpoint: {label}; provider: {settings.LLM_PROVIDER}; market data: {settings.MARKET_DATA_PROVIDER}")
        rows = [("raw boto3: a turn's 7 DynamoDB calls", measure(
            _raw_turn_calls(user, settings.DYNAMODB_TABLE_CONVERSATIONS, settings.DYNAMODB_TABLE_CACHE), n))]
        for name, question in QUESTIONS.items():
            rows.append((f"chat turn: {name} ({question[:24]}…)", measure(_turns(user, question), n)))
        results = report("One chat turn with the local provider (continuing a conversation)", rows,
                         baseline="raw boto3: a turn's 7 DynamoDB calls")
        tokens = _first_tokens(user, max(20, n // 4))
        report("The page's first streamed token (WebSocket consumer, price question)",
               [("send -> first token", tokens)])
        worst = max(s["median"] for name, s in results.items() if name.startswith("chat turn"))
        print(f"\nslowest turn median {worst:.1f} ms (target < 50 ms); "
              f"first token median {sorted(tokens)[len(tokens) // 2]:.1f} ms (target < 200 ms)")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
