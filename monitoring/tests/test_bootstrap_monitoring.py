"""bootstrap_aws's dashboard and alarms (alarms are stored but never evaluated on moto: configuration only)."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from stocktool.aws import cloudwatch as cw
from stocktool.aws.session import client
from stocktool.provisioning.bootstrap import bootstrap
from stocktool.provisioning.monitoring import alarm_names, dashboard_body
from stocktool.provisioning.resources import resource_prefix

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "localstack/init/ready.d/01-init-resources.sh"


def alarms() -> dict:
    names = alarm_names()
    found = client("cloudwatch").describe_alarms(AlarmNames=list(names.values()))["MetricAlarms"]
    by_name = {a["AlarmName"]: a for a in found}
    return {role: by_name.get(name) for role, name in names.items()}


def topic_arn() -> str:
    topics = client("sns").list_topics()["Topics"]
    return next(t["TopicArn"] for t in topics if t["TopicArn"].endswith(":" + settings.SNS_TOPIC_NOTIFICATIONS))


@pytest.mark.integration
def test_the_dashboard_has_a_widget_per_metric(aws):
    body = json.loads(client("cloudwatch").get_dashboard(DashboardName=settings.CLOUDWATCH_DASHBOARD)["DashboardBody"])
    assert body == dashboard_body()
    titles = [w["properties"]["title"] for w in body["widgets"]]
    shown = [json.dumps(w["properties"]["metrics"]) for w in body["widgets"]]
    for metric in (cw.API_LATENCY, cw.API_LATENCY_ALL, cw.ERRORS, cw.TOOL_TIME, cw.CACHE_HIT_RATE,
                   cw.MODEL_TOKENS, cw.MODEL_LATENCY, cw.QUEUE_DEPTH):
        assert any(f'\\"{metric}\\"' in s or f'"{metric}"' in s for s in shown), metric
    assert len(titles) == len(set(titles)) == 8
    assert all(w["properties"]["region"] == settings.AWS_DEFAULT_REGION for w in body["widgets"])


@pytest.mark.integration
def test_the_alarms_carry_the_run_prefix_and_notify_the_topic(aws):
    found = alarms()
    assert all(a is not None for a in found.values())
    assert all(name.startswith(settings.TEST_RUN_PREFIX) for name in alarm_names().values())
    arn = topic_arn()
    for alarm in found.values():
        assert alarm["AlarmActions"] == [arn] and alarm["ActionsEnabled"] is True
        assert alarm["Namespace"] == settings.CLOUDWATCH_NAMESPACE
        assert alarm["TreatMissingData"] == "notBreaching"
    latency, dlq, errors = found["latency"], found["dlq"], found["errors"]
    assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Threshold"]) == ("APILatencyAll", "p90", 2000)
    assert latency["ComparisonOperator"] == "GreaterThanThreshold" and latency["Dimensions"] == []
    assert (dlq["MetricName"], dlq["Statistic"], dlq["Threshold"]) == ("QueueDepth", "Maximum", 0)
    assert dlq["Dimensions"] == [{"Name": "Queue", "Value": "dlq"}]
    assert dlq["ComparisonOperator"] == "GreaterThanThreshold"
    assert (errors["MetricName"], errors["Statistic"], errors["Period"]) == ("Errors", "Sum", 60)
    assert errors["Threshold"] == settings.MONITORING_5XX_ALARM_COUNT
    assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.integration
def test_a_second_run_reports_the_dashboard_and_alarms_as_existing(aws):
    bootstrap()
    steps = [s for s in bootstrap() if s.kind in ("dashboard", "alarm")]
    assert [(s.kind, s.status) for s in steps] == [("dashboard", "exists")] + [("alarm", "exists")] * 3


@pytest.mark.integration
def test_a_changed_alarm_or_dashboard_is_put_back(aws):
    bootstrap()
    name = alarm_names()["errors"]
    client("cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace="Elsewhere", MetricName="Errors", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=999, ComparisonOperator="GreaterThanThreshold",
    )
    client("cloudwatch").put_dashboard(DashboardName=settings.CLOUDWATCH_DASHBOARD, DashboardBody='{"widgets":[]}')
    steps = {(s.kind, s.name): s.status for s in bootstrap()}
    assert steps[("alarm", name)] == "updated"
    assert steps[("dashboard", settings.CLOUDWATCH_DASHBOARD)] == "updated"
    assert alarms()["errors"]["Threshold"] == settings.MONITORING_5XX_ALARM_COUNT


def test_alarm_names_follow_the_resource_prefix():
    assert resource_prefix("stocktool-knowledge", "stocktool-conversations", "stocktool-notifications") == "stocktool-"
    assert resource_prefix("t1-stocktool-a", "t1-stocktool-b") == "t1-stocktool-"
    assert resource_prefix("alpha", "beta") == ""
    assert alarm_names("x-")["latency"] == "x-api-latency-p90"


def test_the_init_script_puts_the_same_dashboard():
    text = SCRIPT.read_text()
    body = re.search(r"DASHBOARD_BODY=\$\(cat <<EOF\n(.*?)\nEOF\n\)", text, re.DOTALL).group(1)
    for name, value in (("NAMESPACE", settings.CLOUDWATCH_NAMESPACE), ("REGION", settings.AWS_DEFAULT_REGION),
                        ("LATENCY_ALARM_MS", str(settings.MONITORING_LATENCY_ALARM_MS))):
        body = body.replace("${" + name + "}", value)
    assert json.loads(body) == dashboard_body()


@pytest.mark.integration
def test_the_aws_cli_shows_the_dashboard(aws, aws_endpoint):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": settings.AWS_DEFAULT_REGION}
    run = subprocess.run(
        ["aws", "--endpoint-url", aws_endpoint, "cloudwatch", "get-dashboard", "--dashboard-name",
         settings.CLOUDWATCH_DASHBOARD], env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(json.loads(run.stdout)["DashboardBody"]) == dashboard_body()
