"""The only place boto3 clients are built.

Clients are created lazily, one per thread and process: boto3 sessions are not thread-safe (see the
``threading.local`` in django-storages' S3 backend), and a forked Celery worker must not reuse its parent's
connection pool.
"""

import os
import threading
from functools import lru_cache

import boto3
from botocore.config import Config
from django.conf import settings

from . import breaker

_local = threading.local()


@lru_cache(maxsize=8)
def _config(purpose: str) -> Config:
    if purpose == "probe":
        # Health checks: one attempt and short timeouts, so a dead endpoint answers in about a second.
        return Config(
            region_name=settings.AWS_DEFAULT_REGION,
            connect_timeout=min(settings.AWS_CONNECT_TIMEOUT, 1),
            read_timeout=min(settings.AWS_READ_TIMEOUT, 2),
            retries={"mode": "standard", "total_max_attempts": 1},
            max_pool_connections=4,
        )
    return Config(
        region_name=settings.AWS_DEFAULT_REGION,
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
        max_pool_connections=settings.AWS_MAX_POOL_CONNECTIONS,
        tcp_keepalive=True,
        s3={"addressing_style": "path"} if settings.AWS_ENDPOINT_URL else None,
        signature_version="s3v4" if purpose == "s3" else None,
    )


def endpoint_url(service: str) -> str | None:
    """Return the endpoint for ``service``: ``AWS_ENDPOINT_URL_<SERVICE>`` first, as the SDK does."""
    specific = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
    return specific or settings.AWS_ENDPOINT_URL


def client(service: str, *, purpose: str = "default"):
    """Return this thread's boto3 client for ``service`` (``purpose="probe"`` for fail-fast checks)."""
    key = (os.getpid(), service, purpose, settings.AWS_ENDPOINT_URL)
    session = _session()  # first: a new session (new thread or forked process) starts an empty client cache
    cache = _local.clients
    found = cache.get(key)
    if found is None:
        endpoint = endpoint_url(service)
        found = cache[key] = breaker.attach(
            session.client(service, endpoint_url=endpoint,
                           config=_config("s3" if service == "s3" and purpose == "default" else purpose)),
            endpoint=endpoint, service=service,
        )
    return found


def _session() -> boto3.session.Session:
    pid = os.getpid()
    session = getattr(_local, "session", None)
    if session is None or getattr(_local, "pid", None) != pid:
        keys = {}
        if settings.AWS_ACCESS_KEY_ID and settings.AWS_SECRET_ACCESS_KEY:
            # Temporary credentials (SSO, assumed roles) need their token too, or AWS rejects the keys.
            keys = {"aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
                    "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
                    "aws_session_token": settings.AWS_SESSION_TOKEN}
        # Without keys the SDK's own chain finds credentials (role, profile, environment).
        session = _local.session = boto3.session.Session(region_name=settings.AWS_DEFAULT_REGION, **keys)
        _local.pid = pid
        _local.clients = {}
    return session


def reset_clients() -> None:
    """Forget this thread's clients (tests that switch endpoints call it)."""
    _local.__dict__.clear()
    _config.cache_clear()
    breaker.reset()
