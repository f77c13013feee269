"""The Celery app: broker on SQS through kombu, configured from Django settings (CELERY_*)."""

import os
from collections.abc import Mapping

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocktool.settings.base")

app = Celery("stocktool")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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


_survive_failed_polls()
