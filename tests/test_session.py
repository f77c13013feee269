import os
import threading

import pytest

from stocktool.aws import get_dynamodb_service, get_s3_service, get_sqs_service
from stocktool.aws.session import client, endpoint_url


def test_threads_share_one_client_built_once():
    first, again = client("sqs"), client("sqs")
    assert first is again
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(client("sqs"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(c is first for c in seen)


def test_a_shared_client_serves_many_threads_at_once(aws):
    from concurrent.futures import ThreadPoolExecutor

    cache = get_dynamodb_service("cache")
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: cache.put_cache_item(f"shared-{i}", {"i": i}), range(64)))
        got = list(pool.map(lambda i: cache.get_cache_item(f"shared-{i}"), range(64)))
    assert got == [{"i": i} for i in range(64)]


def test_clients_point_at_the_configured_endpoint_with_retries_and_timeouts(settings):
    c = client("dynamodb")
    assert c.meta.endpoint_url == settings.AWS_ENDPOINT_URL
    assert c.meta.config.retries["total_max_attempts"] == settings.AWS_MAX_ATTEMPTS
    assert c.meta.config.connect_timeout == settings.AWS_CONNECT_TIMEOUT
    assert c.meta.config.max_pool_connections == settings.AWS_MAX_POOL_CONNECTIONS


def test_a_per_service_endpoint_overrides_the_shared_one(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8001")
    assert endpoint_url("dynamodb") == "http://127.0.0.1:8001"
    assert endpoint_url("s3") != "http://127.0.0.1:8001"


def test_a_forked_child_builds_its_own_client():
    parent = client("s3")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(write, b"1" if client("s3") is not parent else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"


def test_the_factories_are_importable_from_the_package(settings):
    assert get_s3_service().bucket == settings.S3_BUCKET_NAME
    assert get_dynamodb_service("conversation").table == settings.DYNAMODB_TABLE_CONVERSATIONS
    assert get_dynamodb_service("cache").table == settings.DYNAMODB_TABLE_CACHE
    assert get_sqs_service().queue_name == settings.SQS_QUEUE_ANALYSIS
    with pytest.raises(ValueError, match="unknown"):
        get_dynamodb_service("nope")
