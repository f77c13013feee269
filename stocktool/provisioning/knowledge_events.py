"""S3 events for the knowledge documents: bucket -> topic -> events queue, with the policies that let each send."""

import json
import logging

from django.conf import settings

from stocktool.aws import emulator
from stocktool.aws.errors import AWSError, translated
from stocktool.aws.session import client, endpoint_url

from .resources import Step, ensure_queue, ensure_topic

logger = logging.getLogger(__name__)

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
    url, step = ensure_queue(name, {"VisibilityTimeout": "60", "MessageRetentionPeriod": "86400"})
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
                with translated(f"filter policy of {label}"):
                    probe.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                                      AttributeValue="MessageBody")
                    probe.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                                      AttributeValue=json.dumps(EVENTS_FILTER_POLICY))
            except AWSError as exc:
                try:  # leave the subscription as it was: unfiltered
                    with translated(f"filter policy of {label}"):
                        probe.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                                          AttributeValue="MessageAttributes")
                except AWSError:
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
