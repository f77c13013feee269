"""Read CloudWatch back the way an operator would."""

from datetime import UTC, datetime, timedelta

from stocktool.aws.session import client


def statistics(namespace: str, metric: str, dimensions: dict | None = None, unit: str | None = None) -> dict:
    """GetMetricStatistics of the last hour, added up over its periods."""
    now = datetime.now(UTC)
    kwargs = {"Unit": unit} if unit else {}
    points = client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in (dimensions or {}).items()],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=["SampleCount", "Sum", "Minimum", "Maximum"],
        **kwargs,
    )["Datapoints"]
    if not points:
        return {"SampleCount": 0, "Sum": 0}
    return {
        "SampleCount": sum(p["SampleCount"] for p in points),
        "Sum": sum(p["Sum"] for p in points),
        "Minimum": min(p["Minimum"] for p in points),
        "Maximum": max(p["Maximum"] for p in points),
    }
