"""deploy_lambdas against the emulator: the package, the function, its schedule and role; reruns; dry runs."""

import importlib
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management import CommandError, call_command

from stocktool.aws import get_dynamodb_service
from stocktool.aws.session import client
from stocktool.provisioning import iam_policy
from stocktool.provisioning.deploy import function_environment
from stocktool.provisioning.functions import MARKET_CLOSE, STOCK_UPDATER
from stocktool.provisioning.lambdas import LAMBDA_TRUST_POLICY, names
from stocktool.provisioning.packaging import code_sha256, package_build
from tests.iam_support import _fresh_names

pytestmark = pytest.mark.integration

RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def _deploy(*args: str, capsys) -> list[str]:
    call_command("deploy_lambdas", *args)
    return capsys.readouterr().out.splitlines()


def _state(n) -> dict:
    lam, events = client("lambda"), client("events")
    config = lam.get_function(FunctionName=n.function)["Configuration"]
    return {
        "config": {k: v for k, v in config.items() if k != "ResponseMetadata"},
        "rule": {k: v for k, v in events.describe_rule(Name=n.rule).items() if k != "ResponseMetadata"},
        "targets": events.list_targets_by_rule(Rule=n.rule)["Targets"],
        "policy": json.loads(lam.get_policy(FunctionName=n.function)["Policy"]),
        "role": client("iam").get_role(RoleName=n.role)["Role"]["AssumeRolePolicyDocument"],
        "role_policy": client("iam").get_role_policy(RoleName=n.role, PolicyName="stocktool-function")[
            "PolicyDocument"],
    }


def _cli(aws_endpoint: str, *args: str) -> dict:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": settings.AWS_DEFAULT_REGION}
    run = subprocess.run(["aws", "--endpoint-url", aws_endpoint, "--output", "json", *args], check=False,
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_after_a_deploy_the_cli_lists_the_function_and_its_rule(aws, aws_endpoint, capsys):
    out = _deploy("--skip-deps", capsys=capsys)
    assert out[-1].startswith("Lambda functions ready on")
    n = names(STOCK_UPDATER.key)
    functions = _cli(aws_endpoint, "lambda", "list-functions")["Functions"]
    mine = next(f for f in functions if f["FunctionName"] == n.function)
    assert mine["Handler"] == "handler.lambda_handler" and mine["Runtime"] == settings.LAMBDA_RUNTIME
    assert mine["Environment"]["Variables"]["DYNAMODB_TABLE_CACHE"] == settings.DYNAMODB_TABLE_CACHE
    assert mine["Environment"]["Variables"]["DJANGO_SETTINGS_MODULE"] == "lambda_settings"
    rules = _cli(aws_endpoint, "events", "list-rules", "--name-prefix", n.rule)["Rules"]
    assert [(r["Name"], r["ScheduleExpression"], r["State"]) for r in rules] == [
        (n.rule, "cron(0 21 ? * MON-FRI *)", "ENABLED")]
    targets = _cli(aws_endpoint, "events", "list-targets-by-rule", "--rule", n.rule)["Targets"]
    assert [t["Arn"] for t in targets] == [mine["FunctionArn"]]


def test_eventbridge_may_invoke_it_and_the_role_is_least_privilege(aws, capsys):
    _deploy("--skip-deps", capsys=capsys)
    n = names(STOCK_UPDATER.key)
    state = _state(n)
    [statement] = [s for s in state["policy"]["Statement"] if s["Sid"] == n.statement_id]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == state["rule"]["Arn"]
    assert state["role"] == LAMBDA_TRUST_POLICY
    assert state["role_policy"] == iam_policy.policy("lambda", functions=(STOCK_UPDATER.key,))
    assert state["config"]["Role"].endswith(f":role/{n.role}")


def test_a_second_run_changes_nothing(aws, capsys):
    _deploy("--skip-deps", capsys=capsys)
    before = _state(names(STOCK_UPDATER.key))
    out = _deploy("--skip-deps", capsys=capsys)
    assert [line.split()[-1] for line in out[1:-1]] == ["exists"] * (len(out) - 2)
    assert out[0].endswith("cached")
    assert out[-1].endswith(": 0 changed, 5 unchanged")
    assert _state(names(STOCK_UPDATER.key)) == before


def test_a_changed_setting_updates_only_the_configuration(aws, settings, capsys):
    _deploy("--skip-deps", capsys=capsys)
    settings.LAMBDA_MEMORY_MB = 384
    settings.WATCHLIST_SYMBOLS = ["AAPL", "KO"]
    out = _deploy("--skip-deps", capsys=capsys)
    changed = [line.split()[0] for line in out[1:-1] if not line.endswith("exists")]
    assert changed == ["config"]
    config = _state(names(STOCK_UPDATER.key))["config"]
    assert config["MemorySize"] == 384
    assert config["Environment"]["Variables"]["WATCHLIST_SYMBOLS"] == "AAPL,KO"


def test_new_code_updates_the_code_and_the_code_sha(aws, capsys, tmp_path):
    _deploy("--skip-deps", capsys=capsys)
    full = package_build(STOCK_UPDATER, runtime=settings.LAMBDA_RUNTIME)  # what the next run ships
    out = _deploy(capsys=capsys)
    assert [line.split()[0] for line in out[1:-1] if not line.endswith("exists")] == ["code"]
    assert _state(names(STOCK_UPDATER.key))["config"]["CodeSha256"] == full.code_sha256
    _deploy("--skip-deps", capsys=capsys)  # leave the small package for the other tests


def test_a_dry_run_only_reads_and_says_what_it_would_do(aws, settings, capsys, recorder):
    _fresh_names(settings, "dry")
    n = names(STOCK_UPDATER.key)
    out = _deploy("--dry-run", "--skip-deps", capsys=capsys)
    assert [(line.split()[0], " ".join(line.split()[-2:])) for line in out[1:-1]] == [
        (kind, "would create") for kind in ("role", "policy", "function", "rule", "target", "permission")]
    assert "nothing was written" in out[-1]
    operations = {op for _service, op in recorder.operations()}
    assert operations and all(op.startswith(("Get", "List", "Describe")) for op in operations), operations
    with pytest.raises(ClientError):
        client("lambda").get_function(FunctionName=n.function)
    with pytest.raises(ClientError):
        client("events").describe_rule(Name=n.rule)
    with pytest.raises(ClientError):
        client("iam").get_role(RoleName=n.role)


def test_a_dry_run_on_a_deployed_function_reports_the_update_it_would_make(aws, settings, capsys):
    _deploy("--skip-deps", capsys=capsys)
    settings.LAMBDA_TIMEOUT = 123
    out = _deploy("--dry-run", "--skip-deps", capsys=capsys)
    assert [line.split()[0] for line in out[1:-1] if not line.endswith("exists")] == ["config"]
    assert out[-1].startswith("dry run") and ": 1 would change" in out[-1]
    assert _state(names(STOCK_UPDATER.key))["config"]["Timeout"] != 123


def test_a_given_role_is_used_as_is(aws, settings, capsys):
    _fresh_names(settings, "role")
    role = client("iam").create_role(RoleName=f"given-{uuid.uuid4().hex[:8]}",
                                     AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST_POLICY))["Role"]
    settings.LAMBDA_ROLE_ARN = role["Arn"]
    out = _deploy("--skip-deps", capsys=capsys)
    assert not [line for line in out if line.startswith(("role", "policy"))]
    function = client("lambda").get_function(FunctionName=names(STOCK_UPDATER.key).function)
    assert function["Configuration"]["Role"] == role["Arn"]


def test_the_command_fails_with_one_readable_line_when_the_endpoint_is_down(aws, settings):
    from stocktool.aws.session import reset_clients
    from stocktool.provisioning import lambdas

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    reset_clients()
    lambdas._account_id.cache_clear()
    try:
        with pytest.raises(CommandError) as info:
            call_command("deploy_lambdas", "--skip-deps")
    finally:
        reset_clients()
        lambdas._account_id.cache_clear()
    assert "\n" not in str(info.value) and "127.0.0.1:9" in str(info.value)


# --- The package -------------------------------------------------------------------------------------------
def test_the_package_holds_the_handler_the_app_code_and_django_but_not_the_runtimes_sdk(aws):
    package = package_build(STOCK_UPDATER, runtime=settings.LAMBDA_RUNTIME)
    names_in_zip = zipfile.ZipFile(package.path).namelist()
    for required in ("handler.py", "lambda_settings.py", "django/__init__.py", "environ/__init__.py",
                     "celery/__init__.py", "analysis/refresh.py", "analysis/market_data/__init__.py",
                     "stocktool/aws/session.py", "stocktool/settings/base.py", "monitoring/metrics.py"):
        assert required in names_in_zip, required
    top = {name.split("/", 1)[0] for name in names_in_zip}
    assert not top & {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py", "bin"}
    assert not [n for n in names_in_zip if "__pycache__" in n or n.endswith(".pyc") or "/tests/" in n]
    assert "requirements.txt" not in names_in_zip and not [n for n in names_in_zip if "provisioning/" in n]
    assert package.code_sha256 == code_sha256(package.read())
    again = package_build(STOCK_UPDATER, runtime=settings.LAMBDA_RUNTIME)
    assert again.cached and again.code_sha256 == package.code_sha256


def test_the_code_zip_is_reproducible(tmp_path):
    first, second = (
        package_build(STOCK_UPDATER, runtime="python3.11", with_dependencies=False, build_dir=where)
        for where in (tmp_path / "a", tmp_path / "b")
    )
    assert not first.cached and not second.cached
    assert first.code_sha256 == second.code_sha256


def test_the_package_runs_with_nothing_but_the_lambda_runtime_beside_it(aws, aws_endpoint, tmp_path):
    """Unzipped, with only the SDK that Lambda's runtime provides, in an interpreter without site-packages."""
    package = package_build(STOCK_UPDATER, runtime=settings.LAMBDA_RUNTIME)
    task, runtime = tmp_path / "task", tmp_path / "runtime"
    zipfile.ZipFile(package.path).extractall(task)
    runtime.mkdir()
    for name in RUNTIME_MODULES:
        module = importlib.import_module(name)
        path = Path(module.__file__)
        source = path.parent if path.name == "__init__.py" else path
        (runtime / source.name).symlink_to(source)
    get_dynamodb_service("cache").delete_cache_item("KO", namespace="demo/quote")
    env = {
        **function_environment(STOCK_UPDATER),
        # What Lambda (and LocalStack) put in a function's environment: the role's temporary keys with a
        # session token, the region, and on LocalStack the endpoint.
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "token",
        "AWS_DEFAULT_REGION": settings.AWS_DEFAULT_REGION, "AWS_REGION": settings.AWS_DEFAULT_REGION,
        "AWS_ENDPOINT_URL": aws_endpoint, "AWS_CONFIG_FILE": "/nonexistent", "LOG_FORMAT": "plain",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
    }
    code = (f"import sys; sys.path[:0] = [{str(task)!r}, {str(runtime)!r}]; import json, handler; "
            "print(json.dumps(handler.lambda_handler({'symbols': ['KO', 'NOPE1']}, None)))")
    run = subprocess.run([sys.executable, "-I", "-S", "-c", code], check=False, env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["statusCode"] == 207 and result["symbols"] == ["KO"]
    assert result["failures"][0]["error"] == "unknown_symbol"
    assert get_dynamodb_service("cache").get_cache_item("KO", namespace="demo/quote")["symbol"] == "KO"


# --- The function's environment ----------------------------------------------------------------------------
def test_on_real_aws_the_function_gets_no_endpoint(settings):
    settings.AWS_ENDPOINT_URL = None
    env = function_environment(STOCK_UPDATER)
    assert env["USE_LOCALSTACK"] == "false" and "AWS_ENDPOINT_URL" not in env
    assert "ALPHAVANTAGE_API_KEY" not in env and "AWS_ACCESS_KEY_ID" not in env
    assert env["WATCHLIST_SYMBOLS"] == ",".join(settings.WATCHLIST_SYMBOLS)


def test_on_an_emulator_the_function_may_be_told_its_endpoint(settings):
    settings.LAMBDA_ENDPOINT_URL = "http://localstack:4566"
    env = function_environment(STOCK_UPDATER)
    assert env["USE_LOCALSTACK"] == "true" and env["AWS_ENDPOINT_URL"] == "http://localstack:4566"


def test_the_alpha_vantage_key_goes_only_where_it_is_used(settings):
    settings.MARKET_DATA_PROVIDER, settings.ALPHAVANTAGE_API_KEY = "alphavantage", "k3y"
    assert function_environment(STOCK_UPDATER)["ALPHAVANTAGE_API_KEY"] == "k3y"


def test_the_schedule_is_market_close_on_weekdays():
    assert STOCK_UPDATER.schedule == MARKET_CLOSE == "cron(0 21 ? * MON-FRI *)"


def test_celery_beat_sends_the_refresh_at_the_same_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["stock-refresh-market-close"]
    assert entry["task"] == "analysis.tasks.stock_refresh_task"
    schedule = entry["schedule"]
    assert (schedule.minute, schedule.hour, schedule.day_of_week) == ({0}, {21}, {1, 2, 3, 4, 5})
