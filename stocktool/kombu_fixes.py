"""Every change StockTool makes to kombu, in one place, each applied only to the kombu releases it was written
against (``APPLIES_TO``) and tested on its own (tests/test_kombu_fixes.py: each test fails without its fix).

kombu is pinned below 5.8 in pyproject.toml because of them: 5.7.0, its latest release (checked on 2026-12-05
against PyPI and kombu's main branch), still has both bugs below. A new release that fixes them lets the pin
go; one that moves the code they touch makes ``apply()`` skip them, with a warning, rather than break.

The notes are written as the upstream reports would be.

**1. The SQS transport's worker dies when a ReceiveMessage fails** (kombu 5.7.0, ``kombu/transport/SQS``).
When a long poll fails (timeout, HTTP 5xx, connection refused), the asynchronous SQS client calls the
poll's callback with ``[]`` instead of a response dict, and ``Channel._on_messages_ready`` then calls
``messages.get('Messages')``: ``AttributeError: 'list' object has no attribute 'get'`` escapes the event loop
and the worker exits. Reproduce: start a worker on SQS, stop the SQS endpoint. Expected: the failed poll is
logged and retried. Workaround (``_survive_failed_polls``): treat a non-dict as an empty poll, log it and pause
a second so a dead endpoint is not hammered.

**2. The worker's event loop idles 100 ms while callbacks are queued** (kombu 5.7.0,
``kombu/asynchronous/hub.py``). Each pass of ``Hub.create_loop`` runs the queued ``call_soon`` callbacks, then
the timers, then waits: ``poll(timeout)``, or ``sleep(min(timeout, 0.1))`` when no socket is registered, as
on SQS between two requests. Two things make queued work wait for that sleep:

- pycurl sometimes completes a ReceiveMessage inside its timer (``CurlClient._timeout_check``) rather than on
  a socket event: the task runs, but its ack and the next poll, queued by the timer, wait 100 ms (in
  benchmarks/bench_queue.py, 2 to 15 of 200 tasks sent back to back took 108 to 148 ms). Expected: when the
  timers queued callbacks, the loop does not wait. Workaround: ``fire_timers`` returns 0 then.
- ``Hub._ready`` is a set, so callbacks run in hash order: the next poll can run before the acks that free
  its prefetch slots, find no slot, queue itself again and wait 100 ms (30 to 40 times in a 300-task
  burst). Expected: callbacks run in the order they were queued. Workaround: an insertion-ordered set, from
  the hub's start.

A poll that re-queues itself while every prefetch slot is busy still waits as before, so nothing spins.

**3. Not a bug: kombu's boto3 SQS clients go behind the AWS layer's circuit breaker**
(``_sqs_clients_behind_the_breaker``), so a web process publishing while SQS is down fails within kombu's
publish retries instead of waiting out every attempt's timeout. kombu has no hook for the clients it builds;
this wraps the private ``Channel._new_boto_client``.
"""

import logging
import re
import time
from dataclasses import dataclass

import kombu
from kombu.asynchronous.hub import Hub
from kombu.transport import SQS

logger = logging.getLogger(__name__)

APPLIES_TO = ((5, 7), (5, 8))  # kombu 5.7.x: the releases these were written against and tested on
RANGE = "5.7.x"


def applies(kombu_version: str) -> bool:
    found = re.match(r"(\d+)\.(\d+)", kombu_version)
    if found is None:
        return False
    return APPLIES_TO[0] <= (int(found[1]), int(found[2])) < APPLIES_TO[1]


def _replace(owner: type, name: str, new) -> None:
    """Put ``new`` in place of ``owner.name``, keeping kombu's own as ``new.kombu_original`` (for ``undo``)."""
    setattr(new, "kombu_original", getattr(owner, name))
    setattr(owner, name, new)


@dataclass(frozen=True)
class Fix:
    name: str
    applied: bool
    why: str = ""


# --- 1. a failed poll --------------------------------------------------------------------------------------

def _survive_failed_polls() -> None:
    original = SQS.Channel._on_messages_ready

    def _on_messages_ready(self, queue, qname, messages):
        if isinstance(messages, dict):
            return original(self, queue, qname, messages)
        logger.warning("SQS poll of %s failed (endpoint unreachable or erroring); retrying in 1 s", qname)
        time.sleep(1)
        return 0

    _replace(SQS.Channel, "_on_messages_ready", _on_messages_ready)


# --- 2. idle waits in the event loop -----------------------------------------------------------------------

class ReadyQueue(dict):
    """The event loop's pending callbacks in the order they were queued (kombu keeps them in a set)."""

    def add(self, callback) -> None:
        self[callback] = None


def _no_idle_waits_in_the_event_loop() -> None:
    original, original_init = Hub.fire_timers, Hub.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._ready = ReadyQueue()

    def fire_timers(self, *args, **kwargs):
        queued_before = len(self._ready)
        delay = original(self, *args, **kwargs)
        return 0 if len(self._ready) > queued_before else delay

    def _pop_ready(self):
        with self._ready_lock:
            ready, self._ready = self._ready, ReadyQueue()
            return ready

    _replace(Hub, "__init__", __init__)
    _replace(Hub, "fire_timers", fire_timers)
    _replace(Hub, "_pop_ready", _pop_ready)


# --- 3. the breaker ----------------------------------------------------------------------------------------

def _sqs_clients_behind_the_breaker() -> None:
    original = SQS.Channel._new_boto_client

    def _new_boto_client(self, service, *args, **kwargs):
        # (Loaded at the first client, not when Celery loads this module: the AWS layer brings every service
        # module, and the Lambda functions, which load Celery too, carry none of their libraries.)
        from stocktool.aws import breaker

        return breaker.attach(original(self, service, *args, **kwargs), endpoint=self.endpoint_url, service=service)

    _replace(SQS.Channel, "_new_boto_client", _new_boto_client)


# What each fix needs to find in kombu, so that a release that moved it is skipped rather than broken.
FIXES = {
    "survive failed polls": (_survive_failed_polls, lambda: hasattr(SQS.Channel, "_on_messages_ready")),
    "no idle waits in the event loop": (
        _no_idle_waits_in_the_event_loop,
        lambda: {"_ready", "_ready_lock"} <= set(Hub.__init__.__code__.co_names) and hasattr(Hub, "_pop_ready"),
    ),
    "SQS clients behind the breaker": (_sqs_clients_behind_the_breaker,
                                       lambda: hasattr(SQS.Channel, "_new_boto_client")),
}
_TARGETS = {
    "survive failed polls": lambda: SQS.Channel._on_messages_ready,
    "no idle waits in the event loop": lambda: Hub.fire_timers,
    "SQS clients behind the breaker": lambda: SQS.Channel._new_boto_client,
}


def apply(kombu_version: str | None = None) -> list[Fix]:
    """Apply each fix once, if this kombu is one it applies to and still has what it changes."""
    kombu_version = kombu_version or kombu.__version__
    done = []
    for name, (fix, fits) in FIXES.items():
        if hasattr(_TARGETS[name](), "kombu_original"):
            done.append(Fix(name, True, "already applied"))
        elif not applies(kombu_version):
            logger.warning("kombu %s: not applying the fix %r (written for kombu %s); see stocktool/kombu_fixes.py",
                           kombu_version, name, RANGE)
            done.append(Fix(name, False, f"kombu {kombu_version} is not {RANGE}"))
        elif not fits():
            logger.warning("kombu %s: the fix %r no longer fits kombu's code; skipped", kombu_version, name)
            done.append(Fix(name, False, "kombu's code changed"))
        else:
            fix()
            done.append(Fix(name, True))
    return done


def undo() -> None:
    """Put kombu back as it was (the tests show each bug this way)."""
    for owner, attribute in ((SQS.Channel, "_on_messages_ready"), (Hub, "fire_timers"), (Hub, "_pop_ready"),
                             (Hub, "__init__"), (SQS.Channel, "_new_boto_client")):
        original = getattr(getattr(owner, attribute), "kombu_original", None)
        if original is not None:
            setattr(owner, attribute, original)
