"""A circuit breaker for every boto3 client the project builds.

When an endpoint stops answering (connection refused, connect or read timeouts, 5xx), each call would wait its
timeouts and retries, and a busy web process would keep hammering a dead endpoint. The breaker counts
consecutive failures per endpoint and service; past ``AWS_BREAKER_FAILURES`` it opens, and calls fail at once
with ``CircuitOpen`` (a ``BotoCoreError``, so the AWS layer turns it into ``AWSUnavailable``) without touching
the network. After ``AWS_BREAKER_RESET_SECONDS`` one trial call goes through (half-open): success closes the
circuit, failure opens it for another period. Throttling and 4xx answers prove the endpoint is alive.

It hooks into botocore's own events, so it sees every attempt, retries included: ``before-send`` refuses
calls while open (botocore does not retry a ``CircuitOpen``), ``needs-retry`` observes each attempt's outcome.
"""

import logging
import os
import threading
import time
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings

logger = logging.getLogger(__name__)

FAILURE_STATUSES = frozenset({500, 502, 503, 504})


class CircuitOpen(BotoCoreError):
    fmt = "{service}: the endpoint is not answering (circuit open for {remaining:.1f} s more)"


class Circuit:
    """The state of one endpoint and service: closed, open until a time, or half-open with one trial out."""

    def __init__(self, name: str, *, failures: int, reset_seconds: float, clock=time.monotonic):
        self.name = name
        self.threshold = failures
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.failures = 0
        self.open_until = 0.0
        self.trial_until = 0.0  # while a half-open trial is out, other calls keep failing fast
        self.opened = 0  # how many times it opened (figures for benchmarks and tests)
        self.refused = 0  # calls refused without touching the network
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self.failures < self.threshold:
                return "closed"
            return "open" if self.clock() < self.open_until else "half-open"

    def before_call(self) -> None:
        """Raise CircuitOpen while open; let one trial through once the reset period is over."""
        with self._lock:
            if self.failures < self.threshold:
                return
            now = self.clock()
            if now < self.open_until or now < self.trial_until:
                self.refused += 1
                raise CircuitOpen(service=self.name, remaining=max(self.open_until, self.trial_until) - now)
            # Half-open: this call is the trial; give it the reset period to come back before another goes.
            self.trial_until = now + self.reset_seconds

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                if self.failures >= self.threshold:
                    logger.warning("AWS %s answers again: circuit closed", self.name)
                self.failures = 0
                self.trial_until = 0.0
                return
            self.failures += 1
            if self.failures >= self.threshold:
                if self.clock() >= self.open_until:
                    if self.failures == self.threshold:
                        logger.warning("AWS %s is not answering: circuit open for %.0f s", self.name,
                                       self.reset_seconds)
                    self.opened += 1
                self.open_until = self.clock() + self.reset_seconds
                self.trial_until = 0.0


_circuits: dict[str, Circuit] = {}
_circuits_lock = threading.Lock()


def _normal(endpoint: str | None) -> str:
    """One spelling per endpoint: kombu writes ``http://host:80`` where settings say ``http://host``."""
    if not endpoint:
        return "aws"
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def circuit_for(endpoint: str | None, service: str) -> Circuit:
    key = f"{service}@{_normal(endpoint)}"
    with _circuits_lock:
        found = _circuits.get(key)
        if found is None:
            found = _circuits[key] = Circuit(key, failures=settings.AWS_BREAKER_FAILURES,
                                             reset_seconds=settings.AWS_BREAKER_RESET_SECONDS)
        return found


def circuits() -> dict[str, Circuit]:
    with _circuits_lock:
        return dict(_circuits)


def _after_fork_in_child() -> None:
    global _circuits_lock
    _circuits_lock = threading.Lock()  # a lock held by another thread at the fork would never be released
    _circuits.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset() -> None:
    """Close every circuit and forget them (tests that switch endpoints call it)."""
    with _circuits_lock:
        for circuit in _circuits.values():  # clients built before keep theirs: close it too
            circuit.failures, circuit.open_until, circuit.trial_until = 0, 0.0, 0.0
        _circuits.clear()


def _attempt_ok(response, caught_exception) -> bool | None:
    """True for an answer that proves the endpoint alive, False for a failure, None for our own refusal."""
    if caught_exception is not None:
        if isinstance(caught_exception, CircuitOpen):
            return None
        return not isinstance(caught_exception, (BotoConnectionError, HTTPClientError))
    if response is None:
        return None
    status = response[0].status_code
    return status not in FAILURE_STATUSES


def attach(boto_client, *, endpoint: str | None, service: str, record_failures: bool = True):
    """Put ``boto_client`` behind the breaker of its endpoint and service; return the client.

    ``record_failures=False`` (health probes: short timeouts, one attempt, polled by anyone) lets the client's
    successes close the circuit but never lets its failures open it for the app.
    """
    if not settings.AWS_BREAKER_ENABLED:
        return boto_client
    circuit = circuit_for(endpoint, service)

    def refuse_while_open(**kwargs):
        circuit.before_call()

    def observe(response=None, caught_exception=None, **kwargs):
        ok = _attempt_ok(response, caught_exception)
        if ok or (ok is False and record_failures):
            circuit.record(ok)

    events = boto_client.meta.events
    events.register_first("before-send", refuse_while_open, unique_id="stocktool-breaker-send")
    events.register_first("needs-retry", observe, unique_id="stocktool-breaker-observe")
    return boto_client
