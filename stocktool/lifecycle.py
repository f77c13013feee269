"""What a process does as it stops: apps register it here (monitoring sends the metrics it has buffered), and
the web server's lifespan shutdown and ``process_events`` run it, so this package needs to know no app."""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

_on_stop: list[Callable[[float], None]] = []


def on_process_stop(work: Callable[[float], None]) -> None:
    """Run ``work(timeout)`` when the process stops (once, however often an app registers it)."""
    if work not in _on_stop:
        _on_stop.append(work)


def process_stop(timeout: float) -> None:
    """Run what the apps registered, each within ``timeout`` seconds; one failing does not stop the others."""
    for work in list(_on_stop):
        try:
            work(timeout)
        except Exception:  # noqa: BLE001 (a process on its way out says what failed and goes on)
            logger.exception("while stopping: %s failed", getattr(work, "__qualname__", work))
