"""Record application metrics without waiting on CloudWatch.

Contract used by every app (the monitoring issue fills in the buffer and the background flusher):
``record(metric, value, unit, **dimensions)`` only appends to an in-process buffer and never does I/O.
"""

import threading
from collections import deque

_lock = threading.Lock()
_buffer: deque = deque(maxlen=10_000)


def record(metric: str, value: float, unit: str = "None", **dimensions: str) -> None:
    with _lock:
        _buffer.append((metric, float(value), unit, tuple(sorted((k, str(v)) for k, v in dimensions.items()))))


def track_cache(cache_name: str, hit: bool, elapsed_ms: float | None = None) -> None:
    record("CacheHitRate", 100.0 if hit else 0.0, "Percent", Cache=cache_name)
    if elapsed_ms is not None:
        record("CacheLookupTime", elapsed_ms, "Milliseconds", Cache=cache_name)


def track_tool(tool: str, elapsed_ms: float, success: bool) -> None:
    record("ToolExecutionTime", elapsed_ms, "Milliseconds", Tool=tool, Success=str(success).lower())


def track_model(model: str, tokens: int, elapsed_ms: float) -> None:
    record("ModelTokens", tokens, "Count", Model=model)
    record("ModelLatency", elapsed_ms, "Milliseconds", Model=model)
