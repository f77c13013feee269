"""Record application metrics without waiting on CloudWatch.

``record(metric, value, unit, **dimensions)`` and the ``track_*`` helpers only append to a bounded
in-process buffer. A background thread (``Flusher``), started on the first point in each process and again
in a forked child, aggregates and sends them every ``MONITORING_FLUSH_INTERVAL`` seconds and at exit. With
``CLOUDWATCH_ENABLED=false`` the aggregated metrics go to the log instead.
"""

import atexit
import logging
import os
import threading
import time

from django.conf import settings

from stocktool import aws
from stocktool.aws import cloudwatch

from .buffer import Dimensions, MetricsBuffer
from .flusher import Flusher

logger = logging.getLogger("monitoring.metrics")

_buffer = MetricsBuffer(getattr(settings, "MONITORING_BUFFER_SIZE", 50_000))
_flusher: Flusher | None = None
_started = False
_start_lock = threading.Lock()
_exit_hook = False


def record(metric: str, value: float, unit: str = "None", **dimensions: str) -> None:
    """Append one data point to the buffer; never does I/O."""
    append(metric, value, unit, tuple(sorted((k, _clean(v)) for k, v in dimensions.items())))


def append(metric: str, value: float, unit: str, dimensions: Dimensions) -> None:
    """``record`` with dimensions already as a sorted tuple of ``(name, value)`` (the middleware's fast path)."""
    if not _started:
        _start()
    _buffer.append((time.time(), metric, float(value), unit, dimensions))


def track_cache(cache_name: str, hit: bool, elapsed_ms: float | None = None) -> None:
    record(cloudwatch.CACHE_HIT_RATE, 100.0 if hit else 0.0, cloudwatch.PERCENT, Cache=cache_name)
    if elapsed_ms is not None:
        record("CacheLookupTime", elapsed_ms, cloudwatch.MS, Cache=cache_name)


def track_tool(tool: str, elapsed_ms: float, success: bool) -> None:
    record(cloudwatch.TOOL_TIME, elapsed_ms, cloudwatch.MS, Tool=tool, Success=str(bool(success)).lower())


def track_model(model: str, tokens: int, elapsed_ms: float) -> None:
    record(cloudwatch.MODEL_TOKENS, tokens, cloudwatch.COUNT, Model=model)
    record(cloudwatch.MODEL_LATENCY, elapsed_ms, cloudwatch.MS, Model=model)


def flush() -> int:
    """Send what is buffered now (tests, benchmarks, shutdown); return the datums sent."""
    flusher = _flusher or _make_flusher()
    return flusher.flush(force=True)


def stats() -> dict:
    """This process's buffer: points waiting, data points dropped, whether CloudWatch is failing."""
    flusher = _flusher
    return {
        "buffered": len(_buffer),
        "capacity": _buffer.maxlen,
        "pending": flusher.pending_samples if flusher else 0,
        "dropped": flusher.dropped if flusher else _buffer.dropped,
        "sent_datums": flusher.sent_datums if flusher else 0,
        "failing": bool(flusher and flusher.failing),
        "running": bool(flusher and flusher.running),
    }


def shutdown(timeout: float = 3.0) -> None:
    """Stop the flusher after a last flush (atexit, Celery's worker process shutdown)."""
    if _flusher is not None:
        _flusher.stop(timeout, quiet=True)


def _clean(value) -> str:
    # CloudWatch dimension values: 1 to 1024 characters. Keep them short; ids do not belong there anyway.
    return str(value)[:255] or "none"


def _make_flusher() -> Flusher:
    global _flusher
    if settings.CLOUDWATCH_ENABLED:
        send = aws.get_cloudwatch_service().put_batch
    else:
        send = _log_batch
    sample = aws.get_cloudwatch_service().track_queue_depth if settings.SQS_ENABLED else None
    _flusher = Flusher(
        _buffer,
        send,
        interval=settings.MONITORING_FLUSH_INTERVAL,
        sample=sample,
        sample_interval=settings.MONITORING_QUEUE_DEPTH_INTERVAL,
    )
    return _flusher


def _start() -> None:
    global _started, _exit_hook
    with _start_lock:
        if _started:
            return
        _started = True  # once per process, whatever happens next: recording must never fail
        try:
            flusher = _flusher or _make_flusher()
            if not flusher.running:
                flusher.start()
            if not _exit_hook:
                atexit.register(shutdown)
                _exit_hook = True
        except Exception:
            logger.exception("metrics flusher did not start; metrics stay in the buffer")


def _after_fork_in_child() -> None:
    # The parent's thread does not exist here and its points are the parent's to send: start afresh; the
    # first point recorded in this process starts its own flusher (Celery's prefork children, gunicorn).
    global _flusher, _started, _start_lock
    _buffer.reset()
    _flusher, _started, _start_lock = None, False, threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _log_batch(batch: list[dict]) -> None:
    for datum in batch:
        values, counts = datum["Values"], datum["Counts"]
        n = sum(counts)
        dims = ",".join(f"{d['Name']}={d['Value']}" for d in datum["Dimensions"])
        logger.info(
            "metric %s{%s} n=%d avg=%.3f min=%s max=%s %s",
            datum["MetricName"], dims, n, sum(v * c for v, c in zip(values, counts)) / n, values[0], values[-1],
            datum["Unit"],
        )
