"""The IAM policies against the code's own AWS calls.

A recorder hooks botocore's ``before-parameter-build`` event (emitted for every call and for presigned URLs)
on the sessions ``stocktool.aws.session`` and django-storages build, while the app's service paths run against
the emulator. Each recorded operation becomes the IAM action and resource it needs, and a small evaluator
checks that the web or worker policy allows it. kombu builds its own SQS clients, so its operations are added
by hand. Bootstrap and deployment run under fresh names, so their create calls are recorded too, and must be
allowed by the bootstrap policy only.
"""

import fnmatch
import io
import json
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from storages.backends.s3 import S3Storage

from stocktool.aws import session
from stocktool.provisioning import iam_policy
from stocktool.provisioning.functions import FUNCTIONS
from stocktool.provisioning.iam_policy import ROLES, UNSCOPED, policies, resources
from stocktool.provisioning.lambdas import account_id, partition

pytestmark = pytest.mark.integration

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


# --- Static checks -----------------------------------------------------------------------------------------
def test_no_statement_grants_a_wildcard_action(aws):
    for role, doc in policies(functions=FUNCTION_KEYS).items():
        for statement in doc["Statement"]:
            for action in _as_list(statement["Action"]):
                assert "*" not in action and "?" not in action, f"{role}: {action}"
                assert action.count(":") == 1, f"{role}: {action}"
            assert statement["Effect"] == "Allow"
            assert "NotAction" not in statement and "NotResource" not in statement


def test_every_resource_is_a_configured_one_but_the_documented_unscoped_actions(aws):
    configured = {arn for arns in resources(account_id(), FUNCTION_KEYS).values() for arn in arns}
    for role, doc in policies(functions=FUNCTION_KEYS).items():
        for statement in doc["Statement"]:
            for resource in _as_list(statement["Resource"]):
                if resource == "*":
                    extra = set(_as_list(statement["Action"])) - set(UNSCOPED)
                    assert not extra, f"{role}: {extra} with Resource '*'"
                else:
                    assert resource in configured, f"{role}: {resource} is not a configured resource"
    for doc in policies(functions=FUNCTION_KEYS).values():
        for statement in doc["Statement"]:
            if "cloudwatch:PutMetricData" in _as_list(statement["Action"]):
                assert statement["Condition"] == {
                    "StringEquals": {"cloudwatch:namespace": settings.CLOUDWATCH_NAMESPACE}}


def test_the_resources_carry_the_configured_names(aws):
    text = json.dumps(policies(functions=FUNCTION_KEYS))
    for name in ("S3_BUCKET_NAME", "DYNAMODB_TABLE_CONVERSATIONS", "DYNAMODB_TABLE_CACHE",
                 "DYNAMODB_TABLE_DJANGO_CACHE", "SQS_QUEUE_ANALYSIS", "SQS_QUEUE_ANALYSIS_DLQ",
                 "SQS_QUEUE_EVENTS", "SNS_TOPIC_NOTIFICATIONS"):
        assert getattr(settings, name) in text, name


def test_each_policy_fits_the_size_of_a_managed_policy(aws):
    for role, doc in policies(functions=FUNCTION_KEYS).items():
        size = len(json.dumps(doc, separators=(",", ":")))
        assert size <= 6144, f"{role} is {size} characters"


def test_only_the_bootstrap_role_creates_or_reconfigures(aws):
    docs = policies(functions=FUNCTION_KEYS)
    for role in ("web", "worker", "lambda"):
        assert not _actions(docs[role]) & set(ADMIN_ONLY), role
    assert set(ADMIN_ONLY) <= _actions(docs["bootstrap"])


def test_only_a_bedrock_provider_gives_the_web_role_the_model(aws, settings):
    assert "bedrock:" not in json.dumps(policies(functions=FUNCTION_KEYS))
    settings.LLM_PROVIDER, settings.BEDROCK_REGION = "bedrock", "eu-west-1"
    docs = policies(functions=FUNCTION_KEYS)
    model = f"arn:aws:bedrock:eu-west-1::foundation-model/{settings.BEDROCK_MODEL_ID}"
    for action in ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"):
        assert allows(docs["web"], action, model, {})
        assert not any(allows(docs[role], action, model, {}) for role in ("worker", "lambda", "bootstrap"))
    assert not allows(docs["web"], "bedrock:InvokeModel", model.replace("haiku", "opus"), {})
    assert len(json.dumps(docs["web"], separators=(",", ":"))) <= 6144


def test_an_inference_profile_covers_the_models_it_routes_to(aws, settings):
    settings.LLM_PROVIDER, settings.BEDROCK_MODEL_ID = "bedrock", "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
    web, account = iam_policy.policy("web"), account_id()
    profile = f"arn:aws:bedrock:{settings.BEDROCK_REGION}:{account}:inference-profile/{settings.BEDROCK_MODEL_ID}"
    assert allows(web, "bedrock:InvokeModelWithResponseStream", profile, {})
    for region in ("eu-west-1", "eu-central-1"):
        model = f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0"
        assert allows(web, "bedrock:InvokeModelWithResponseStream", model, {})


def test_the_command_prints_each_role_as_json(aws, capsys):
    call_command("iam_policy", "--role", "worker")
    assert json.loads(capsys.readouterr().out) == iam_policy.policy("worker", functions=FUNCTION_KEYS)
    call_command("iam_policy", "--account-id", "111122223333")
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == set(ROLES)
    assert ":111122223333:" in json.dumps(printed) and ":123456789012:" not in json.dumps(printed)


# --- Checked against the calls the code makes --------------------------------------------------------------
def _exercise_s3(tmp_path):
    from knowledge.storage import knowledge_storage
    from stocktool.aws import get_s3_service

    s3, key = get_s3_service(), f"{IAM_PREFIX}{uuid.uuid4().hex[:8]}.md"  # not under knowledge/: no events
    first = s3.upload_fileobj(io.BytesIO(b"# one"), key)
    s3.upload_fileobj(io.BytesIO(b"# two"), key)
    s3.get(key)
    s3.get(key, first["version_id"])
    s3.head(key, first["version_id"])
    s3.list_files(IAM_PREFIX)
    s3.list_versions(key)
    s3.generate_presigned_url(key, download_name="one.md")
    s3.generate_presigned_url(key, version_id=first["version_id"])
    s3.restore_version(key, first["version_id"])
    s3.delete(key, version_id=first["version_id"])
    s3.delete(key)
    big = io.BufferedReader(io.BytesIO(b"x" * (9 * 1024 * 1024)))  # past the multipart threshold
    s3.upload_fileobj(big, key + ".big")
    s3.delete(key + ".big")
    (tmp_path / "doc.md").write_text("# synced")
    s3.sync_directory(tmp_path, f"{IAM_PREFIX}sync-{uuid.uuid4().hex[:6]}/")
    s3.ping()
    storage = knowledge_storage()  # django-storages: the documents' FileField
    name = storage.save(key + ".txt", ContentFile(b"stored"))
    storage.exists(name)
    storage.size(name)
    with storage.open(name) as fh:
        fh.read()
    storage.url(name)
    storage.listdir(IAM_PREFIX)
    storage.delete(name)


def _exercise_dynamodb():
    from analysis import market_data
    from analysis.refresh import stock_refresh
    from stocktool.aws import get_dynamodb_service
    from stocktool.aws.cache import DynamoDBCache

    store, cid = get_dynamodb_service("conversation"), f"iam-{uuid.uuid4().hex}"
    long_answer = {"role": "assistant", "content": "x" * 3000}  # a stub in the window, read by BatchGetItem
    store.put_conversation(cid, [{"role": "user", "content": "hi"}, long_answer], user_id="iam-user",
                           title="IAM")
    store.get_recent(cid)
    store.get_conversation(cid)
    store.get_header(cid)
    store.list_conversations("iam-user")
    store.delete_conversation(cid)
    store.ping()
    stock = get_dynamodb_service("cache")
    stock.put_cache_item("IAM", {"price": 1.5}, namespace="iam/test")
    stock.get_cache_item("IAM", namespace="iam/test")
    stock.delete_cache_item("IAM", namespace="iam/test")
    stock.ping()
    market_data.quote_get(symbol="AAPL")
    stock_refresh(symbols=["MSFT"], period="1mo")  # Celery beat's path, in the worker
    cache = DynamoDBCache(settings.DYNAMODB_TABLE_DJANGO_CACHE, {"KEY_PREFIX": f"iam-{uuid.uuid4().hex[:6]}"})
    cache.set("a", 1)
    cache.add("b", "two")
    cache.get("a")
    cache.incr("a")
    cache.get_many(["a", "b"])
    cache.set_many({"c": 3, "d": 4})
    cache.touch("c", 60)
    cache.has_key("d")
    cache.delete("a")
    cache.delete_many(["b", "c"])
    cache.clear()


def _exercise_messaging(recorder):
    from knowledge.handlers import events_process
    from stocktool.aws import get_sns_service, get_sqs_service
    from stocktool.aws.session import client

    sqs = get_sqs_service()
    sqs.send_message({"iam": "check"}, message_attributes={"priority": "low"})
    sqs.process_messages(lambda body: None, wait_seconds=1)
    sqs.depth()
    sqs.depth(dead_letter=True)
    with recorder.pause():  # a dead letter to work on (SQS puts it there; the app never sends to the DLQ)
        client("sqs").send_message(QueueUrl=sqs.dlq_url, MessageBody=json.dumps({"iam": "dead"}))
    sqs.dead_letters_peek()
    sqs.redrive(limit=1)
    sqs.process_messages(lambda body: None, wait_seconds=1)
    sqs.ping()
    sns = get_sns_service()
    sns.publish("iam_check", {"ok": True}, attributes={"user_id": "1"})
    sns.ping()
    events_process(wait_seconds=1)  # the events listener: S3 events and notifications, through the topic


def _exercise_metrics():
    from datetime import UTC, datetime

    from monitoring import health
    from stocktool.aws import get_cloudwatch_service

    cw = get_cloudwatch_service()
    cw.put_metric_data([{"MetricName": "IamCheck", "Value": 1.0, "Unit": "Count",
                         "Timestamp": datetime.now(UTC)}])
    cw.get_performance_summary(hours=1)
    cw.get_series(hours=1)
    cw.track_queue_depth()
    cw.ping()
    for check in health.checks().values():  # here, not in the health pool's threads, so the calls are seen
        check()


def test_the_web_and_worker_policies_cover_every_call_of_the_service_paths(aws, recorder, tmp_path, db):
    _exercise_s3(tmp_path)
    _exercise_dynamodb()
    _exercise_messaging(recorder)
    _exercise_metrics()
    docs = policies(functions=FUNCTION_KEYS)
    queue = resources(account_id())["analysis_queue"][0]
    seen = recorder.operations()
    for service, operation in [("s3", "PutObject"), ("s3", "CreateMultipartUpload"), ("s3", "CopyObject"),
                               ("dynamodb", "Query"), ("dynamodb", "BatchGetItem"), ("dynamodb", "Scan"),
                               ("dynamodb", "DeleteItem"), ("sqs", "ReceiveMessage"), ("sqs", "GetQueueUrl"),
                               ("sns", "Publish"), ("sns", "ListTopics"), ("cloudwatch", "PutMetricData"),
                               ("cloudwatch", "GetMetricStatistics"), ("s3", "HeadObject")]:
        assert (service, operation) in seen, f"the exercise did not reach {service}:{operation}"
    kombu = [("sqs", op, {"QueueUrl": f"https://sqs/{queue.rsplit(':', 1)[-1]}"}, 0)
             for op in set(KOMBU_CONSUMER + KOMBU_PRODUCER)]
    assert uncovered(recorder.calls + kombu, docs["web"], docs["worker"]) == []
    assert uncovered([c for c in kombu if c[1] in KOMBU_CONSUMER], docs["worker"]) == []
    assert uncovered([c for c in kombu if c[1] in KOMBU_PRODUCER], docs["web"]) == []
    needed = {a for s, o, p, _ in recorder.calls for a, _r, _c in needs(s, o, p)}
    assert not needed & set(ADMIN_ONLY)


def test_the_web_policy_covers_the_bedrock_provider(aws, recorder, settings, db):
    from conversations.assistant.providers import Turn
    from conversations.assistant.providers.bedrock import BedrockProvider
    from conversations.tests.fake_bedrock import FakeBedrock, text_events

    with FakeBedrock() as fake:
        settings.LLM_PROVIDER, settings.BEDROCK_ENDPOINT_URL = "bedrock", fake.url
        session.reset_clients()
        fake.script = [{"events": text_events("Hi.")}, {"events": text_events("Hi.")}]
        for streaming in (True, False):
            list(BedrockProvider(model=settings.BEDROCK_MODEL_ID, streaming=streaming).run(Turn("hi")))
    calls = [c for c in recorder.calls if c[0] == "bedrock-runtime"]
    assert {c[1] for c in calls} == {"Converse", "ConverseStream"}
    docs = policies(functions=FUNCTION_KEYS)
    assert uncovered(calls, docs["web"]) == []
    assert uncovered(calls, docs["worker"]) != []


def _fresh_names(settings, tag: str) -> None:
    """Point every resource name at a new prefix, so bootstrap and deploy create (and show) everything."""
    prefix = f"{settings.TEST_RUN_PREFIX}{tag}{uuid.uuid4().hex[:4]}-"
    for name in ("S3_BUCKET_NAME", "DYNAMODB_TABLE_CONVERSATIONS", "DYNAMODB_TABLE_CACHE",
                 "DYNAMODB_TABLE_DJANGO_CACHE", "SQS_QUEUE_ANALYSIS", "SQS_QUEUE_ANALYSIS_DLQ",
                 "SQS_QUEUE_EVENTS", "SNS_TOPIC_NOTIFICATIONS", "CLOUDWATCH_DASHBOARD"):
        base = getattr(settings, name).removeprefix(settings.TEST_RUN_PREFIX)
        setattr(settings, name, prefix + base)


def test_bootstrap_and_deploy_need_only_the_bootstrap_policy(aws, recorder, settings):
    from stocktool.provisioning.bootstrap import bootstrap

    _fresh_names(settings, "iam")
    bootstrap()
    call_command("deploy_lambdas", "--skip-deps")
    with recorder.pause():
        _drift()
    bootstrap()
    settings.LAMBDA_MEMORY_MB = 512  # a configuration update
    call_command("deploy_lambdas")  # and a code update: now with dependencies
    docs = policies(functions=FUNCTION_KEYS)
    calls = [c for c in recorder.calls if c[3] == threading.get_ident()]  # not the metrics flusher's
    assert uncovered(calls, docs["bootstrap"]) == []
    needed = {a for s, o, p, _ in calls for a, _r, _c in needs(s, o, p)}
    assert set(ADMIN_ONLY) <= needed  # the list above is what the code really does
    for role in ("web", "worker", "lambda"):
        assert not needed & set(ADMIN_ONLY) & _actions(docs[role])


def _drift() -> None:
    """Undo some of what bootstrap and deploy set, so that converging it back is recorded too."""
    from stocktool.aws.session import client
    from stocktool.provisioning.lambdas import LAMBDA_TRUST_POLICY, names

    sns, n = client("sns"), names(FUNCTION_KEYS[0])
    topic = resources(account_id())["topic"][0]
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        sns.set_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"],
                                        AttributeName="RawMessageDelivery", AttributeValue="false")
    lam = client("lambda")
    lam.remove_permission(FunctionName=n.function, StatementId=n.statement_id)
    lam.add_permission(FunctionName=n.function, StatementId=n.statement_id, Action="lambda:InvokeFunction",
                       Principal="events.amazonaws.com", SourceArn=_arn("events", "rule/someone-elses"))
    trust = json.loads(json.dumps(LAMBDA_TRUST_POLICY).replace("lambda.amazonaws.com", "ec2.amazonaws.com"))
    client("iam").update_assume_role_policy(RoleName=n.role, PolicyDocument=json.dumps(trust))


def test_the_lambda_handler_needs_only_its_execution_role(aws, recorder, settings):
    from lambda_functions.stock_updater.handler import lambda_handler

    settings.WATCHLIST_SYMBOLS = ["AAPL", "NOPE1"]
    result = lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, None)
    assert result["refreshed"] == 1
    here = threading.get_ident()  # the metrics flusher's thread sends CloudWatch data in tests, not in Lambda
    calls = [c for c in recorder.calls if c[3] == here]
    assert calls
    assert uncovered(calls, iam_policy.policy("lambda", functions=FUNCTION_KEYS)) == []
