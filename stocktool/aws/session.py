"""The only place boto3 clients are built.

Clients are created lazily, once per process and shared by its threads (botocore's clients are thread-safe; a
Session is not, so clients are built under a lock); a forked Celery worker builds its own rather than reuse its
parent's connection pool.
"""

import os
import threading
from functools import lru_cache
from types import SimpleNamespace

import boto3
from botocore.config import Config
from django.conf import settings

from . import breaker

_lock = threading.Lock()
_clients: dict[tuple, object] = {}
_state = SimpleNamespace(pid=None, session=None)


BEDROCK = "bedrock-runtime"
LONG_POLL = "long-poll"  # an SQS receive that may wait up to 20 s before its answer starts


def _attempts(n: int) -> dict:
    return {"mode": "standard", "total_max_attempts": n}


@lru_cache(maxsize=8)
def _config(purpose: str) -> Config:
    base = {"region_name": settings.AWS_DEFAULT_REGION, "connect_timeout": settings.AWS_CONNECT_TIMEOUT,
            "read_timeout": settings.AWS_READ_TIMEOUT, "retries": _attempts(settings.AWS_MAX_ATTEMPTS),
            "max_pool_connections": settings.AWS_MAX_POOL_CONNECTIONS, "tcp_keepalive": True}
    if purpose == BEDROCK:
        # A model takes seconds, not milliseconds, and has a region of its own. boto3 would otherwise send
        # it to AWS_ENDPOINT_URL from the environment (the emulator, which has no Bedrock): only
        # BEDROCK_ENDPOINT_URL, passed explicitly, may move it.
        return Config(**{**base, "region_name": settings.BEDROCK_REGION, "read_timeout": settings.BEDROCK_TIMEOUT,
                         "retries": _attempts(settings.BEDROCK_MAX_ATTEMPTS), "ignore_configured_endpoint_urls": True})
    if purpose == "probe":
        # Health checks: one attempt and short timeouts, so a dead endpoint answers in about a second.
        return Config(**{**base, "connect_timeout": min(settings.AWS_CONNECT_TIMEOUT, 1),
                         "read_timeout": min(settings.AWS_READ_TIMEOUT, 2), "retries": _attempts(1),
                         "max_pool_connections": 4, "tcp_keepalive": False})
    if purpose == LONG_POLL:
        # The read timeout counts from the request: a 20 s long poll must not time out (and be retried) at 5 s.
        return _config("default").merge(Config(read_timeout=settings.AWS_READ_TIMEOUT + 20))
    return Config(**base, s3={"addressing_style": "path"} if settings.AWS_ENDPOINT_URL else None,
                  signature_version="s3v4" if purpose == "s3" else None)


def endpoint_url(service: str) -> str | None:
    """Return the endpoint for ``service``: ``AWS_ENDPOINT_URL_<SERVICE>`` first, as the SDK does.

    Bedrock's is ``BEDROCK_ENDPOINT_URL`` alone (None: AWS's regional endpoint).
    """
    if service == BEDROCK:
        return settings.BEDROCK_ENDPOINT_URL
    specific = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
    return specific or settings.AWS_ENDPOINT_URL


def client(service: str, *, purpose: str = "default"):
    """Return this process's boto3 client for ``service`` (``purpose="probe"`` for fail-fast checks).

    Clients are shared by every thread of the process: botocore's low-level clients are thread-safe, and under
    ASGI each request's sync code runs on a thread of its own, so per-thread clients were rebuilt on every
    request (a third of the web process's time under load). Building one (from the one Session, which is not
    thread-safe) happens under a lock, once.
    """
    endpoint_setting = settings.BEDROCK_ENDPOINT_URL if service == BEDROCK else settings.AWS_ENDPOINT_URL
    key = (service, purpose, endpoint_setting)
    if _state.pid == os.getpid():
        found = _clients.get(key)
        if found is not None:
            return found
    with _lock:
        if _state.pid != os.getpid():  # first use in this process, or a forked child: nothing of the parent's
            _clients.clear()
            _state.session, _state.pid = None, os.getpid()
        found = _clients.get(key)
        if found is None:
            if _state.session is None:
                _state.session = _session()
            endpoint = endpoint_url(service)
            found = _clients[key] = breaker.attach(
                _state.session.client(service, endpoint_url=endpoint,
                                      config=_config(_config_name(service, purpose))),
                endpoint=endpoint, service=service, record_failures=purpose != "probe",
            )
        return found


def _config_name(service: str, purpose: str) -> str:
    if service == BEDROCK or (service == "s3" and purpose == "default"):
        return service
    return purpose


def _session() -> boto3.session.Session:
    keys = {}
    if settings.AWS_ACCESS_KEY_ID and settings.AWS_SECRET_ACCESS_KEY:
        # Temporary credentials (SSO, assumed roles) need their token too, or AWS rejects the keys.
        keys = {"aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
                "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
                "aws_session_token": settings.AWS_SESSION_TOKEN}
    # Without keys the SDK's own chain finds credentials (role, profile, environment).
    return boto3.session.Session(region_name=settings.AWS_DEFAULT_REGION, **keys)


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # the parent's may have been held by another thread at the fork
    _clients.clear()
    _state.session = _state.pid = None


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset_clients() -> None:
    """Forget every client (tests that switch endpoints or settings call it)."""
    with _lock:
        _clients.clear()
        _state.session = _state.pid = None
    _config.cache_clear()
    breaker.reset()
