"""The IAM policies against the code's own AWS calls.

A recorder hooks botocore's ``before-parameter-build`` event (emitted for every call and for presigned URLs)
on the sessions ``stocktool.aws.session`` and django-storages build, while the app's service paths run against
the emulator. Each recorded operation becomes the IAM action and resource it needs, and a small evaluator
checks that the web or worker policy allows it. kombu builds its own SQS clients, so its operations are added
by hand. Bootstrap and deployment run under fresh names, so their create calls are recorded too, and must be
allowed by the bootstrap policy only.
"""

import io
import json
import threading
import uuid

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command

from stocktool.aws import session
from stocktool.provisioning import iam_policy
from stocktool.provisioning.iam_policy import policies, resources
from stocktool.provisioning.lambdas import account_id
from tests.iam_support import (
    ADMIN_ONLY,
    FUNCTION_KEYS,
    IAM_PREFIX,
    KOMBU_CONSUMER,
    KOMBU_PRODUCER,
    _actions,
    _arn,
    _fresh_names,
    needs,
    uncovered,
)

pytestmark = pytest.mark.integration


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
