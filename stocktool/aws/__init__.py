"""The AWS layer: the only package that touches boto3. Apps call these factories."""

from collections.abc import Callable

from django.conf import settings

from . import breaker
from .cloudwatch import CloudWatchService
from .dynamodb import StockCache
from .errors import AWSError, AWSUnavailable
from .s3 import S3Service
from .session import endpoint_url
from .sns import SNSService
from .sqs import SQSService


def available(service: str) -> bool:
    """False while the circuit breaker holds ``service``'s endpoint open (calls would fail at once anyway).

    For callers with a costlier way in than a boto3 call, such as a Celery publish through kombu's producer pool.
    """
    return breaker.circuit_for(endpoint_url(service), service).state != "open"


def get_s3_service():
    return S3Service(settings.S3_BUCKET_NAME)


_DYNAMODB_SERVICES: dict[str, Callable[[], object]] = {}


def register_dynamodb_service(kind: str, factory: Callable[[], object]) -> None:
    """An app offers its DynamoDB service under ``kind`` (the conversations app its store, when it is ready), so
    that this layer serves it without importing the app."""
    _DYNAMODB_SERVICES[kind] = factory


def get_dynamodb_service(kind: str = "conversation"):
    if kind == "cache":
        return StockCache(settings.DYNAMODB_TABLE_CACHE)
    factory = _DYNAMODB_SERVICES.get("conversation" if kind == "conversations" else kind)
    if factory is None:
        raise ValueError(f"unknown DynamoDB service {kind!r} (use {', '.join(sorted({*_DYNAMODB_SERVICES, 'cache'}))})")
    return factory()


def get_sqs_service():
    return SQSService(settings.SQS_QUEUE_ANALYSIS, settings.SQS_QUEUE_ANALYSIS_DLQ)


def get_sns_service():
    return SNSService(settings.SNS_TOPIC_NOTIFICATIONS)


def get_cloudwatch_service():
    return CloudWatchService(settings.CLOUDWATCH_NAMESPACE)


__all__ = [
    "AWSError",
    "AWSUnavailable",
    "available",
    "get_cloudwatch_service",
    "get_dynamodb_service",
    "get_s3_service",
    "get_sns_service",
    "get_sqs_service",
    "register_dynamodb_service",
]
