"""Deploy the Lambda functions: package, role, function, schedule. Idempotent; a dry run only reads.
``python manage.py deploy_lambdas`` runs it."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import iam_policy, lambdas
from .functions import FUNCTIONS, LambdaFunction
from .packaging import Package, package_build
from .resources import Step


@dataclass(frozen=True)
class Deployment:
    function: LambdaFunction
    name: str
    package: Package
    steps: list[Step]

    @property
    def changed(self) -> int:
        return sum(step.status != "exists" for step in self.steps)


def functions_deploy(*, dry_run: bool = False, with_dependencies: bool = True, build_dir: Path | None = None,
                     only: tuple[str, ...] = ()) -> list[Deployment]:
    """Deploy every function (or those keyed in ``only``); raise AWSError or PackagingError on failure."""
    selected = [f for f in FUNCTIONS if not only or f.key in only]
    return [_deploy(f, dry_run, with_dependencies, build_dir) for f in selected]


def _deploy(function: LambdaFunction, dry_run: bool, with_dependencies: bool,
            build_dir: Path | None) -> Deployment:
    package = package_build(function, runtime=settings.LAMBDA_RUNTIME,
                            architecture=settings.LAMBDA_ARCHITECTURE,
                            with_dependencies=with_dependencies, build_dir=build_dir)
    n = lambdas.names(function.key)
    where = settings.AWS_ENDPOINT_URL or "AWS"
    steps: list[Step] = []
    with lambdas.deploy_errors(f"deploy {n.function} on {where}"):
        if settings.LAMBDA_ROLE_ARN:
            role_arn = settings.LAMBDA_ROLE_ARN
        else:
            role_policy = iam_policy.policy("lambda", functions=(function.key,))
            role_arn, role_steps = lambdas.role_ensure(n.role, role_policy, dry_run=dry_run)
            steps += role_steps
        config = lambdas.FunctionConfig(
            name=n.function, role_arn=role_arn, handler=function.handler, runtime=settings.LAMBDA_RUNTIME,
            architecture=settings.LAMBDA_ARCHITECTURE, memory_mb=settings.LAMBDA_MEMORY_MB,
            timeout=settings.LAMBDA_TIMEOUT, description=function.description,
            environment=function_environment(function),
        )
        function_arn, function_steps = lambdas.function_ensure(config, package.read(), package.code_sha256,
                                                               dry_run=dry_run)
        steps += function_steps
        if function.schedule:
            steps += lambdas.schedule_ensure(
                rule=n.rule, expression=function.schedule, description=function.description,
                function_name=n.function, function_arn=function_arn, statement_id=n.statement_id,
                dry_run=dry_run,
            )
    return Deployment(function, n.function, package, steps)


def function_environment(function: LambdaFunction) -> dict[str, str]:
    """The function's environment variables: its settings as the app has them, and its endpoint."""
    env: dict[str, str] = {"DJANGO_SETTINGS_MODULE": function.settings_module}
    env.update({name: _text(getattr(settings, name)) for name in function.settings})
    if settings.AWS_ENDPOINT_URL:
        # An emulator: LocalStack gives its functions AWS_ENDPOINT_URL itself; LAMBDA_ENDPOINT_URL overrides.
        env["USE_LOCALSTACK"] = "true"
        if settings.LAMBDA_ENDPOINT_URL:
            env["AWS_ENDPOINT_URL"] = settings.LAMBDA_ENDPOINT_URL
    else:
        env["USE_LOCALSTACK"] = "false"  # real AWS: no endpoint, the execution role's credentials
    if "MARKET_DATA_PROVIDER" in function.settings and settings.MARKET_DATA_PROVIDER == "alphavantage":
        # Lambda encrypts environment variables at rest; see docs/deployment.md on secrets.
        env["ALPHAVANTAGE_API_KEY"] = settings.ALPHAVANTAGE_API_KEY
        env["ALPHAVANTAGE_BASE_URL"] = settings.ALPHAVANTAGE_BASE_URL or ""
    return env


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
