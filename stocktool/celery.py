"""The Celery app: broker on SQS through kombu, configured from Django settings (CELERY_*)."""

import os
from collections.abc import Mapping

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocktool.settings.base")

app = Celery("stocktool")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _keep_long_tasks_hidden() -> None:
    """The worker extends its SQS messages' visibility while it holds them (stocktool/visibility.py)."""
    from celery import signals

    from stocktool import visibility

    signals.worker_ready.connect(visibility.on_worker_ready, weak=False, dispatch_uid="stocktool-visibility")
    signals.worker_shutdown.connect(visibility.on_worker_shutdown, weak=False,
                                    dispatch_uid="stocktool-visibility-stop")


_keep_long_tasks_hidden()


class PredefinedQueues(Mapping):
    """kombu's ``predefined_queues``, with each queue URL looked up on first use.

    Predefined queues mean workers never need permission to create queues; looking the URL up lazily keeps
    start-up free of AWS calls and works on any emulator's account id.
    """

    def __init__(self, names: list[str]):
        self._names = list(names)
        self._resolved: dict[str, dict] = {}

    def __getitem__(self, name: str) -> dict:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._resolved:
            from stocktool.aws.sqs import queue_url

            self._resolved[name] = {"url": queue_url(name)}
        return self._resolved[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@app.on_after_configure.connect
def _predefine_queues(sender, **kwargs):
    from django.conf import settings

    if not settings.SQS_ENABLED:
        return
    options = dict(sender.conf.broker_transport_options or {})
    if settings.SQS_QUEUE_ANALYSIS_URL:
        options["predefined_queues"] = {settings.SQS_QUEUE_ANALYSIS: {"url": settings.SQS_QUEUE_ANALYSIS_URL}}
    else:
        options["predefined_queues"] = PredefinedQueues([settings.SQS_QUEUE_ANALYSIS])
    sender.conf.broker_transport_options = options


def _survive_failed_polls() -> None:
    """Keep the worker alive while SQS is unreachable.

    kombu 5.7.0's async SQS client turns a failed ReceiveMessage (timeout, 5xx, connection refused) into
    ``[]``, which ``Channel._on_messages_ready`` then calls ``.get`` on: the worker crashes with
    AttributeError. Treat it as an empty poll, and pause a second so a dead endpoint is not hammered.
    """
    import logging
    import time

    from kombu.transport import SQS

    original = SQS.Channel._on_messages_ready
    if getattr(original, "_stocktool_patched", False):
        return
    log = logging.getLogger("stocktool.celery")

    def _on_messages_ready(self, queue, qname, messages):
        if isinstance(messages, dict):
            return original(self, queue, qname, messages)
        log.warning("SQS poll of %s failed (endpoint unreachable or erroring); retrying in 1 s", qname)
        time.sleep(1)
        return 0

    _on_messages_ready._stocktool_patched = True
    SQS.Channel._on_messages_ready = _on_messages_ready


class _ReadyQueue(dict):
    """The event loop's pending callbacks in the order they were queued (kombu keeps them in a set)."""

    def add(self, callback) -> None:
        self[callback] = None


def _no_idle_waits_in_the_event_loop() -> None:
    """Stop the worker's event loop from idling while callbacks are queued (two fixes to kombu 5.7.0's Hub).

    Each pass of ``Hub.create_loop`` runs the queued ``call_soon`` callbacks, then the timers, then waits:
    ``poll(timeout)``, or ``sleep(min(timeout, 0.1))`` when no socket is registered, as on SQS between two
    requests (pycurl's sockets are the only ones). A callback queued during the pass waits for that; the
    loop's thread does not wake it. With late acks, the ack and the next ReceiveMessage are such callbacks:

    - pycurl sometimes completes a ReceiveMessage inside its timer (``CurlClient._timeout_check``) rather
      than on a socket event. The task runs, but its ack and the next poll wait 100 ms, and so does the
      next task (in benchmarks/bench_queue.py: 2 to 15 of 200 tasks sent back to back took 108 to 148 ms).
      Fix: when the timers queued callbacks, the wait is 0.
    - The callbacks run in set order, so the next poll can run before the acks that free its prefetch
      slots: it finds no slot, queues itself again and waits 100 ms (30 to 40 times in a 300-task burst,
      a third of the time). Fix: run them in the order they were queued (acks come first).

    A poll that re-queues itself while every prefetch slot is busy still waits as before, so nothing spins.
    Skipped if kombu's Hub no longer looks like this; drop it once kombu runs timer-queued callbacks at once.
    """
    from kombu.asynchronous.hub import Hub

    original = Hub.fire_timers
    if getattr(original, "_stocktool_patched", False):
        return
    if not {"_ready", "_ready_lock"} <= set(Hub.__init__.__code__.co_names) or not hasattr(Hub, "_pop_ready"):
        return

    def fire_timers(self, *args, **kwargs):
        queued_before = len(self._ready)
        delay = original(self, *args, **kwargs)
        return 0 if len(self._ready) > queued_before else delay

    def _pop_ready(self):
        with self._ready_lock:
            ready, self._ready = self._ready, _ReadyQueue()
            return ready

    fire_timers._stocktool_patched = True
    Hub.fire_timers = fire_timers
    Hub._pop_ready = _pop_ready


def _sqs_clients_behind_the_breaker() -> None:
    """Put kombu's boto3 SQS clients behind the AWS layer's circuit breaker (stocktool/aws/breaker.py).

    A web process publishing while SQS is down then fails within kombu's publish retries instead of waiting
    out every attempt's timeout; the timeouts themselves come from ``client-config`` in the transport options.
    """
    from kombu.transport import SQS

    original = SQS.Channel._new_boto_client
    if getattr(original, "_stocktool_patched", False):
        return

    def _new_boto_client(self, service, *args, **kwargs):
        from stocktool.aws import breaker

        return breaker.attach(original(self, service, *args, **kwargs), endpoint=self.endpoint_url, service=service)

    _new_boto_client._stocktool_patched = True
    SQS.Channel._new_boto_client = _new_boto_client


_survive_failed_polls()
_no_idle_waits_in_the_event_loop()
_sqs_clients_behind_the_breaker()
