import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from stocktool.aws.session import client
from stocktool.provisioning.bootstrap import bootstrap

from .snapshot import snapshot

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def _names(prefix=""):
    return {
        "bucket": prefix + settings.S3_BUCKET_NAME,
        "tables": {
            "conversations": prefix + settings.DYNAMODB_TABLE_CONVERSATIONS,
            "cache": prefix + settings.DYNAMODB_TABLE_CACHE,
            "django_cache": prefix + settings.DYNAMODB_TABLE_DJANGO_CACHE,
        },
        "queue": prefix + settings.SQS_QUEUE_ANALYSIS,
        "dlq": prefix + settings.SQS_QUEUE_ANALYSIS_DLQ,
        "topic": prefix + settings.SNS_TOPIC_NOTIFICATIONS,
    }


def test_it_creates_every_resource_with_the_seed_settings(aws):
    snap = snapshot(**_names())
    assert snap["bucket"]["versioning"] == "Enabled"
    assert snap["bucket"]["encryption"] == {"SSEAlgorithm": "AES256"}
    conv = snap["tables"]["conversations"]
    assert [k["AttributeName"] for k in conv["keys"]] == ["conversation_id", "timestamp"]
    assert [k["AttributeName"] for k in snap["tables"]["cache"]["keys"]] == ["symbol", "data_type"]
    for table in snap["tables"].values():
        assert table["ttl"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    assert snap["queue"]["VisibilityTimeout"] == "300"
    assert snap["queue"]["MessageRetentionPeriod"] == "86400"
    assert snap["queue"]["ReceiveMessageWaitTimeSeconds"] == "20"
    assert snap["queue"]["redrive"] == {"target": True, "maxReceiveCount": settings.SQS_MAX_RECEIVE_COUNT}
    assert snap["topic_exists"]


def test_a_second_run_changes_nothing(aws):
    before = snapshot(**_names())
    steps = bootstrap()
    assert {s.status for s in steps} == {"exists"}
    assert snapshot(**_names()) == before


def test_it_converges_a_queue_whose_settings_drifted(aws):
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=settings.SQS_QUEUE_ANALYSIS)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})
    steps = {(s.kind, s.name): s.status for s in bootstrap()}
    assert steps[("queue", settings.SQS_QUEUE_ANALYSIS)] == "updated"
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "300"


def test_the_command_fails_with_one_readable_line_when_the_endpoint_is_down(aws, settings):
    from stocktool.aws.session import reset_clients

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    reset_clients()
    try:
        with pytest.raises(CommandError) as info:
            call_command("bootstrap_aws")
    finally:
        reset_clients()
    message = str(info.value)
    assert "\n" not in message
    assert "127.0.0.1:9" in message


def test_the_localstack_init_script_makes_the_same_resources(aws, aws_endpoint):
    prefix = "ls-"
    names = _names(prefix)
    env = {
        **os.environ,
        "AWS_CMD": f"aws --endpoint-url {aws_endpoint}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "S3_BUCKET_NAME": names["bucket"],
        "DYNAMODB_TABLE_CONVERSATIONS": names["tables"]["conversations"],
        "DYNAMODB_TABLE_CACHE": names["tables"]["cache"],
        "DYNAMODB_TABLE_DJANGO_CACHE": names["tables"]["django_cache"],
        "SQS_QUEUE_ANALYSIS": names["queue"],
        "SQS_QUEUE_ANALYSIS_DLQ": names["dlq"],
        "SQS_MAX_RECEIVE_COUNT": str(settings.SQS_MAX_RECEIVE_COUNT),
        "SNS_TOPIC_NOTIFICATIONS": names["topic"],
    }
    script = ROOT / "localstack/init/ready.d/01-init-resources.sh"
    for _ in range(2):  # idempotent too
        run = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
    assert snapshot(**names) == snapshot(**_names())


def test_the_optional_webhook_is_subscribed_once(aws, settings):
    from stocktool.aws import get_sns_service

    settings.SNS_WEBHOOK_ENABLED = True
    settings.SNS_WEBHOOK_URL = "https://stocktool.example.com/sns/webhook"
    sns = client("sns")
    try:
        first = {(s.kind, s.status) for s in bootstrap()}
        second = {(s.kind, s.status) for s in bootstrap()}
        subs = sns.list_subscriptions_by_topic(TopicArn=get_sns_service().topic_arn)["Subscriptions"]
        mine = [s for s in subs if s["Endpoint"] == settings.SNS_WEBHOOK_URL]
        assert ("webhook", "created") in first and ("webhook", "exists") in second
        assert len(mine) == 1 and mine[0]["Protocol"] == "https"
    finally:
        for s in sns.list_subscriptions_by_topic(TopicArn=get_sns_service().topic_arn)["Subscriptions"]:
            if s["Endpoint"] == settings.SNS_WEBHOOK_URL:
                sns.unsubscribe(SubscriptionArn=s["SubscriptionArn"])  # or moto POSTs to it on every publish
