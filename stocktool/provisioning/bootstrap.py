"""Create, idempotently, every AWS resource StockTool needs. Running it twice changes nothing."""


from django.conf import settings

from stocktool.aws.errors import translated

from .knowledge_events import ensure_knowledge_events
from .monitoring import ensure_monitoring
from .resources import (
    Step,
    ensure_bucket,
    ensure_queues,
    ensure_table,
    ensure_topic,
    ensure_webhook_subscription,
    table_specs,
)


def bootstrap() -> list[Step]:
    """Create or converge every resource; raise AWSError with one readable line on failure."""
    steps: list[Step] = []
    with translated(f"bootstrap against {settings.AWS_ENDPOINT_URL or 'AWS'}"):
        if settings.S3_ENABLED:
            steps += ensure_bucket(settings.S3_BUCKET_NAME)
        if settings.DYNAMODB_ENABLED:
            for spec in table_specs():
                steps += ensure_table(spec)
        if settings.SQS_ENABLED:
            steps += ensure_queues(settings.SQS_QUEUE_ANALYSIS, settings.SQS_QUEUE_ANALYSIS_DLQ)
        if settings.SNS_ENABLED:
            steps.append(ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)[0])
        steps += ensure_knowledge_events()
        if settings.SNS_ENABLED and settings.SNS_WEBHOOK_ENABLED and settings.SNS_WEBHOOK_URL:
            steps.append(ensure_webhook_subscription(settings.SNS_WEBHOOK_URL))
        if settings.CLOUDWATCH_ENABLED:
            topic_arn = ensure_topic(settings.SNS_TOPIC_NOTIFICATIONS)[1] if settings.SNS_ENABLED else None
            steps += ensure_monitoring(topic_arn)
    return steps
