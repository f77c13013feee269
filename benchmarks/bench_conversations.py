"""Conversation store: read the last 50 messages, and append one, against raw boto3 calls.

    .venv/bin/python benchmarks/bench_conversations.py

Target (the seed's figure): the last 50 messages of a conversation under 5 ms at the median.
"""

import uuid

from harness import measure, report, setup


def main():
    server, label = setup()
    try:
        from django.conf import settings

        from conversations.dynamodb_store import HEADER_SK
        from stocktool.aws import get_dynamodb_service
        from stocktool.aws.session import client

        store = get_dynamodb_service("conversation")
        table = settings.DYNAMODB_TABLE_CONVERSATIONS
        # A table with other traffic in it: 40 conversations of 120 messages (moto's Query walks the table).
        ids = [f"bench-{uuid.uuid4()}" for _ in range(40)]
        for cid in ids:
            for i in range(120):
                store.append_message(cid, {"role": "user" if i % 2 == 0 else "assistant",
                                           "content": f"message {i} " + "lorem ipsum " * 20}, user_id="bench")
        target = ids[-1]
        ddb = client("dynamodb")
        key = {"conversation_id": {"S": target}, "timestamp": {"S": HEADER_SK}}

        def raw_get_item():
            ddb.get_item(TableName=table, Key=key, ConsistentRead=True)

        def raw_query_50():
            ddb.query(TableName=table, KeyConditionExpression="conversation_id = :c",
                      ExpressionAttributeValues={":c": {"S": target}}, ScanIndexForward=False, Limit=50)

        assert len(store.get_recent(target, 50)) == 50
        n = 300
        print(f"endpoint: {label}; table holds {len(ids) * 121} items")
        report("Read the last 50 messages of a conversation (get_recent projects the window, expiry and count)", [
            ("raw boto3 GetItem of the header item", measure(raw_get_item, n)),
            ("store.get_recent(cid, 50)  [one GetItem]", measure(lambda: store.get_recent(target, 50), n)),
            ("raw boto3 Query, newest 50", measure(raw_query_50, n)),
            ("store.get_conversation(cid, limit=50) [Query]", measure(lambda: store.get_conversation(target, limit=50), n)),
        ], baseline="raw boto3 GetItem of the header item")

        scratch = f"bench-{uuid.uuid4()}"
        raw_item = lambda: ddb.put_item(TableName=table, Item={  # noqa: E731
            "conversation_id": {"S": scratch + "-raw"}, "timestamp": {"S": str(uuid.uuid4())},
            "role": {"S": "user"}, "content": {"S": "hello"}})
        report("Append one message", [
            ("raw boto3 PutItem", measure(raw_item, n)),
            ("store.append_message [Put + GetItem + UpdateItem]", measure(
                lambda: store.append_message(scratch, {"role": "user", "content": "hello"}), n)),
        ], baseline="raw boto3 PutItem")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
