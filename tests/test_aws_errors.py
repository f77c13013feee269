"""One way to translate AWS errors: ``stocktool.aws.errors.translated``. What botocore raises becomes the AWS
layer's exception, typed by what it means; nothing else in the product catches botocore's exceptions."""

import ast
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from stocktool.aws.errors import AWSError, AWSUnavailable, ConditionFailed, NotFound, translated

ROOT = Path(__file__).resolve().parent.parent


def _client_error(code: str, message: str = "it says so") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "SomeOperation")


@pytest.mark.parametrize(("code", "kind"), [
    ("NoSuchKey", NotFound), ("ResourceNotFoundException", NotFound), ("QueueDoesNotExist", NotFound),
    ("NoSuchEntity", NotFound), ("MethodNotAllowed", NotFound),  # (S3: a delete marker asked for by version)
    ("ConditionalCheckFailedException", ConditionFailed),
    ("ThrottlingException", AWSUnavailable), ("ProvisionedThroughputExceededException", AWSUnavailable),
    ("AccessDenied", AWSError),
])
def test_an_aws_answer_becomes_the_exception_that_says_what_it_means(code, kind):
    with pytest.raises(AWSError) as caught, translated("read thing x"):
        raise _client_error(code)
    assert type(caught.value) is kind and caught.value.code == code
    assert str(caught.value) == f"read thing x: {code}: it says so"  # one readable line
    assert isinstance(caught.value.__cause__, ClientError)


def test_an_endpoint_that_does_not_answer_is_unavailable():
    with pytest.raises(AWSUnavailable, match="^send to q: Could not connect"), translated("send to q"):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")


def test_nothing_but_the_errors_module_catches_botocores_exceptions():
    catching = []
    for folder in ("stocktool", "conversations", "knowledge", "analysis", "monitoring", "lambda_functions"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.parts or path == ROOT / "stocktool/aws/errors.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                    if names & {"ClientError", "BotoCoreError"}:
                        catching.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert catching == []
