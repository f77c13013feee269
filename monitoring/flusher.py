"""The background flusher: drains the buffer every few seconds and sends PutMetricData in batches.

Sending happens only here, never on a request. What CloudWatch did not take stays queued (aggregated) and
is retried with back-off; the queue is bounded like the buffer, so an outage drops the oldest data, counts
it, and logs one warning until CloudWatch answers again.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from stocktool.aws.cloudwatch import batches

from .buffer import MetricsBuffer, aggregate, samples

logger = logging.getLogger("monitoring.metrics")

MAX_BACKOFF_SECONDS = 60.0


class Flusher:
    def __init__(
        self,
        buffer: MetricsBuffer,
        send: Callable[[list[dict]], None],
        *,
        interval: float = 5.0,
        max_pending: int | None = None,
        sample: Callable[[], object] | None = None,
        sample_interval: float = 0,
    ):
        self.buffer, self.send, self.interval = buffer, send, interval
        self.max_pending = max_pending or buffer.maxlen
        self.sample, self.sample_interval = sample, sample_interval
        self._pending: deque[dict] = deque()
        self.pending_samples = 0
        self.dropped_unsent = 0  # aggregated data points given up after CloudWatch refused them too long
        self.sent_datums = 0
        self.failing = False
        self._warned = False
        self._dropped_seen = 0
        self._retry_at = 0.0
        self._backoff = interval
        self._next_sample = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._quiet = False  # at exit: log streams may be closed already, and nobody reads them

    @property
    def dropped(self) -> int:
        return self.buffer.dropped + self.dropped_unsent

    def flush(self, *, force: bool = False) -> int:
        """Aggregate what is buffered and send it with what is still queued; return the datums sent."""
        with self._lock:
            self._queue(aggregate(self.buffer.drain()))
            if not self._pending or (self.failing and not force and time.monotonic() < self._retry_at):
                self._check_drops(ok=not self.failing)
                return 0
            sent = 0
            for batch in batches(list(self._pending)):
                try:
                    self.send(batch)
                except Exception as exc:  # noqa: BLE001  any failure: keep the data, back off, say so once
                    self._failed(exc)
                    return sent
                for _ in batch:
                    self.pending_samples -= samples(self._pending.popleft())
                sent += len(batch)
            self.sent_datums += sent
            self._recovered()
            return sent

    def _queue(self, datums: list[dict]) -> None:
        self._pending.extend(datums)
        self.pending_samples += sum(samples(d) for d in datums)
        while self.pending_samples > self.max_pending and self._pending:
            lost = samples(self._pending.popleft())
            self.pending_samples -= lost
            self.dropped_unsent += lost

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            self._backoff = self.interval
        else:
            self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)
        self.failing = True
        self._retry_at = time.monotonic() + self._backoff
        self._warn(
            "CloudWatch PutMetricData failed (%s); metrics stay buffered and are retried, the oldest dropped "
            "beyond %d data points. Not logged again until CloudWatch answers.",
            str(exc).splitlines()[0][:300], self.max_pending,
        )

    def _recovered(self) -> None:
        if self.failing and not self._quiet:
            logger.info("CloudWatch takes metrics again; %d data points were dropped meanwhile", self.dropped)
            self.failing = False
            self._backoff = self.interval
        self._check_drops(ok=True)

    def _check_drops(self, *, ok: bool) -> None:
        dropped = self.dropped
        if dropped > self._dropped_seen:
            self._warn("metrics buffer full: %d data points dropped so far (the oldest first); CloudWatch is "
                       "slow or MONITORING_BUFFER_SIZE too small. Not logged again until it recovers.", dropped)
        elif ok:
            self._warned = False
        self._dropped_seen = dropped

    def _warn(self, message: str, *args) -> None:
        if not self._warned and not self._quiet:
            self._warned = True
            logger.warning(message, *args)

    # --- The thread ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="metrics-flusher", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 3.0, quiet: bool = False) -> None:
        """Flush one last time and stop; give up waiting after ``timeout`` (never hold a shutdown up)."""
        self._quiet = quiet
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._tick()
        self._tick(force=True)

    def _tick(self, force: bool = False) -> None:
        try:
            if self.sample and self.sample_interval and time.monotonic() >= self._next_sample:
                self._next_sample = time.monotonic() + self.sample_interval
                try:
                    self.sample()
                except Exception as exc:  # noqa: BLE001  a sample is optional; the flush goes on
                    logger.debug("metrics sample failed: %s", exc)
            self.flush(force=force)
        except Exception:  # the flusher must outlive any bug in a batch
            logger.exception("metrics flush failed")
