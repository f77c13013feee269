"""The IAM policy tests' tools: a recorder of the AWS calls the code makes, what IAM action, resource and
condition each call needs, and a small evaluator of policy documents."""

import fnmatch
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from django.conf import settings
from storages.backends.s3 import S3Storage

from stocktool.aws import session
from stocktool.provisioning.functions import FUNCTIONS
from stocktool.provisioning.lambdas import account_id, partition

FUNCTION_KEYS = tuple(f.key for f in FUNCTIONS)
# kombu's own SQS clients (the Celery broker) make these calls on the analysis queue.
KOMBU_CONSUMER = ("ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
                  "GetQueueUrl")
KOMBU_PRODUCER = ("SendMessage", "GetQueueUrl")
# Creating or reconfiguring resources: bootstrap_aws and deploy_lambdas only, never web, worker or lambda.
ADMIN_ONLY = (
    "s3:CreateBucket", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock", "s3:PutBucketNotification", "dynamodb:CreateTable",
    "dynamodb:UpdateTimeToLive", "sqs:CreateQueue", "sqs:SetQueueAttributes", "sns:CreateTopic",
    "sns:SetTopicAttributes", "sns:Subscribe", "sns:SetSubscriptionAttributes", "cloudwatch:PutDashboard",
    "cloudwatch:PutMetricAlarm", "lambda:CreateFunction", "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration", "lambda:AddPermission", "lambda:RemovePermission", "events:PutRule",
    "events:PutTargets", "iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
)


# --- Recording the calls ------------------------------------------------------------------------------------
@dataclass
class Recorder:
    # (service, operation, params, thread id) of each call
    calls: list[tuple[str, str, dict, int]] = field(default_factory=list)
    paused: bool = False

    def __call__(self, params, model, **kwargs):
        if not self.paused:
            service = model.service_model.service_name
            self.calls.append((service, model.name, dict(params), threading.get_ident()))

    def hook(self, boto_session):
        if getattr(boto_session, "_iam_recorder", None) is not self:
            boto_session.events.register("before-parameter-build", self)
            boto_session._iam_recorder = self
        return boto_session

    @contextmanager
    def pause(self):
        self.paused = True
        try:
            yield
        finally:
            self.paused = False

    def operations(self, thread: int | None = None) -> set[tuple[str, str]]:
        return {(s, o) for s, o, _, t in self.calls if thread is None or t == thread}


@pytest.fixture
def recorder(aws, monkeypatch):
    """Record every AWS call of sessions built from now on (this thread's clients are rebuilt)."""
    from stocktool.aws import sns, sqs

    rec = Recorder()
    original_session, original_storage = session._session, S3Storage._create_session
    monkeypatch.setattr(session, "_session", lambda: rec.hook(original_session()))
    monkeypatch.setattr(S3Storage, "_create_session", lambda self: rec.hook(original_storage(self)))
    session.reset_clients()
    sqs._queue_url.cache_clear()  # so the name lookups happen, and are seen
    sns._topic_arn.cache_clear()
    yield rec
    monkeypatch.undo()
    session.reset_clients()
    sqs._queue_url.cache_clear()
    sns._topic_arn.cache_clear()


# --- What a call needs: IAM action, resource and condition context -----------------------------------------
S3_ACTIONS = {
    "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket", "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions", "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject", "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration", "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}
S3_BUCKET_LEVEL = {
    "ListBucket", "ListBucketVersions", "CreateBucket", "GetBucketVersioning", "PutBucketVersioning",
    "GetEncryptionConfiguration", "PutEncryptionConfiguration", "GetBucketPublicAccessBlock",
    "PutBucketPublicAccessBlock", "GetBucketNotification", "PutBucketNotification",
}
SQS_BATCH = {"DeleteMessageBatch": "DeleteMessage", "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
             "SendMessageBatch": "SendMessage"}
NEEDS_NOTHING = {("sts", "GetCallerIdentity")}
IAM_PREFIX = "iam-check/"


def _arn(service: str, resource: str, *, region: bool = True) -> str:
    where = settings.AWS_DEFAULT_REGION if region else ""
    return f"arn:{partition()}:{service}:{where}:{account_id()}:{resource}"


def needs(service: str, operation: str, params: dict) -> list[tuple[str, str, dict]]:
    """The (action, resource, condition context) a call is authorised on."""
    if (service, operation) in NEEDS_NOTHING:
        return []
    handler = {"s3": _s3, "dynamodb": _dynamodb, "sqs": _sqs, "sns": _sns, "cloudwatch": _cloudwatch,
               "lambda": _lambda, "events": _events, "iam": _iam, "bedrock-runtime": _bedrock}.get(service)
    if handler is None:
        raise AssertionError(f"no IAM mapping for {service}:{operation}: add one to this test")
    return handler(operation, params)


def _s3(op: str, p: dict) -> list:
    bucket = f"arn:{partition()}:s3:::{p['Bucket']}"
    if op == "CopyObject":
        source = p["CopySource"]
        if isinstance(source, str):
            path, _, query = unquote(source).partition("?versionId=")
            bucket_name, key = path.split("/", 1)
            source = {"Bucket": bucket_name, "Key": key, "VersionId": query or None}
        read = "s3:GetObjectVersion" if source.get("VersionId") else "s3:GetObject"
        return [("s3:PutObject", f"{bucket}/{p['Key']}", {}),
                (read, f"arn:{partition()}:s3:::{source['Bucket']}/{source['Key']}", {})]
    action = S3_ACTIONS.get(op, op)
    if op in ("GetObject", "HeadObject"):
        action = "GetObjectVersion" if p.get("VersionId") else "GetObject"
    if op == "DeleteObject":
        action = "DeleteObjectVersion" if p.get("VersionId") else "DeleteObject"
    if action in S3_BUCKET_LEVEL:
        return [(f"s3:{action}", bucket, {})]
    if "Key" not in p:
        raise AssertionError(f"no IAM mapping for s3:{op}: add one to this test")
    return [(f"s3:{action}", f"{bucket}/{p['Key']}", {})]


def _dynamodb(op: str, p: dict) -> list:
    if op in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{op}", _arn("dynamodb", f"table/{t}"), {}) for t in p["RequestItems"]]
    resource = f"table/{p['TableName']}" + (f"/index/{p['IndexName']}" if p.get("IndexName") else "")
    return [(f"dynamodb:{op}", _arn("dynamodb", resource), {})]


def _sqs(op: str, p: dict) -> list:
    name = p.get("QueueName") or p["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
    return [(f"sqs:{SQS_BATCH.get(op, op)}", _arn("sqs", name), {})]


def _sns(op: str, p: dict) -> list:
    if op == "CreateTopic":
        return [("sns:CreateTopic", _arn("sns", p["Name"]), {})]
    return [(f"sns:{op}", p.get("TopicArn", "*"), {})]


def _cloudwatch(op: str, p: dict) -> list:
    if op == "PutMetricData":
        return [("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": p["Namespace"]})]
    if op in ("GetDashboard", "PutDashboard"):
        dashboard = f"arn:{partition()}:cloudwatch::{account_id()}:dashboard/{p['DashboardName']}"
        return [(f"cloudwatch:{op}", dashboard, {})]
    if op in ("DescribeAlarms", "PutMetricAlarm"):
        alarms = p.get("AlarmNames") or [p["AlarmName"]]
        return [(f"cloudwatch:{op}", _arn("cloudwatch", f"alarm:{name}"), {}) for name in alarms]
    return [(f"cloudwatch:{op}", "*", {})]


def _lambda(op: str, p: dict) -> list:
    name = p["FunctionName"]
    function = name if name.startswith("arn:") else _arn("lambda", f"function:{name}")
    out = [(f"lambda:{op}", function, {})]
    if "Role" in p:  # handing a role to a function needs PassRole on it
        out.append(("iam:PassRole", p["Role"], {"iam:PassedToService": "lambda.amazonaws.com"}))
    return out


def _events(op: str, p: dict) -> list:
    return [(f"events:{op}", _arn("events", f"rule/{p.get('Name') or p['Rule']}"), {})]


def _iam(op: str, p: dict) -> list:
    return [(f"iam:{op}", _arn("iam", f"role/{p['RoleName']}", region=False), {})]


BEDROCK_ACTIONS = {"Converse": "InvokeModel", "ConverseStream": "InvokeModelWithResponseStream"}


def _bedrock(op: str, p: dict) -> list:
    model = f"arn:{partition()}:bedrock:{settings.BEDROCK_REGION}::foundation-model/{p['modelId']}"
    return [(f"bedrock:{BEDROCK_ACTIONS[op]}", model, {})]


def allows(policy: dict, action: str, resource: str, context: dict) -> bool:
    """Whether ``policy``'s Allow statements grant ``action`` on ``resource`` (StringEquals conditions)."""
    for statement in policy["Statement"]:
        actions = _as_list(statement["Action"])
        patterns = _as_list(statement["Resource"])
        if statement["Effect"] != "Allow" or action not in actions:
            continue
        if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in patterns):
            continue
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"StringEquals"}, f"the evaluator does not know {set(conditions)}"
        if all(context.get(key) == value for key, value in conditions.get("StringEquals", {}).items()):
            return True
    return False


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def uncovered(calls, *policy_docs) -> list[str]:
    missing = []
    for service, operation, params, _thread in calls:
        for action, resource, context in needs(service, operation, params):
            if not any(allows(doc, action, resource, context) for doc in policy_docs):
                missing.append(f"{service}:{operation} needs {action} on {resource} {context or ''}".strip())
    return sorted(set(missing))


def _actions(doc: dict) -> set[str]:
    return {a for s in doc["Statement"] for a in _as_list(s["Action"])}


def _fresh_names(settings, tag: str) -> None:
    """Point every resource name at a new prefix, so bootstrap and deploy create (and show) everything."""
    prefix = f"{settings.TEST_RUN_PREFIX}{tag}{uuid.uuid4().hex[:4]}-"
    for name in ("S3_BUCKET_NAME", "DYNAMODB_TABLE_CONVERSATIONS", "DYNAMODB_TABLE_CACHE",
                 "DYNAMODB_TABLE_DJANGO_CACHE", "SQS_QUEUE_ANALYSIS", "SQS_QUEUE_ANALYSIS_DLQ",
                 "SQS_QUEUE_EVENTS", "SNS_TOPIC_NOTIFICATIONS", "CLOUDWATCH_DASHBOARD"):
        base = getattr(settings, name).removeprefix(settings.TEST_RUN_PREFIX)
        setattr(settings, name, prefix + base)
