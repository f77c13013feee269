"""Long tasks keep their SQS messages hidden while they run.

A received message stays invisible for the queue's visibility timeout (``SQS_VISIBILITY_TIMEOUT``); a task
still running when it ends would be delivered again and run twice. Instead of a timeout longer than the slowest
task (which is also how long a killed worker's task waits to come back), the worker's main process extends the
visibility of every message it holds, every third of the timeout, for as long as it holds it: the ones running
and the ones prefetched behind them. Celery passes neither the receipt handle nor the queue to the task, but
kombu's SQS message carries both (``delivery_tag`` is the receipt handle), and the main process keeps each
request until it acknowledges it, whatever the pool.

Started on Celery's ``worker_ready`` signal and stopped on ``worker_shutdown`` (stocktool/celery.py).
"""

import logging
import threading
import time

from celery.worker import state
from django.conf import settings

from stocktool.aws.sqs import change_visibility

logger = logging.getLogger(__name__)


class VisibilityHeartbeat:
    def __init__(self, timeout: int, *, held=None, extend=None):
        self.timeout = timeout
        self.every = max(1.0, timeout / 3)
        self.held = held or (lambda: list(state.reserved_requests))
        self.extend = extend or change_visibility
        self.extended = 0
        self._since: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqs-visibility", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat()
            except Exception:  # the heartbeat must outlive any one failure
                logger.exception("visibility heartbeat failed")

    def beat(self, now: float | None = None) -> int:
        """Extend every held message received at least a third of the timeout ago; return how many."""
        now = time.monotonic() if now is None else now
        seen, count = set(), 0
        for request in self.held():
            message = getattr(request, "_message", None)
            info = getattr(message, "delivery_info", None) or {}
            queue_url, receipt = info.get("sqs_queue"), getattr(message, "delivery_tag", None)
            if not queue_url or not receipt:
                continue  # not an SQS message (the memory broker, eager tests)
            seen.add(receipt)
            since = self._since.setdefault(receipt, now)
            if now - since < self.every - 0.01:
                continue  # a quick task: gone before it needs more time
            try:
                self.extend(queue_url, receipt, self.timeout)
                count += 1
            except Exception as exc:  # noqa: BLE001 (acknowledged meanwhile, or SQS down: the next beat retries)
                logger.info("could not extend a message's visibility: %s", exc)
        for receipt in set(self._since) - seen:
            del self._since[receipt]
        self.extended += count
        return count


_heartbeat: VisibilityHeartbeat | None = None


def on_worker_ready(**kwargs) -> None:
    global _heartbeat
    if not settings.SQS_ENABLED:
        return
    _heartbeat = VisibilityHeartbeat(settings.SQS_VISIBILITY_TIMEOUT)
    _heartbeat.start()


def on_worker_shutdown(**kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()
