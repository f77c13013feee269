"""CloudWatch: StockTool's metrics (namespace ``StockTool``): tracking, batching within the API's limits, and
reading back the summary and chart series the monitoring page shows.

The ``track_*`` calls never do I/O: they hand the data point to the recorder that the monitoring app
installs (its bounded buffer and background flusher). This package imports no app, hence the hook.
"""

import logging
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from django.conf import settings

from .errors import AWSError, translated
from .session import client

logger = logging.getLogger(__name__)

# PutMetricData limits: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
MAX_DATUMS_PER_CALL = 1000
MAX_VALUES_PER_DATUM = 150
# 1 MB per request; sizes are estimated for the most verbose protocol (query strings), so keep a margin.
MAX_BYTES_PER_CALL = 900_000

API_LATENCY = "APILatency"  # per Route, Method, StatusClass
ERRORS = "Errors"  # 5xx responses, no dimensions
TOOL_TIME = "ToolExecutionTime"  # per Tool, Success
CACHE_HIT_RATE = "CacheHitRate"  # per Cache
MODEL_TOKENS = "ModelTokens"  # per Model
MODEL_LATENCY = "ModelLatency"  # per Model
# Each of those also goes, without dimensions, into an "...All" series: CloudWatch never adds dimension
# combinations up (percentiles across routes, alarms and the summary need one series), and a second series
# under the same name would be counted twice by moto, which adds up every combination when asked for none.
ROLLUPS = {m: f"{m}All" for m in (API_LATENCY, TOOL_TIME, CACHE_HIT_RATE, MODEL_TOKENS, MODEL_LATENCY)}
API_LATENCY_ALL = ROLLUPS[API_LATENCY]
QUEUE_DEPTH = "QueueDepth"
QUEUE_ROLES = ("analysis", "dlq")  # QueueDepth's Queue dimension: names stay the same in every environment
MS, COUNT, PERCENT = "Milliseconds", "Count", "Percent"

PERCENTILES_NOTE = "this CloudWatch endpoint does not serve percentiles (moto does not); not reported"

Recorder = Callable[..., None]
_recorder: Recorder | None = None
_percentiles_off: dict[str | None, float] = {}  # endpoint -> until when percentile queries are not tried


def install_recorder(recorder: Recorder | None) -> None:
    """Route ``track_*`` calls to ``recorder(metric, value, unit, **dimensions)`` (the monitoring buffer)."""
    global _recorder
    _recorder = recorder


def emit(metric: str, value: float, unit: str, **dimensions: str) -> None:
    if _recorder is not None:
        _recorder(metric, value, unit, **dimensions)
    else:
        logger.debug("metric %s=%s %s %s (no recorder installed)", metric, value, unit, dimensions)


def status_class(status_code: int) -> str:
    return f"{int(status_code) // 100}xx"


class CloudWatchService:
    def __init__(self, namespace: str):
        self.namespace = namespace

    # --- Tracking: in-process only -------------------------------------------------------------------------
    def track_api_latency(self, endpoint: str, latency_ms: float, status_code: int, method: str = "ANY") -> None:
        emit(API_LATENCY, latency_ms, MS, Route=endpoint, Method=method, StatusClass=status_class(status_code))

    def track_tool_execution(self, tool: str, execution_time_ms: float, success: bool) -> None:
        emit(TOOL_TIME, execution_time_ms, MS, Tool=tool, Success=str(bool(success)).lower())

    def track_cache_hit_rate(self, cache_name: str, hit: bool) -> None:
        emit(CACHE_HIT_RATE, 100.0 if hit else 0.0, PERCENT, Cache=cache_name)

    def track_model_usage(self, model: str, tokens_used: int, response_time_ms: float) -> None:
        emit(MODEL_TOKENS, tokens_used, COUNT, Model=model)
        emit(MODEL_LATENCY, response_time_ms, MS, Model=model)

    def track_queue_depth(self) -> dict[str, int]:
        """Sample the analysis queue and its dead-letter queue (two SQS calls) and record ``QueueDepth``."""
        from . import get_sqs_service  # (the package imports this module: a cycle)

        sqs = get_sqs_service()
        depths = {"analysis": sqs.depth(), "dlq": sqs.depth(dead_letter=True)}
        for role, depth in depths.items():
            emit(QUEUE_DEPTH, depth, COUNT, Queue=role)
        return depths

    # --- Writing ---------------------------------------------------------------------------------------------
    def put_metric_data(self, metric_data: list[dict]) -> None:
        """Send ``metric_data`` in calls within PutMetricData's limits."""
        for batch in batches(metric_data):
            self.put_batch(batch)

    def put_batch(self, batch: list[dict]) -> None:
        """Send one batch (see ``batches``) in one call."""
        with translated(f"put metrics to {self.namespace}"):
            client("cloudwatch").put_metric_data(Namespace=self.namespace, MetricData=batch)

    def ping(self, purpose: str = "probe") -> None:
        client("cloudwatch", purpose=purpose).list_dashboards(DashboardNamePrefix="stocktool")

    # --- Reading ---------------------------------------------------------------------------------------------
    def get_performance_summary(self, hours: float = 1) -> dict:
        """Totals and averages of the last ``hours``, read back from CloudWatch (one period for the window)."""
        end = _now()
        period = max(60, int(hours * 3600) // 60 * 60)
        start = end - timedelta(seconds=period)
        with translated(f"read metrics of {self.namespace}"):
            raw = self._read(start, end, period)
            pct = self._percentiles(start, end, period, ("p50", "p90"))
        totals = {key: sum(v for _, v in points) for key, points in raw.items() if key[1] != "Maximum"}
        peaks = {key: max((v for _, v in points), default=None) for key, points in raw.items() if key[1] == "Maximum"}
        requests = int(totals.get((API_LATENCY_ALL, "SampleCount"), 0))
        errors = int(totals.get((ERRORS, "Sum"), 0))
        summary = {
            "hours": hours,
            "namespace": self.namespace,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "requests": requests,
            "errors": errors,
            "error_rate": round(100 * errors / requests, 2) if requests else None,
            "avg_api_latency_ms": _ratio(totals, API_LATENCY_ALL),
            "p50_api_latency_ms": _first(pct["series"].get("p50")),
            "p90_api_latency_ms": _first(pct["series"].get("p90")),
            "percentiles_available": pct["available"],
            "percentiles_note": pct["note"],
            "tool_executions": int(totals.get((TOOL_TIME, "SampleCount"), 0)),
            "avg_tool_time_ms": _ratio(totals, TOOL_TIME),
            "cache_lookups": int(totals.get((CACHE_HIT_RATE, "SampleCount"), 0)),
            "avg_cache_hit_rate": _ratio(totals, CACHE_HIT_RATE),
            "model_tokens": int(totals.get((MODEL_TOKENS, "Sum"), 0)),
            "avg_model_latency_ms": _ratio(totals, MODEL_LATENCY),
            "max_queue_depth": {role: _int(peaks.get((f"{QUEUE_DEPTH}:{role}", "Maximum"))) for role in QUEUE_ROLES},
        }
        if requests and summary["p90_api_latency_ms"] is None:  # e.g. ExtendedStatistics that come back empty
            summary.update(percentiles_available=False, percentiles_note=PERCENTILES_NOTE)
        return summary

    def get_series(self, hours: float = 1, period: int | None = None) -> dict:
        """Chart series of the last ``hours``: lists of ``(timestamp, value)`` per metric."""
        period = period or default_period(hours)
        end = _ceil(_now(), period)
        start = end - timedelta(hours=hours)
        with translated(f"read metrics of {self.namespace}"):
            raw = self._read(start, end, period)
            pct = self._percentiles(start, end, period, ("p50", "p90"))
        return {
            "hours": hours,
            "period": period,
            "start": start,
            "end": end,
            "latency_avg": _divide(raw.get((API_LATENCY_ALL, "Sum")), raw.get((API_LATENCY_ALL, "SampleCount"))),
            "latency_p50": pct["series"].get("p50"),
            "latency_p90": pct["series"].get("p90"),
            "percentiles_available": pct["available"],
            "percentiles_note": pct["note"],
            "requests": raw.get((API_LATENCY_ALL, "SampleCount"), []),
            "errors": raw.get((ERRORS, "Sum"), []),
            "cache_hit_rate": _divide(raw.get((CACHE_HIT_RATE, "Sum")), raw.get((CACHE_HIT_RATE, "SampleCount"))),
            "tool_time_avg": _divide(raw.get((TOOL_TIME, "Sum")), raw.get((TOOL_TIME, "SampleCount"))),
            "model_tokens": raw.get((MODEL_TOKENS, "Sum"), []),
            "queue_depth": {role: raw.get((f"{QUEUE_DEPTH}:{role}", "Maximum"), []) for role in QUEUE_ROLES},
        }

    def _read(self, start: datetime, end: datetime, period: int) -> dict[tuple[str, str], list]:
        """Read the dimensionless series; return ``{(metric, stat): [(ts, value)]}`` on the window's grid.

        GetMetricStatistics, not GetMetricData: moto's GetMetricData ignores the namespace once a query
        names dimensions.
        """
        reads: list[tuple[str, str, list[dict], tuple[str, ...]]] = [
            (API_LATENCY_ALL, API_LATENCY_ALL, [], ("SampleCount", "Sum")),
            (ERRORS, ERRORS, [], ("Sum",)),
            (TOOL_TIME, ROLLUPS[TOOL_TIME], [], ("Sum", "SampleCount")),
            (CACHE_HIT_RATE, ROLLUPS[CACHE_HIT_RATE], [], ("Sum", "SampleCount")),
            (MODEL_TOKENS, ROLLUPS[MODEL_TOKENS], [], ("Sum",)),
            (MODEL_LATENCY, ROLLUPS[MODEL_LATENCY], [], ("Sum", "SampleCount")),
        ]
        reads += [(f"{QUEUE_DEPTH}:{role}", QUEUE_DEPTH, [{"Name": "Queue", "Value": role}], ("Maximum",))
                  for role in QUEUE_ROLES]
        out: dict[tuple[str, str], list] = {}
        for series, metric, dims, stats in reads:
            for stat, points in self._statistics(metric, dims, stats, start, end, period).items():
                out[(series, stat)] = [(_snap(ts, start, period), value) for ts, value in points]
        return out

    def _statistics(self, metric: str, dims: list[dict], stats: tuple[str, ...], start: datetime, end: datetime,
                    period: int, purpose: str = "default", extended: bool = False) -> dict[str, list]:
        kind = "ExtendedStatistics" if extended else "Statistics"
        resp = client("cloudwatch", purpose=purpose).get_metric_statistics(
            Namespace=self.namespace, MetricName=metric, Dimensions=dims, StartTime=start, EndTime=end,
            Period=period, **{kind: list(stats)},
        )
        out: dict[str, list] = {stat: [] for stat in stats}
        for point in resp.get("Datapoints", []):
            values = point.get("ExtendedStatistics", {}) if extended else point
            for stat in stats:
                if stat in values:
                    out[stat].append((point["Timestamp"], values[stat]))
        return {stat: sorted(points) for stat, points in out.items()}

    def _percentiles(self, start: datetime, end: datetime, period: int, stats: tuple[str, ...]) -> dict:
        """Percentiles of every request's latency, or why there are none.

        One attempt without retries; an endpoint that fails them (moto's GetMetricData answers HTTP 500, its
        GetMetricStatistics leaves them out) is not asked again for ten minutes.
        """
        endpoint = settings.AWS_ENDPOINT_URL
        if _percentiles_off.get(endpoint, 0) > time.monotonic():
            return {"available": False, "note": PERCENTILES_NOTE, "series": {}}
        try:
            with translated(f"percentiles of {self.namespace}"):
                found = self._statistics(API_LATENCY_ALL, [], stats, start, end, period, purpose="probe",
                                         extended=True)
        except AWSError as exc:
            logger.info("percentiles unavailable from %s: %s", endpoint or "AWS", str(exc).splitlines()[0][:200])
            _percentiles_off[endpoint] = time.monotonic() + 600
            return {"available": False, "note": PERCENTILES_NOTE, "series": {}}
        series = {stat: [(_snap(ts, start, period), v) for ts, v in points] for stat, points in found.items() if points}
        return {"available": True, "note": None, "series": series}


# --- Batching (pure) -----------------------------------------------------------------------------------------
def datum_size(datum: dict) -> int:
    """Estimate a datum's encoded size: query protocol, the most verbose of the three botocore may use."""
    dims = sum(len(d["Name"]) + len(d["Value"]) + 80 for d in datum.get("Dimensions", ()))
    values = len(datum.get("Values", ()))
    return 200 + len(datum["MetricName"]) + dims + 90 * values + (200 if "StatisticValues" in datum else 0)


def batches(metric_data: list[dict]) -> Iterator[list[dict]]:
    """Split ``metric_data`` into PutMetricData calls: at most 1000 datums and about 1 MB each."""
    batch: list[dict] = []
    size = 0
    for datum in metric_data:
        n = datum_size(datum)
        if batch and (len(batch) >= MAX_DATUMS_PER_CALL or size + n > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(datum)
        size += n
    if batch:
        yield batch


def datums(metric: str, unit: str, dimensions: tuple[tuple[str, str], ...], timestamp: float,
           counts: dict[float, int]) -> list[dict]:
    """Turn ``{value: count}`` into datums of at most 150 distinct values each (``Values``/``Counts``)."""
    dims = [{"Name": k, "Value": v} for k, v in dimensions]
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    items = sorted(counts.items())
    out = []
    for i in range(0, len(items), MAX_VALUES_PER_DATUM):
        chunk = items[i:i + MAX_VALUES_PER_DATUM]
        out.append({
            "MetricName": metric,
            "Dimensions": dims,
            "Timestamp": when,
            "Values": [v for v, _ in chunk],
            "Counts": [float(c) for _, c in chunk],
            "Unit": unit,
        })
    return out


def default_period(hours: float) -> int:
    """A chart period giving 60 to 150 points: a minute for an hour, ten minutes for a day."""
    return max(60, math.ceil(hours * 3600 / 150 / 60) * 60)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)


def _ceil(moment: datetime, period: int) -> datetime:
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(-(-epoch // period) * period, tz=UTC)


def _snap(moment: datetime, start: datetime, period: int) -> datetime:
    """Put a datapoint on the window's period grid (moto starts its periods at the first datapoint)."""
    return start + timedelta(seconds=(moment - start).total_seconds() // period * period)


def _ratio(totals: dict, metric: str) -> float | None:
    count = totals.get((metric, "SampleCount"), 0)
    return round(totals.get((metric, "Sum"), 0) / count, 3) if count else None


def _divide(sums: list | None, counts: list | None) -> list:
    by_ts = dict(counts or [])
    return [(ts, s / by_ts[ts]) for ts, s in sums or [] if by_ts.get(ts)]


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _first(points: list | None) -> float | None:
    return round(points[0][1], 3) if points else None
