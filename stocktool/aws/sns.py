"""SNS: the notifications topic."""

import json
from functools import lru_cache

from django.conf import settings

from .errors import AWSError, translated
from .session import client


@lru_cache(maxsize=16)
def _topic_arn(endpoint: str | None, name: str) -> str:
    for page in client("sns").get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    raise AWSError(f"topic {name} does not exist (run `python manage.py bootstrap_aws`)")


class SNSService:
    def __init__(self, topic_name: str):
        self.topic_name = topic_name

    @property
    def topic_arn(self) -> str:
        with translated(f"topic {self.topic_name}"):
            return _topic_arn(settings.AWS_ENDPOINT_URL, self.topic_name)

    def publish(self, event_type: str, payload: dict, subject: str | None = None,
                attributes: dict | None = None) -> str:
        """Publish ``payload`` as JSON; ``event_type`` and ``attributes`` ride as message attributes
        (subscriptions filter on them)."""
        attrs = {"event_type": event_type, **{k: v for k, v in (attributes or {}).items() if v is not None}}
        with translated(f"publish to {self.topic_name}"):
            resp = client("sns").publish(
                TopicArn=self.topic_arn,
                Message=json.dumps({"event_type": event_type, **payload}, default=str),
                Subject=(subject or event_type)[:100],
                MessageAttributes={k: {"DataType": "String", "StringValue": str(v)} for k, v in attrs.items()},
            )
        return resp["MessageId"]

    def ping(self, purpose: str = "probe") -> None:
        client("sns", purpose=purpose).get_topic_attributes(TopicArn=self.topic_arn)
