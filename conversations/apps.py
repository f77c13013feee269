from django.apps import AppConfig
from django.conf import settings

from stocktool.aws import register_dynamodb_service

from .dynamodb_store import ConversationStore


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        # get_dynamodb_service("conversation") (the AWS layer's facade) serves this app's store.
        register_dynamodb_service("conversation", lambda: ConversationStore(settings.DYNAMODB_TABLE_CONVERSATIONS))
