import json
import logging
import threading

import pytest
from asgiref.sync import async_to_sync
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.test import AsyncClient, Client

from monitoring.logs import JsonFormatter, RequestIdFilter, request_id

pytestmark = [pytest.mark.django_db, pytest.mark.urls("monitoring.tests.urls")]


def format_json(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_a_log_line_is_one_json_object_with_the_request_id():
    token = request_id.set("req-12345678")
    try:
        record = logging.makeLogRecord({"name": "x", "levelno": logging.WARNING, "levelname": "WARNING",
                                        "msg": "hello %s", "args": ("world",), "symbol": "AAPL"})
        entry = format_json(record)
    finally:
        request_id.reset(token)
    assert entry["message"] == "hello world" and entry["level"] == "WARNING" and entry["logger"] == "x"
    assert entry["request_id"] == "req-12345678"
    assert entry["symbol"] == "AAPL"  # extra=... fields come along
    assert entry["time"].endswith("+00:00")


def test_outside_a_request_the_id_is_null_and_tracebacks_are_kept():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    entry = format_json(record)
    assert entry["request_id"] is None
    assert "ValueError: bad" in entry["exc_info"]


def test_each_response_carries_the_request_id_its_view_and_logs_saw(caplog):
    caplog.set_level(logging.INFO, logger="monitoring.tests")
    response = Client().get("/whoami/")
    rid = response["X-Request-ID"]
    assert len(rid) == 32 and response.content.decode() == rid
    (record,) = [r for r in caplog.records if r.getMessage() == "in the view"]
    assert format_json(record)["request_id"] == rid
    assert request_id.get() is None  # reset after the request


def test_a_plain_incoming_request_id_is_kept_and_anything_else_replaced():
    assert Client().get("/whoami/", headers={"X-Request-ID": "proxy-abc-123456"})["X-Request-ID"] == "proxy-abc-123456"
    odd = Client().get("/whoami/", headers={"X-Request-ID": "<script>"})["X-Request-ID"]
    assert odd != "<script>" and len(odd) == 32


def test_async_requests_get_one_too():
    response = async_to_sync(AsyncClient().get)("/whoami/")
    assert response.content.decode() == response["X-Request-ID"]


def test_a_task_started_in_a_request_logs_with_that_request_id():
    """Through a real worker (in-memory broker): the id travels as a message header."""
    app = Celery("rid-test", broker="memory://", backend="cache+memory://")
    app.conf.update(task_always_eager=False, worker_hijack_root_logger=False,
                    broker_transport_options={"polling_interval": 0.05})
    seen = {}
    done = threading.Event()

    @app.task(name="rid-test.whoami")
    def whoami():
        seen["rid"] = request_id.get()
        done.set()

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        token = request_id.set("req-from-view-1")
        try:
            whoami.delay()
        finally:
            request_id.reset(token)
        assert done.wait(20)
    assert seen["rid"] == "req-from-view-1"
    assert request_id.get() is None
