"""Lambda functions, their EventBridge schedules and execution roles: created or converged idempotently.

``deploy_lambdas`` drives these. As in ``bootstrap``, each step reports created, updated or exists, and a
second run changes nothing: code is compared by its SHA-256 (Lambda's ``CodeSha256``), configuration, rule,
target, invoke permission and role policy by value. With ``dry_run=True`` only read calls are made and the
steps say "would create" or "would update".
"""

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote

from django.conf import settings

from stocktool.aws.errors import AWSError, NotFound, translated
from stocktool.aws.session import client

from .resources import Step, resource_prefix

LAMBDA_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
    ],
}
ROLE_POLICY_NAME = "stocktool-function"
EVENTS_PRINCIPAL = "events.amazonaws.com"
WAIT = {"Delay": 1, "MaxAttempts": 120}
# A role created a moment ago is not yet visible to Lambda on AWS (IAM is eventually consistent).
ROLE_PROPAGATION_SECONDS = 60


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    role_arn: str
    handler: str
    runtime: str
    architecture: str
    memory_mb: int
    timeout: int
    description: str
    environment: dict[str, str] = field(default_factory=dict)

    def api(self) -> dict:
        """The CreateFunction / UpdateFunctionConfiguration arguments, compared against GetFunction's."""
        return {
            "FunctionName": self.name, "Role": self.role_arn, "Handler": self.handler, "Runtime": self.runtime,
            "MemorySize": self.memory_mb, "Timeout": self.timeout, "Description": self.description,
            "Environment": {"Variables": dict(self.environment)},
        }


@dataclass(frozen=True)
class Names:
    """The AWS names of one function's resources, under the prefix the app's resources share."""

    function: str
    role: str
    rule: str
    statement_id: str
    log_group: str


def names(key: str) -> Names:
    function = f"{name_prefix()}{key}"
    return Names(function=function, role=f"{function}-role"[:64], rule=f"{function}-schedule"[:64],
                 statement_id=f"{function}-schedule-invoke"[:100], log_group=f"/aws/lambda/{function}")


def name_prefix() -> str:
    """"stocktool-" by default, "t1a2b3-stocktool-" in a test run: named after the others, as alarms are."""
    return resource_prefix(
        settings.S3_BUCKET_NAME, settings.DYNAMODB_TABLE_CONVERSATIONS, settings.DYNAMODB_TABLE_CACHE,
        settings.SQS_QUEUE_ANALYSIS, settings.SQS_QUEUE_ANALYSIS_DLQ, settings.SNS_TOPIC_NOTIFICATIONS,
    )


def partition(region: str | None = None) -> str:
    region = region or settings.AWS_DEFAULT_REGION
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def account_id() -> str:
    """The account the credentials belong to (STS GetCallerIdentity needs no permission)."""
    with translated(f"who am I on {settings.AWS_ENDPOINT_URL or 'AWS'}"):
        return _account_id(settings.AWS_ENDPOINT_URL)


@lru_cache(maxsize=8)
def _account_id(endpoint: str | None) -> str:
    return client("sts").get_caller_identity()["Account"]


def arn(service: str, resource: str, *, region: bool = True) -> str:
    where = settings.AWS_DEFAULT_REGION if region else ""
    return f"arn:{partition()}:{service}:{where}:{account_id()}:{resource}"


def _status(created: bool, dry_run: bool) -> str:
    if dry_run:
        return "would create" if created else "would update"
    return "created" if created else "updated"


# --- IAM: the function's execution role -------------------------------------------------------------------
def role_ensure(name: str, policy: dict, *, dry_run: bool = False) -> tuple[str, list[Step]]:
    """Create or converge an execution role Lambda can assume, with ``policy`` inline; return its ARN."""
    iam = client("iam")
    try:
        with translated(f"role {name}"):
            role = iam.get_role(RoleName=name)["Role"]
    except NotFound:
        role = None
    steps = []
    if role is None:
        if not dry_run:
            role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY),
                                   Description="StockTool Lambda function (deploy_lambdas)")["Role"]
        steps.append(Step("role", name, _status(True, dry_run)))
    elif _document(role.get("AssumeRolePolicyDocument")) != LAMBDA_TRUST_POLICY:
        if not dry_run:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))
        steps.append(Step("trust", name, _status(False, dry_run)))
    current = None
    if role is not None:
        try:
            with translated(f"policy of role {name}"):
                found = iam.get_role_policy(RoleName=name, PolicyName=ROLE_POLICY_NAME)
                current = _document(found["PolicyDocument"])
        except NotFound:
            pass  # no policy yet: put it below
    if current != policy:
        if not dry_run:
            iam.put_role_policy(RoleName=name, PolicyName=ROLE_POLICY_NAME, PolicyDocument=json.dumps(policy))
        steps.append(Step("policy", name, _status(current is None, dry_run)))
    role_arn = role["Arn"] if role else arn("iam", f"role/{name}", region=False)
    return role_arn, steps or [Step("role", name, "exists")]


def _document(value) -> dict | None:
    # boto3 hands IAM policy documents back decoded; other endpoints may answer with the JSON text.
    if value is None or isinstance(value, dict):
        return value
    return json.loads(unquote(value))


# --- Lambda: the function -------------------------------------------------------------------------------
def function_ensure(config: FunctionConfig, code: bytes, code_sha256: str, *,
                    dry_run: bool = False) -> tuple[str, list[Step]]:
    """Create the function, or update its code (if the SHA-256 differs) and configuration; return its ARN."""
    lam = client("lambda")
    try:
        with translated(f"function {config.name}"):
            current = lam.get_function(FunctionName=config.name)["Configuration"]
    except NotFound:
        current = None
    if current is None:
        if dry_run:
            return arn("lambda", f"function:{config.name}"), [Step("function", config.name, "would create")]
        created = _create_function(lam, config, code)
        lam.get_waiter("function_active_v2").wait(FunctionName=config.name, WaiterConfig=WAIT)
        return created["FunctionArn"], [Step("function", config.name, "created")]
    steps = []
    architectures = [config.architecture]
    if current.get("CodeSha256") != code_sha256 or current.get("Architectures", ["x86_64"]) != architectures:
        if not dry_run:
            lam.update_function_code(FunctionName=config.name, ZipFile=code, Architectures=architectures)
            lam.get_waiter("function_updated_v2").wait(FunctionName=config.name, WaiterConfig=WAIT)
        steps.append(Step("code", config.name, _status(False, dry_run)))
    if _configuration_differs(current, config.api()):
        if not dry_run:
            lam.update_function_configuration(**config.api())
            lam.get_waiter("function_updated_v2").wait(FunctionName=config.name, WaiterConfig=WAIT)
        steps.append(Step("config", config.name, _status(False, dry_run)))
    return current["FunctionArn"], steps or [Step("function", config.name, "exists")]


def _create_function(lam, config: FunctionConfig, code: bytes) -> dict:
    deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
    while True:
        try:
            with translated(f"create function {config.name}"):
                return lam.create_function(**config.api(), Code={"ZipFile": code}, PackageType="Zip",
                                           Architectures=[config.architecture], Publish=False)
        except AWSError as exc:
            young_role = exc.code == "InvalidParameterValueException" and "role" in str(exc).lower()
            if not young_role or time.monotonic() > deadline:
                raise
            time.sleep(3)


def _configuration_differs(current: dict, wanted: dict) -> bool:
    for key, value in wanted.items():
        if key == "FunctionName":
            continue
        have = current.get(key)
        if key == "Environment":
            have = {"Variables": (have or {}).get("Variables", {})}
        if key == "Description":
            have = have or ""
        if have != value:
            return True
    return False


# --- EventBridge: the schedule, its target, and Lambda's permission for it --------------------------------
def schedule_ensure(*, rule: str, expression: str, description: str, function_name: str, function_arn: str,
                    statement_id: str, dry_run: bool = False) -> list[Step]:
    """Run ``function_arn`` on ``expression``: the rule, its target, and the function's invoke permission."""
    rule_arn, steps = _rule_ensure(rule, expression, description, dry_run)
    steps.append(_target_ensure(rule, function_name, function_arn, dry_run))
    steps.append(_permission_ensure(function_name, statement_id, rule_arn, dry_run))
    return steps


def _rule_ensure(name: str, expression: str, description: str, dry_run: bool) -> tuple[str, list[Step]]:
    events = client("events")
    try:
        with translated(f"rule {name}"):
            current = events.describe_rule(Name=name)
    except NotFound:
        current = None
    wanted = {"ScheduleExpression": expression, "State": "ENABLED", "Description": description}
    label = f"{name} {expression}"
    if current and all(current.get(k) == v for k, v in wanted.items()):
        return current["Arn"], [Step("rule", label, "exists")]
    if dry_run:
        rule_arn = current["Arn"] if current else arn("events", f"rule/{name}")
    else:
        rule_arn = events.put_rule(Name=name, **wanted)["RuleArn"]
    return rule_arn, [Step("rule", label, _status(current is None, dry_run))]


def _target_ensure(rule: str, target_id: str, function_arn: str, dry_run: bool) -> Step:
    events = client("events")
    try:
        with translated(f"targets of {rule}"):
            targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    except NotFound:
        targets = []
    mine = [t for t in targets if t["Id"] == target_id]
    if mine and mine[0]["Arn"] == function_arn and not mine[0].get("Input"):
        return Step("target", f"{rule} -> {target_id}", "exists")
    if not dry_run:
        failed = events.put_targets(Rule=rule, Targets=[{"Id": target_id, "Arn": function_arn}])
        if failed.get("FailedEntryCount"):
            raise AWSError(f"put target {target_id} on rule {rule}: {failed['FailedEntries']}")
    return Step("target", f"{rule} -> {target_id}", _status(not mine, dry_run))


def _permission_ensure(function_name: str, statement_id: str, rule_arn: str, dry_run: bool) -> Step:
    lam = client("lambda")
    try:
        with translated(f"policy of {function_name}"):
            policy = json.loads(lam.get_policy(FunctionName=function_name)["Policy"])
    except NotFound:
        policy = {"Statement": []}
    found = next((s for s in policy.get("Statement", []) if s.get("Sid") == statement_id), None)
    if found and _grants(found, rule_arn):
        return Step("permission", statement_id, "exists")
    if not dry_run:
        if found:
            lam.remove_permission(FunctionName=function_name, StatementId=statement_id)
        lam.add_permission(FunctionName=function_name, StatementId=statement_id,
                           Action="lambda:InvokeFunction", Principal=EVENTS_PRINCIPAL, SourceArn=rule_arn)
    return Step("permission", statement_id, _status(found is None, dry_run))


def _grants(statement: dict, rule_arn: str) -> bool:
    principal = statement.get("Principal", {})
    service = principal.get("Service") if isinstance(principal, dict) else principal
    conditions = statement.get("Condition", {}).get("ArnLike", {})
    source = next((v for k, v in conditions.items() if k.lower() == "aws:sourcearn"), None)
    return (statement.get("Effect") == "Allow" and service == EVENTS_PRINCIPAL and source == rule_arn
            and statement.get("Action") in ("lambda:InvokeFunction", ["lambda:InvokeFunction"]))


deploy_errors = translated  # botocore failures inside the block become AWSError with one readable line
