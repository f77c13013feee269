"""Describe AWS resources in a comparable form (names stripped), to compare two ways of creating them."""

import json

from stocktool.aws.session import client
from stocktool.provisioning.monitoring import alarm_names
from stocktool.provisioning.resources import resource_prefix


def snapshot(*, bucket, tables, queue, dlq, topic) -> dict:
    s3, ddb, sqs, sns = client("s3"), client("dynamodb"), client("sqs"), client("sns")
    out = {
        "bucket": {
            "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
            "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0][
                "ApplyServerSideEncryptionByDefault"
            ],
            "public_access_block": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        },
        "tables": {},
    }
    for role, name in tables.items():
        t = ddb.describe_table(TableName=name)["Table"]
        out["tables"][role] = {
            "keys": t["KeySchema"],
            "attributes": sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
            "billing": t.get("BillingModeSummary", {}).get("BillingMode"),
            "indexes": sorted(
                (i["IndexName"], json.dumps(i["KeySchema"]), i["Projection"]["ProjectionType"])
                for i in t.get("GlobalSecondaryIndexes", [])
            ),
            "ttl": ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"],
        }
    for role, name in (("queue", queue), ("dlq", dlq)):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        keep = {k: attrs.get(k) for k in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds")}
        if "RedrivePolicy" in attrs:
            policy = json.loads(attrs["RedrivePolicy"])
            keep["redrive"] = {
                "target": policy["deadLetterTargetArn"].rsplit(":", 1)[-1] == dlq,
                "maxReceiveCount": int(policy["maxReceiveCount"]),
            }
        out[role] = keep
    topics = [t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"]]
    out["topic_exists"] = topic in topics
    out["alarms"] = _alarms(resource_prefix(bucket, tables["conversations"], tables["cache"], queue, dlq, topic), topic)
    return out


def _alarms(prefix: str, topic: str) -> dict:
    """The monitoring alarms, named after the resources' prefix; each must notify ``topic``."""
    names = alarm_names(prefix)
    found = client("cloudwatch").describe_alarms(AlarmNames=list(names.values()))["MetricAlarms"]
    by_name = {a["AlarmName"]: a for a in found}
    ignore = {"AlarmName", "AlarmArn", "AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp"}
    out = {}
    for role, name in names.items():
        alarm = by_name.get(name)
        if alarm is None:
            out[role] = None
            continue
        keep = {k: v for k, v in alarm.items() if k not in ignore and not k.startswith("State")}
        keep["AlarmActions"] = [arn.rsplit(":", 1)[-1] == topic for arn in alarm.get("AlarmActions", [])]
        out[role] = keep
    return out
