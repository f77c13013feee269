"""The IAM policies, read on their own: no wildcards, only configured resources, sizes, who may create what.
The policies against the code's own AWS calls are in test_iam_policy_calls.py."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command

from stocktool.provisioning import iam_policy
from stocktool.provisioning.iam_policy import ROLES, UNSCOPED, policies, resources
from stocktool.provisioning.lambdas import account_id
from tests.iam_support import ADMIN_ONLY, FUNCTION_KEYS, _actions, _as_list, allows

pytestmark = pytest.mark.integration


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
