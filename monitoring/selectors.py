"""Reads for the monitoring page and API: CloudWatch's summary and series, and this process's buffer."""

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

from stocktool import aws

from . import metrics

WINDOWS = (("hour", 1), ("day", 24))

# A few long-lived threads read in parallel (they share the process's boto3 clients).
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="monitoring-read")


def metrics_summary(*, hours: float = 1) -> dict:
    """CloudWatch's performance summary of the last ``hours``, with this process's buffer figures."""
    summary = aws.get_cloudwatch_service().get_performance_summary(hours=hours)
    return {**summary, "buffer": metrics.stats()}


def metrics_overview() -> dict:
    """Summaries and chart series of the last hour and the last day, read in parallel."""
    service = aws.get_cloudwatch_service()
    futures = {
        name: (_pool.submit(service.get_performance_summary, hours), _pool.submit(service.get_series, hours))
        for name, hours in WINDOWS
    }
    windows = {}
    for name, (summary, series) in futures.items():
        windows[name] = {"summary": summary.result(), "series": series.result()}
    return {
        "windows": windows,
        "buffer": metrics.stats(),
        "namespace": settings.CLOUDWATCH_NAMESPACE,
        "dashboard": settings.CLOUDWATCH_DASHBOARD,
        "endpoint": settings.AWS_ENDPOINT_URL or f"AWS ({settings.AWS_DEFAULT_REGION})",
    }
