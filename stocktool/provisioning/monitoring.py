"""Monitoring: the CloudWatch dashboard and alarms."""

import json

from django.conf import settings

from stocktool.aws import cloudwatch as cw
from stocktool.aws.errors import AWSError, NotFound, translated
from stocktool.aws.session import client

from .resources import Step, resource_prefix


def alarm_names(prefix: str | None = None) -> dict[str, str]:
    if prefix is None:
        prefix = resource_prefix(
            settings.S3_BUCKET_NAME, settings.DYNAMODB_TABLE_CONVERSATIONS, settings.DYNAMODB_TABLE_CACHE,
            settings.SQS_QUEUE_ANALYSIS, settings.SQS_QUEUE_ANALYSIS_DLQ, settings.SNS_TOPIC_NOTIFICATIONS,
        )
    return {"latency": f"{prefix}api-latency-p90", "dlq": f"{prefix}dlq-not-empty", "errors": f"{prefix}5xx-burst"}


def alarm_specs(topic_arn: str | None) -> list[dict]:
    """PutMetricAlarm arguments of StockTool's alarms; each notifies the notifications topic."""
    names, ns = alarm_names(), settings.CLOUDWATCH_NAMESPACE
    common = {
        "Namespace": ns,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn] if topic_arn else [],
        "OKActions": [],
        "TreatMissingData": "notBreaching",  # no traffic, no samples: not an alarm
        "Period": 60,
    }
    return [
        {
            **common,
            "AlarmName": names["latency"],
            "AlarmDescription": f"API latency p90 over {settings.MONITORING_LATENCY_ALARM_MS} ms for 3 minutes",
            "MetricName": cw.API_LATENCY_ALL,
            "ExtendedStatistic": "p90",
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "Threshold": float(settings.MONITORING_LATENCY_ALARM_MS),
            "ComparisonOperator": "GreaterThanThreshold",
        },
        {
            **common,
            "AlarmName": names["dlq"],
            "AlarmDescription": "A message is in the analysis dead-letter queue",
            "MetricName": cw.QUEUE_DEPTH,
            "Dimensions": [{"Name": "Queue", "Value": "dlq"}],
            "Statistic": "Maximum",
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
        {
            **common,
            "AlarmName": names["errors"],
            "AlarmDescription": f"{settings.MONITORING_5XX_ALARM_COUNT} or more 5xx responses within a minute",
            "MetricName": cw.ERRORS,
            "Statistic": "Sum",
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": float(settings.MONITORING_5XX_ALARM_COUNT),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
    ]


def dashboard_body() -> dict:
    """The ``stocktool-metrics`` dashboard: a widget per metric (the init script carries the same JSON)."""
    ns, region = settings.CLOUDWATCH_NAMESPACE, settings.AWS_DEFAULT_REGION

    def search(metric: str, dims: str, stat: str) -> list:
        expression = f"SEARCH('{{\"{ns}\",{dims}}} MetricName=\"{metric}\"', '{stat}', 60)"
        return [{"expression": expression, "id": "e1", "label": ""}]

    def widget(i: int, title: str, metrics: list, **extra) -> dict:
        props = {"title": title, "region": region, "view": "timeSeries", "stat": "Average", "period": 60,
                 "metrics": metrics, **extra}
        return {"type": "metric", "x": 12 * (i % 2), "y": 6 * (i // 2), "width": 12, "height": 6,
                "properties": props}

    latency_line = {"horizontal": [{"label": "alarm: p90", "value": float(settings.MONITORING_LATENCY_ALARM_MS)}]}
    return {"widgets": [
        widget(0, "API latency, all routes (ms)", [
            [ns, cw.API_LATENCY_ALL, {"stat": "p50", "label": "p50"}],
            [ns, cw.API_LATENCY_ALL, {"stat": "p90", "label": "p90"}],
            [ns, cw.API_LATENCY_ALL, {"stat": "Average", "label": "average"}],
        ], annotations=latency_line),
        widget(1, "Requests and 5xx errors", [
            [ns, cw.API_LATENCY_ALL, {"stat": "SampleCount", "label": "requests"}],
            [ns, cw.ERRORS, {"stat": "Sum", "label": "5xx"}],
        ]),
        widget(2, "API latency by route (ms)", [search(cw.API_LATENCY, "Method,Route,StatusClass", "Average")]),
        widget(3, "Tool execution time (ms)", [search(cw.TOOL_TIME, "Success,Tool", "Average")]),
        widget(4, "Cache hit rate (%)", [search(cw.CACHE_HIT_RATE, "Cache", "Average")]),
        widget(5, "Model tokens", [search(cw.MODEL_TOKENS, "Model", "Sum")], stat="Sum"),
        widget(6, "Model latency (ms)", [search(cw.MODEL_LATENCY, "Model", "Average")]),
        widget(7, "Queue depth", [
            [ns, cw.QUEUE_DEPTH, "Queue", "analysis", {"stat": "Maximum", "label": "analysis"}],
            [ns, cw.QUEUE_DEPTH, "Queue", "dlq", {"stat": "Maximum", "label": "dead letters"}],
        ], stat="Maximum"),
    ]}


def ensure_monitoring(topic_arn: str | None) -> list[Step]:
    steps = [ensure_dashboard(settings.CLOUDWATCH_DASHBOARD, dashboard_body())]
    return steps + [ensure_alarm(spec) for spec in alarm_specs(topic_arn)]


def ensure_dashboard(name: str, body: dict) -> Step:
    cloudwatch = client("cloudwatch")
    try:
        with translated(f"dashboard {name}"):
            current = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    except AWSError as exc:
        # AWS and moto say ResourceNotFound; LocalStack 4.14 says InvalidParameterValue "... does not exist".
        missing = isinstance(exc, NotFound) or (exc.code == "InvalidParameterValue" and "does not exist" in str(exc))
        if not missing:
            raise
        current = None
    if current == body:
        return Step("dashboard", name, "exists")
    cloudwatch.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    return Step("dashboard", name, "created" if current is None else "updated")


def ensure_alarm(spec: dict) -> Step:
    cloudwatch = client("cloudwatch")
    found = cloudwatch.describe_alarms(AlarmNames=[spec["AlarmName"]], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    if found and _same_alarm(found[0], spec):
        return Step("alarm", spec["AlarmName"], "exists")
    cloudwatch.put_metric_alarm(**spec)
    return Step("alarm", spec["AlarmName"], "updated" if found else "created")


def _same_alarm(have: dict, wanted: dict) -> bool:
    def dims(d):
        return sorted((x["Name"], x["Value"]) for x in d or [])

    return all(
        dims(have.get(key)) == dims(value) if key == "Dimensions" else have.get(key) == value
        for key, value in wanted.items()
    )
