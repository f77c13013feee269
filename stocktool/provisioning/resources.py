"""The resources themselves, each created or converged idempotently: the bucket, the tables, the queues, the topic
and its webhook subscription."""

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from stocktool.aws.dynamodb import TTL_ATTRIBUTE
from stocktool.aws.errors import AWSError, found, translated
from stocktool.aws.session import client

logger = logging.getLogger(__name__)

DLQ_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class Step:
    kind: str
    name: str
    status: str  # created | updated | exists

    def __str__(self) -> str:
        return f"{self.kind:<10} {self.name:<40} {self.status}"


def table_specs() -> list[dict]:
    """Key schemas of StockTool's DynamoDB tables (also used by the LocalStack init script's test)."""
    return [
        {
            "TableName": settings.DYNAMODB_TABLE_CONVERSATIONS,
            "AttributeDefinitions": [
                {"AttributeName": "conversation_id", "AttributeType": "S"},
                {"AttributeName": "timestamp", "AttributeType": "S"},
                {"AttributeName": "user_id", "AttributeType": "S"},
                {"AttributeName": "updated_at", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "conversation_id", "KeyType": "HASH"},
                {"AttributeName": "timestamp", "KeyType": "RANGE"},
            ],
            # Sparse: only a conversation's header item carries user_id, so this lists conversations.
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "user-index",
                    "KeySchema": [
                        {"AttributeName": "user_id", "KeyType": "HASH"},
                        {"AttributeName": "updated_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        },
        {
            "TableName": settings.DYNAMODB_TABLE_CACHE,
            "AttributeDefinitions": [
                {"AttributeName": "symbol", "AttributeType": "S"},
                {"AttributeName": "data_type", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "symbol", "KeyType": "HASH"},
                {"AttributeName": "data_type", "KeyType": "RANGE"},
            ],
        },
        {
            "TableName": settings.DYNAMODB_TABLE_DJANGO_CACHE,
            "AttributeDefinitions": [{"AttributeName": "cache_key", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "cache_key", "KeyType": "HASH"}],
        },
    ]


def queue_attributes(dlq_arn: str) -> dict[str, str]:
    return {
        "VisibilityTimeout": str(settings.SQS_VISIBILITY_TIMEOUT),
        "MessageRetentionPeriod": "86400",
        "ReceiveMessageWaitTimeSeconds": "20",
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.SQS_MAX_RECEIVE_COUNT)}
        ),
    }


def ensure_bucket(name: str) -> list[Step]:
    s3 = client("s3")
    steps = []
    if found(f"bucket {name}", s3.head_bucket, Bucket=name) is not None:
        steps.append(Step("bucket", name, "exists"))
    else:
        kwargs: dict[str, Any] = {"Bucket": name}
        if settings.AWS_DEFAULT_REGION != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.AWS_DEFAULT_REGION}
        s3.create_bucket(**kwargs)
        steps.append(Step("bucket", name, "created"))
    if s3.get_bucket_versioning(Bucket=name).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        steps.append(Step("versioning", name, "updated"))
    sse = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    if _bucket_encryption(s3, name) != sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=sse)
        steps.append(Step("encryption", name, "updated"))
    block = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    try:
        with translated(f"public access block of {name}"):
            current = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except AWSError:  # none set yet (or not readable): set it
        current = {}
    if current != block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        steps.append(Step("no-public", name, "updated"))
    return steps


def _bucket_encryption(s3, name: str) -> dict:
    try:
        with translated(f"encryption of {name}"):
            rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except AWSError:  # none set yet (or not readable): set it
        return {}
    return rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}


def ensure_table(spec: dict) -> list[Step]:
    ddb = client("dynamodb")
    name = spec["TableName"]
    steps = []
    if found(f"table {name}", ddb.describe_table, TableName=name) is not None:
        steps.append(Step("table", name, "exists"))
    else:
        ddb.create_table(BillingMode="PAY_PER_REQUEST", **spec)
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        steps.append(Step("table", name, "created"))
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
        steps.append(Step("ttl", f"{name}.{TTL_ATTRIBUTE}", "updated"))
    return steps


def ensure_queues(name: str, dlq_name: str) -> list[Step]:
    dlq_url, dlq_step = ensure_queue(dlq_name, {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)})
    sqs = client("sqs")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _, step = ensure_queue(name, queue_attributes(dlq_arn))
    return [dlq_step, step]


def ensure_queue(name: str, attributes: dict[str, str]) -> tuple[str, Step]:
    sqs = client("sqs")
    existing = found(f"queue {name}", sqs.get_queue_url, QueueName=name)
    if existing is None:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, Step("queue", name, "created")
    url = existing["QueueUrl"]
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(attributes))["Attributes"]
    if not _same_attributes(current, attributes):
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        return url, Step("queue", name, "updated")
    return url, Step("queue", name, "exists")


def _same_attributes(current: dict, wanted: dict) -> bool:
    for key, value in wanted.items():
        have = current.get(key)
        if key == "RedrivePolicy" and have:
            have, value = json.loads(have), json.loads(value)
            have["maxReceiveCount"], value["maxReceiveCount"] = (
                int(have["maxReceiveCount"]),
                int(value["maxReceiveCount"]),
            )
        if have != value:
            return False
    return True


def ensure_topic(name: str) -> tuple[Step, str]:
    sns = client("sns")
    arn = _topic_arn(sns, name)
    if arn:
        return Step("topic", name, "exists"), arn
    arn = sns.create_topic(Name=name)["TopicArn"]
    return Step("topic", name, "created"), arn


def _topic_arn(sns, name: str) -> str | None:
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    return None


def ensure_webhook_subscription(url: str) -> Step:
    """Subscribe the app's SNS webhook (real AWS: SNS then POSTs a confirmation the webhook verifies)."""
    sns = client("sns")
    _, topic_arn = ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        if any(sub.get("Endpoint") == url for sub in page.get("Subscriptions", [])):
            return Step("webhook", url, "exists")
    sns.subscribe(TopicArn=topic_arn, Protocol="https" if url.startswith("https:") else "http", Endpoint=url)
    return Step("webhook", url, "created")


def resource_prefix(*names: str) -> str:
    """The prefix StockTool's resource names share, up to its last dash: "stocktool-", or "t1a2b3-stocktool-"
    in a test run, so alarm names follow the resources' naming wherever they are set."""
    common = os.path.commonprefix(list(names))
    return common[: common.rfind("-") + 1]
