"""The bounded in-process metrics buffer, and the aggregation of its points into CloudWatch datums (no I/O)."""

import math
import threading
from collections import Counter, deque

from stocktool.aws import cloudwatch

Dimensions = tuple[tuple[str, str], ...]
Point = tuple[float, str, float, str, Dimensions]  # (unix time, metric, value, unit, sorted dimensions)

TIME_UNITS = frozenset({"Microseconds", "Milliseconds", "Seconds"})
SIGNIFICANT_DIGITS = 3
FIVE_XX = ("StatusClass", "5xx")


class MetricsBuffer:
    """A thread-safe ring of points: when full, the oldest point goes and ``dropped`` counts it."""

    def __init__(self, maxlen: int):
        self.maxlen = maxlen
        self._points: deque = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self.dropped = 0

    def append(self, point: Point) -> None:
        with self._lock:
            if len(self._points) == self.maxlen:
                self.dropped += 1
            self._points.append(point)

    def drain(self) -> deque:
        """Take every point out, oldest first."""
        with self._lock:
            points, self._points = self._points, deque(maxlen=self.maxlen)
        return points

    def reset(self) -> None:
        """Start empty with a fresh lock (a forked child: the parent sends its own points)."""
        self._lock = threading.Lock()
        self._points = deque(maxlen=self.maxlen)
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._points)


def quantize(value: float) -> float:
    """Round a duration to 3 significant digits (at most 0.5% off): far fewer distinct values to send."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def aggregate(points) -> list[dict]:
    """Turn points into PutMetricData datums: per minute, metric and dimensions, ``Values``/``Counts`` arrays.

    Each point of a metric in ``cloudwatch.ROLLUPS`` also feeds its dimensionless "...All" series, and a 5xx
    ``APILatency`` point ``Errors``. Values CloudWatch rejects (NaN, infinities) are skipped.
    """
    groups: dict[tuple, list] = {}

    def add(ts: float, metric: str, unit: str, dims: Dimensions, value: float) -> None:
        key = (int(ts // 60), metric, unit, dims)
        group = groups.get(key)
        if group is None:
            group = groups[key] = [ts, Counter()]
        elif ts > group[0]:
            group[0] = ts
        group[1][value] += 1

    for ts, metric, value, unit, dims in points:
        if not math.isfinite(value) or abs(value) > 1e100:  # CloudWatch takes magnitudes up to 1.17e108
            continue
        if unit in TIME_UNITS:
            value = quantize(value)
        if abs(value) < 1e-100:  # and none below 8.5e-109 but zero
            value = 0.0
        add(ts, metric, unit, dims, value)
        rollup = cloudwatch.ROLLUPS.get(metric)
        if rollup and dims:
            add(ts, rollup, unit, (), value)
            if metric == cloudwatch.API_LATENCY and FIVE_XX in dims:
                add(ts, cloudwatch.ERRORS, cloudwatch.COUNT, (), 1.0)
    out: list[dict] = []
    for (_, metric, unit, dims), (ts, counts) in sorted(groups.items()):
        out += cloudwatch.datums(metric, unit, dims, ts, counts)
    return out


def samples(datum: dict) -> int:
    """How many data points a datum carries."""
    if "Counts" in datum:
        return int(sum(datum["Counts"]))
    if "StatisticValues" in datum:
        return int(datum["StatisticValues"]["SampleCount"])
    return 1
