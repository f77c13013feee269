"""The seed table's cells (benchmarks/run_all.py): each times one of the project's operations, interleaved with
the raw boto3 request underneath it (the floor) on the same endpoint, in the child process of one backend."""

import os
import socket
import threading
import time
import uuid
from queue import Queue
from types import SimpleNamespace

from harness import stats

DOC_NAME = "bench-{}.md"


def interleaved(a, b, n: int, warmup: int) -> tuple[list[float], list[float]]:
    from bench_cache import interleaved as run

    return run(a, b, n=n, warmup=warmup)


def cell(op: list[float], floor: list[float] | None, what: str, floor_what: str = "", note: str = "") -> dict:
    return {"op": stats(op), "floor": stats(floor) if floor else None, "what": what, "floor_what": floor_what,
            "note": note}


def bench_retrieval(n: int, local: bool) -> dict:
    from django.conf import settings

    from conversations.dynamodb_store import HEADER_SK
    from conversations.selectors import conversation_messages_for_user, message_pack
    from conversations.store import conversation_store

    user, cid = SimpleNamespace(pk=1, is_authenticated=True), uuid.uuid4().hex
    messages = [{"role": "user", "content": f"question {i}: " + "how volatile is AAPL this year? " * 8}
                if i % 2 == 0 else
                {"role": "assistant", "content": f"answer {i}: " + "volatility is 24 percent. " * 10,
                 "metadata": message_pack({"tool_calls": [], "sources": [], "cards": []})} for i in range(60)]
    conversation_store().put_conversation(cid, messages, user_id="1", title="bench")

    def read():
        _, recent = conversation_messages_for_user(user=user, conversation_id=cid, limit=50)
        assert len(recent) == 50

    read()
    if local:
        return cell(interleaved(read, lambda: None, n, 20)[0], None, "MemoryConversationStore")
    from stocktool.aws.session import client

    ddb, table = client("dynamodb"), settings.DYNAMODB_TABLE_CONVERSATIONS
    key = {"conversation_id": {"S": cid}, "timestamp": {"S": HEADER_SK}}
    op, floor = interleaved(read, lambda: ddb.get_item(TableName=table, Key=key, ConsistentRead=True), n, 20)
    return cell(op, floor, "selector + ConversationReads (1 GetItem)", "GetItem")


def bench_upload(n: int, local: bool) -> dict:
    from bench_s3 import DOC
    from django.conf import settings

    from knowledge.services import document_upload

    body = DOC.encode()[:10240]
    counter = iter(range(10**9))

    def upload():
        return document_upload(name=DOC_NAME.format(next(counter) % 10), content=body)

    if local:
        return cell(interleaved(upload, lambda: None, n, 5)[0], None, "document_upload, FileSystemStorage")
    from stocktool.aws.session import client

    s3, bucket = client("s3"), settings.S3_BUCKET_NAME
    # Under the knowledge prefix, like the upload, so the server fires the same S3 event to SNS/SQS.
    key = settings.KNOWLEDGE_PREFIX + "bench-raw-floor.md"

    def put():
        return s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/markdown",
                             ServerSideEncryption="AES256")

    op, floor = interleaved(upload, put, n, 5)
    return cell(op, floor, "document_upload: PUT + HEAD + index", "PutObject")


def bench_cache_django(n: int, local: bool) -> dict:
    from django.core.cache import caches

    cache = caches["default"]
    cache.set("bench:hit", {"symbol": "AAPL", "price": 123.45, "volume": 1_000_000}, timeout=None)
    assert cache.get("bench:hit")["symbol"] == "AAPL"

    def get():
        return cache.get("bench:hit")

    if local:
        return cell(interleaved(get, lambda: None, n, 20)[0], None, type(cache).__name__)
    from django.conf import settings

    from stocktool.aws.session import client

    ddb, table, key = client("dynamodb"), settings.DYNAMODB_TABLE_DJANGO_CACHE, cache.make_key("bench:hit")
    consistent = getattr(getattr(cache, "_cache", None), "_consistent", True)
    op, floor = interleaved(get, lambda: ddb.get_item(TableName=table, Key={"cache_key": {"S": key}},
                                                      ConsistentRead=consistent), n, 20)
    return cell(op, floor, type(cache).__name__, "GetItem")


def bench_cache_stock(n: int, local: bool) -> dict:
    from analysis.market_data.cache import cache_store, cached

    quote = {"symbol": "AAPL", "price": 187.44, "change": 1.02, "change_percent": 0.55, "volume": 48_512_300}
    cache_store().put_cache_item("AAPL", quote, ttl_seconds=3600, namespace="quotes")

    def hit():
        value = cached(namespace="quotes", key="AAPL", ttl_seconds=3600, fetch=lambda: 1 / 0)
        assert value["symbol"] == "AAPL"

    hit()
    if local:
        return cell(interleaved(hit, lambda: None, n, 20)[0], None, "LocalCache (in-process)")
    from django.conf import settings

    from stocktool.aws.session import client

    ddb, table = client("dynamodb"), settings.DYNAMODB_TABLE_CACHE
    key = {"symbol": {"S": "AAPL"}, "data_type": {"S": "quotes"}}
    op, floor = interleaved(hit, lambda: ddb.get_item(TableName=table, Key=key), n, 20)
    return cell(op, floor, "StockCache via cached()", "GetItem")


def sqs_floor(n: int, gap: float) -> list[float]:
    """SendMessage -> a long-poll ReceiveMessage already waiting in another thread returns it, in ms."""
    from stocktool.aws.session import client

    sqs = client("sqs")
    url = sqs.create_queue(QueueName=f"bench-floor-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arrived, stop = Queue(), threading.Event()

    def receive():
        rx = client("sqs")  # one client per thread
        while not stop.is_set():
            resp = rx.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1)
            for m in resp.get("Messages", []):
                arrived.put((m["Body"], time.perf_counter()))
                rx.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    out = []
    try:
        for i in range(n + 5):
            time.sleep(gap)  # the receiver is back in its long poll
            token, sent = uuid.uuid4().hex, time.perf_counter()
            sqs.send_message(QueueUrl=url, MessageBody=token)
            body, got = arrived.get(timeout=30)
            assert body == token
            if i >= 5:
                out.append((got - sent) * 1000)
    finally:
        stop.set()
        thread.join(5)
        sqs.delete_queue(QueueUrl=url)
    return out


def eager_latency(n: int) -> list[float]:
    """apply_async -> task start with CELERY_TASK_ALWAYS_EAGER: the task runs in the caller."""
    import bench_app

    assert bench_app.app.conf.task_always_eager
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port, out = sock.getsockname()[1], []
        for i in range(n + 20):
            sent = time.time()
            bench_app.stamp.apply_async(args=["t", port])
            started = float(sock.recvfrom(256)[0].decode().split()[1])
            if i >= 20:
                out.append((started - sent) * 1000)
    return out


def bench_queue_latency(n: int, local: bool) -> dict:
    if local:
        return cell(eager_latency(n), None, "Celery eager, no queue (runs in the caller)")
    from bench_queue import SAMPLE_GAP, run_case
    from django.conf import settings

    floor = sqs_floor(n, SAMPLE_GAP)
    note = reachable_queue_url()
    latencies, _, _ = run_case("sqs", {}, settings.SQS_QUEUE_ANALYSIS, n=n, n_back_to_back=0, burst=0)
    return cell(latencies, floor, "Celery on SQS, solo worker", "SendMessage -> ReceiveMessage", note)


def reachable_queue_url() -> str:
    """Send Celery to the queue through the endpoint if the queue URL's host does not resolve; return a note.

    LocalStack's default queue URLs name ``sqs.<region>.localhost.localstack.cloud``, which needs DNS; kombu
    sends to the queue URL itself (boto3 only to the endpoint). SQS_QUEUE_ANALYSIS_URL is the app's own knob.
    """
    from urllib.parse import urlsplit

    from django.conf import settings

    from stocktool.aws.sqs import queue_url

    url = queue_url(settings.SQS_QUEUE_ANALYSIS)
    try:
        socket.getaddrinfo(urlsplit(url).hostname, None)
        return ""
    except OSError:
        direct = settings.AWS_ENDPOINT_URL.rstrip("/") + urlsplit(url).path
        os.environ["SQS_QUEUE_ANALYSIS_URL"] = settings.SQS_QUEUE_ANALYSIS_URL = direct  # worker and producer
        return (f"queue latency: the queue URL's host {urlsplit(url).hostname} does not resolve here, "
                f"so Celery ran with SQS_QUEUE_ANALYSIS_URL={direct}")


def measure_cells(n: int, n_slow: int, local: bool, dynamodb: bool) -> dict:
    missing = {"na": "n/a (no DynamoDB on this LocalStack)"}
    return {
        "retrieval": bench_retrieval(n, local) if local or dynamodb else missing,
        "upload": bench_upload(n_slow, local),
        "cache_django": bench_cache_django(n, local) if local or dynamodb else missing,
        "cache_stock": bench_cache_stock(n, local) if local or dynamodb else missing,
        "queue": bench_queue_latency(n_slow, local),
    }
