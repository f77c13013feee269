"""Structured logs: JSON lines carrying the request id, which also travels to Celery tasks the request starts.

Loaded by the LOGGING setting, so this module imports nothing from Django apps.
"""

import json
import logging
import re
from contextvars import ContextVar, Token
from datetime import UTC, datetime

from celery import signals

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

HEADER = "X-Request-ID"
TASK_HEADER = "stocktool_request_id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


def valid_request_id(value: str | None) -> str | None:
    """Accept a caller's (proxy's) request id only if it is short and plain: it ends up in every log line."""
    return value if value and _VALID.match(value) else None


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id`` attribute ("-" outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # django.request logs 4xx/5xx after the middleware has returned, with the request attached.
            attached = getattr(getattr(record, "request", None), "request_id", None)
            record.request_id = request_id.get() or attached or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        if entry["request_id"] == "-":
            entry["request_id"] = None
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


# --- Celery: the request id rides along as a message header ---------------------------------------------------
_task_tokens: dict[str, Token] = {}


def _on_before_task_publish(headers=None, **kwargs) -> None:
    current = request_id.get()
    if current and headers is not None:
        headers.setdefault(TASK_HEADER, current)


def _on_task_prerun(task_id=None, task=None, **kwargs) -> None:
    # Eager tasks run inside the caller's context and publish nothing: their id is already set.
    found = valid_request_id(getattr(getattr(task, "request", None), TASK_HEADER, None))
    if found and task_id:
        _task_tokens[task_id] = request_id.set(found)


def _on_task_postrun(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None) if task_id else None
    if token is not None:
        try:
            request_id.reset(token)
        except ValueError:  # set in another context (thread pool): just clear it
            request_id.set(None)


def connect_celery() -> None:
    signals.before_task_publish.connect(_on_before_task_publish, weak=False, dispatch_uid="stocktool-rid-pub")
    signals.task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="stocktool-rid-pre")
    signals.task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="stocktool-rid-post")
