"""Message items of a failed turn, deleted in the background once DynamoDB answers again."""

import logging
import threading
import time

from stocktool.aws.dynamodb import batch_write
from stocktool.aws.errors import AWSError

logger = logging.getLogger(__name__)


class OrphanSweeper:
    """Deletes, in the background, message items whose turn failed after they were written.

    A turn writes its messages, then the header; if the header update fails and DynamoDB does not answer
    the clean-up either (an outage), the deletes wait here and a daemon thread retries them every
    ``interval`` seconds until they succeed (the circuit breaker keeps the retries off the network while the
    endpoint is down). The conversation's window (its header) never shows them; a history read past the
    window (over 50 messages) can, until the sweep, and if the process stops first they stay until the
    conversation's expiry.
    """

    def __init__(self, interval: float = 2.0):
        self.interval = interval
        self._pending: list[tuple[str, list[dict]]] = []
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, table: str, deletes: list[dict], *, reason: str = "") -> None:
        logger.warning("%d message item(s) of a failed turn left in %s, to delete when DynamoDB answers: %s",
                       len(deletes), table, reason)
        with self._lock:
            self._pending.append((table, deletes))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dynamodb-orphans", daemon=True)
                self._thread.start()

    def pending(self) -> int:
        with self._lock:
            return sum(len(deletes) for _, deletes in self._pending)

    def sweep(self) -> int:
        """Try every pending delete once; return how many items are still pending."""
        with self._sweeping:  # one sweep at a time: a caller's sweep has finished when it returns
            with self._lock:
                batches, self._pending = self._pending, []
            for index, (table, deletes) in enumerate(batches):
                try:
                    batch_write(table, deletes)
                except AWSError:
                    with self._lock:
                        self._pending[:0] = batches[index:]  # keep the order; try again later
                    break
            return self.pending()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            if self.sweep() == 0:
                with self._lock:
                    if not self._pending:
                        self._thread = None
                        return


orphan_sweeper = OrphanSweeper()
