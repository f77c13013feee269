from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError


class AWSError(Exception):
    """An AWS call failed for a reason other than "not found"."""


class AWSUnavailable(AWSError):
    """The endpoint could not be reached or did not answer in time."""


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


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def is_not_found(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) in NOT_FOUND_CODES


def translate(exc: Exception, what: str) -> AWSError:
    """Turn a botocore exception into this layer's exception, with one readable line."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        if err.get("Code") in THROTTLING_CODES:
            return AWSUnavailable(f"{what}: {err.get('Code')}: {err.get('Message', '')}".rstrip(": "))
        return AWSError(f"{what}: {err.get('Code', 'error')}: {err.get('Message', '')}".rstrip(": "))
    if isinstance(exc, BotoCoreError):
        return AWSUnavailable(f"{what}: {exc}")
    return AWSError(f"{what}: {exc}")


@contextmanager
def translated(what: str):
    """Raise botocore's exceptions inside the block as this layer's (``with translated("read queue x"):``)."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, what) from exc
