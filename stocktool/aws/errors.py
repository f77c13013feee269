from collections.abc import Callable
from contextlib import contextmanager
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

T = TypeVar("T")


class AWSError(Exception):
    """An AWS call failed; ``code`` is AWS's error code when it answered with one."""

    def __init__(self, message: str = "", code: str = ""):
        super().__init__(message)
        self.code = code


class AWSUnavailable(AWSError):
    """The endpoint could not be reached or did not answer in time."""


class NotFound(AWSError):
    """What the call named does not exist (a key, a version, a queue, a bucket, a table)."""


class ConditionFailed(AWSError):
    """A conditional write whose condition did not hold (DynamoDB's ConditionalCheckFailedException)."""


CONDITION_FAILED_CODES = frozenset({"ConditionalCheckFailedException"})


NOT_FOUND_CODES = frozenset(
    {
        "404",
        "NoSuchKey",
        "NoSuchBucket",
        "NoSuchVersion",
        "NotFound",
        "ResourceNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "ResourceNotFound",
        "NoSuchEntity",  # IAM
        "405",  # S3: an object version that is a delete marker, asked for by version id
        "MethodNotAllowed",
    }
)


# AWS's "slow down" answers. botocore already retried them (back-off with jitter, up to AWS_MAX_ATTEMPTS);
# one that is still throttled is as transient as an endpoint that does not answer.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "TransactionInProgressException",
        "SlowDown",
    }
)


def _translate(exc: Exception, what: str) -> AWSError:
    """Turn a botocore exception into this layer's exception, with one readable line: AWSUnavailable (the
    endpoint, or throttling botocore's retries did not outlast), NotFound, ConditionFailed, else AWSError."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "")
        kind = (AWSUnavailable if code in THROTTLING_CODES else NotFound if code in NOT_FOUND_CODES
                else ConditionFailed if code in CONDITION_FAILED_CODES else AWSError)
        return kind(f"{what}: {code or 'error'}: {err.get('Message', '')}".rstrip(": "), code)
    if isinstance(exc, BotoCoreError):
        return AWSUnavailable(f"{what}: {exc}")
    return AWSError(f"{what}: {exc}")


def found(what: str, call: Callable[..., T], /, **kwargs) -> T | None:
    """``call(**kwargs)``, translated; None when what it names does not exist (NotFound)."""
    try:
        with translated(what):
            return call(**kwargs)
    except NotFound:
        return None


@contextmanager
def translated(what: str):
    """The one way this layer turns botocore's exceptions into its own: ``with translated("read queue x"):``.
    Callers catch ``NotFound`` or ``ConditionFailed`` where those are answers rather than failures."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise _translate(exc, what) from exc
