"""The Celery app: broker on SQS through kombu, configured from Django settings (CELERY_*)."""

import os
from collections.abc import Mapping

from celery import Celery, signals
from django.conf import settings

from stocktool import kombu_fixes, visibility
from stocktool.aws.sqs import queue_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stocktool.settings.base")

app = Celery("stocktool")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _keep_long_tasks_hidden() -> None:
    """The worker extends its SQS messages' visibility while it holds them (stocktool/visibility.py)."""
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
            self._resolved[name] = {"url": queue_url(name)}
        return self._resolved[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@app.on_after_configure.connect
def _predefine_queues(sender, **kwargs):
    if not settings.SQS_ENABLED:
        return
    options = dict(sender.conf.broker_transport_options or {})
    if settings.SQS_QUEUE_ANALYSIS_URL:
        options["predefined_queues"] = {settings.SQS_QUEUE_ANALYSIS: {"url": settings.SQS_QUEUE_ANALYSIS_URL}}
    else:
        options["predefined_queues"] = PredefinedQueues([settings.SQS_QUEUE_ANALYSIS])
    sender.conf.broker_transport_options = options


# kombu 5.7.0's bugs on SQS, worked around in one module, each for the releases it applies to.
kombu_fixes.apply()
