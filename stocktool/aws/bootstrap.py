"""Create, idempotently, every AWS resource StockTool needs. Running it twice changes nothing."""

import json
import logging
import os
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from . import cloudwatch as cw
from . import emulator
from .errors import error_code, translate
from .session import client, endpoint_url

logger = logging.getLogger(__name__)

TTL_ATTRIBUTE = "expires_at"
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


def bootstrap() -> list[Step]:
    """Create or converge every resource; raise AWSError with one readable line on failure."""
    steps: list[Step] = []
    try:
        if settings.S3_ENABLED:
            steps += ensure_bucket(settings.S3_BUCKET_NAME)
        if settings.DYNAMODB_ENABLED:
            for spec in table_specs():
                steps += ensure_table(spec)
        if settings.SQS_ENABLED:
            steps += ensure_queues(settings.SQS_QUEUE_ANALYSIS, settings.SQS_QUEUE_ANALYSIS_DLQ)
        if settings.SNS_ENABLED:
            steps.append(ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)[0])
        steps += ensure_knowledge_events()
        if settings.SNS_ENABLED and settings.SNS_WEBHOOK_ENABLED and settings.SNS_WEBHOOK_URL:
            steps.append(ensure_webhook_subscription(settings.SNS_WEBHOOK_URL))
        if settings.CLOUDWATCH_ENABLED:
            topic_arn = ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)[1] if settings.SNS_ENABLED else None
            steps += ensure_monitoring(topic_arn)
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, f"bootstrap against {settings.AWS_ENDPOINT_URL or 'AWS'}") from exc
    return steps


def ensure_bucket(name: str) -> list[Step]:
    s3 = client("s3")
    steps = []
    try:
        s3.head_bucket(Bucket=name)
        steps.append(Step("bucket", name, "exists"))
    except ClientError as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        kwargs = {"Bucket": name}
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
        current = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError:
        current = {}
    if current != block:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        steps.append(Step("no-public", name, "updated"))
    return steps


def _bucket_encryption(s3, name: str) -> dict:
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError:
        return {}
    return rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}


def ensure_table(spec: dict) -> list[Step]:
    ddb = client("dynamodb")
    name = spec["TableName"]
    steps = []
    try:
        ddb.describe_table(TableName=name)
        steps.append(Step("table", name, "exists"))
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
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
    dlq_url, dlq_step = _ensure_queue(dlq_name, {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)})
    sqs = client("sqs")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _, step = _ensure_queue(name, queue_attributes(dlq_arn))
    return [dlq_step, step]


def _ensure_queue(name: str, attributes: dict[str, str]) -> tuple[str, Step]:
    sqs = client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if error_code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, Step("queue", name, "created")
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


KNOWLEDGE_NOTIFICATION_ID = "stocktool-knowledge-events"


def ensure_knowledge_events() -> list[Step]:
    """Wire bucket -> topic -> events queue: S3 notifies object created/removed under the knowledge prefix.

    The queue takes raw deliveries from the topic, so its consumer reads S3's event JSON as is. Trust on this
    path comes from the policies: only the topic may send to the queue, and only the bucket (besides the
    account) may publish to the topic. No HTTP endpoint is involved, so there is no SNS signature to check.
    """
    if not (settings.S3_ENABLED and settings.SNS_ENABLED and settings.SQS_ENABLED):
        return []
    bucket, name = settings.S3_BUCKET_NAME, settings.SQS_QUEUE_EVENTS
    topic_arn = ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)[1]
    url, step = _ensure_queue(name, {"VisibilityTimeout": "60", "MessageRetentionPeriod": "86400"})
    sqs = client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    steps = [step]
    queue_policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "topic-sends", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }]}
    current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    if not current or json.loads(current) != queue_policy:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(queue_policy)})
        steps.append(Step("policy", name, "updated"))
    steps.append(_ensure_raw_subscription(topic_arn, queue_arn, name))
    steps += _ensure_events_filter(topic_arn, queue_arn, name)
    steps += _ensure_topic_allows_bucket(topic_arn, bucket)
    steps.append(_ensure_bucket_notification(bucket, topic_arn))
    return steps


def _ensure_raw_subscription(topic_arn: str, queue_arn: str, label: str) -> Step:
    sns = client("sns")
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page.get("Subscriptions", []):
            if sub["Protocol"] == "sqs" and sub["Endpoint"] == queue_arn:
                attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                if attrs.get("RawMessageDelivery") == "true":
                    return Step("subscribe", label, "exists")
                sns.set_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"],
                                                AttributeName="RawMessageDelivery", AttributeValue="true")
                return Step("subscribe", label, "updated")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    return Step("subscribe", label, "created")


# The events queue takes S3 object events and the app events its consumer acts on; the rest of the topic's
# traffic (document_indexed, alarms) stays out. S3 events carry no message attributes, so the policy filters
# on the message body.
EVENTS_FILTER_POLICY = {"$or": [{"event_type": ["analysis_finished"]}, {"Records": {"eventSource": ["aws:s3"]}}]}


def _ensure_events_filter(topic_arn: str, queue_arn: str, label: str) -> list[Step]:
    """Set the body-scoped filter policy where the endpoint supports it (AWS, LocalStack; moto 5.2 answers
    `$or` with HTTP 500: there the queue stays unfiltered and the consumer ignores what it does not know)."""
    endpoint = endpoint_url("sns")
    if endpoint and emulator.is_up(endpoint):
        # moto: `$or` answers HTTP 500 and leaves the subscription filtering everything out.
        logger.info("%s: moto has no body-scoped `$or` filter policies; the events queue stays unfiltered", label)
        return []
    sns = client("sns")
    probe = client("sns", purpose="probe")  # one attempt: an endpoint without `$or` must not cost retries
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page.get("Subscriptions", []):
            if sub["Protocol"] != "sqs" or sub["Endpoint"] != queue_arn:
                continue
            attrs = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
            if attrs.get("FilterPolicy") and json.loads(attrs["FilterPolicy"]) == EVENTS_FILTER_POLICY:
                return [Step("filter", label, "exists")]
            arn = sub["SubscriptionArn"]
            try:
                probe.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                                  AttributeValue="MessageBody")
                probe.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                                  AttributeValue=json.dumps(EVENTS_FILTER_POLICY))
            except (ClientError, BotoCoreError) as exc:
                try:  # leave the subscription as it was: unfiltered
                    probe.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                                      AttributeValue="MessageAttributes")
                except (ClientError, BotoCoreError):
                    pass
                logger.warning("%s: the endpoint refused the events filter policy (%s); the queue stays unfiltered",
                               label, str(exc)[:120])
                return []
            return [Step("filter", label, "updated")]
    return []


def _ensure_topic_allows_bucket(topic_arn: str, bucket: str) -> list[Step]:
    sns = client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("Policy") or "{}")
    statement = {
        "Sid": "bucket-publishes", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "SNS:Publish", "Resource": topic_arn,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
    }
    statements = policy.get("Statement", [])
    if statement in statements:
        return []
    # Keep the account's default statement and any other grant; replace only ours.
    others = [s for s in statements if s.get("Sid") != statement["Sid"]]
    policy = {"Version": policy.get("Version", "2012-10-17"), "Statement": [*others, statement]}
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return [Step("policy", topic_arn.rsplit(":", 1)[-1], "updated")]


def _ensure_bucket_notification(bucket: str, topic_arn: str) -> Step:
    s3 = client("s3")
    wanted = {
        "Id": KNOWLEDGE_NOTIFICATION_ID, "TopicArn": topic_arn,
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": settings.KNOWLEDGE_PREFIX}]}},
    }
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    config.pop("ResponseMetadata", None)
    topics = config.get("TopicConfigurations", [])
    mine = [t for t in topics if t.get("Id") == KNOWLEDGE_NOTIFICATION_ID]
    if mine and _same_notification(mine[0], wanted):
        return Step("notify", bucket, "exists")
    config["TopicConfigurations"] = [t for t in topics if t.get("Id") != KNOWLEDGE_NOTIFICATION_ID] + [wanted]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    return Step("notify", bucket, "updated" if mine else "created")


def _same_notification(have: dict, wanted: dict) -> bool:
    def rules(c):
        return sorted((r["Name"].lower(), r["Value"]) for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", []))

    return (have.get("TopicArn") == wanted["TopicArn"] and sorted(have.get("Events", [])) == sorted(wanted["Events"])
            and rules(have) == rules(wanted))


# --- Monitoring: the CloudWatch dashboard and alarms ---------------------------------------------------------
def resource_prefix(*names: str) -> str:
    """The prefix StockTool's resource names share, up to its last dash: "stocktool-", or "t1a2b3-stocktool-"
    in a test run, so alarm names follow the resources' naming wherever they are set."""
    common = os.path.commonprefix(list(names))
    return common[: common.rfind("-") + 1]


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


def ensure_webhook_subscription(url: str) -> Step:
    """Subscribe the app's SNS webhook (real AWS: SNS then POSTs a confirmation the webhook verifies)."""
    sns = client("sns")
    _, topic_arn = ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        if any(sub.get("Endpoint") == url for sub in page.get("Subscriptions", [])):
            return Step("webhook", url, "exists")
    sns.subscribe(TopicArn=topic_arn, Protocol="https" if url.startswith("https:") else "http", Endpoint=url)
    return Step("webhook", url, "created")


def ensure_monitoring(topic_arn: str | None) -> list[Step]:
    steps = [ensure_dashboard(settings.CLOUDWATCH_DASHBOARD, dashboard_body())]
    return steps + [ensure_alarm(spec) for spec in alarm_specs(topic_arn)]


def ensure_dashboard(name: str, body: dict) -> Step:
    cloudwatch = client("cloudwatch")
    try:
        current = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    except ClientError as exc:
        # AWS and moto say ResourceNotFound; LocalStack 4.14 says InvalidParameterValue "... does not exist".
        missing = error_code(exc) in ("ResourceNotFound", "ResourceNotFoundException") or (
            error_code(exc) == "InvalidParameterValue" and "does not exist" in str(exc)
        )
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
