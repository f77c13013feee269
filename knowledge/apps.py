from django.apps import AppConfig
from django.conf import settings


class KnowledgeConfig(AppConfig):
    name = "knowledge"

    def ready(self) -> None:
        from stocktool.events import (  # (it reaches models: not before ready)
            handler_register,
            periodic_register,
        )

        from .handlers import (  # (its imports reach models: not before ready)
            index_reconcile_run,
            s3_event_handle,
        )

        handler_register(s3_event_handle)
        periodic_register("knowledge reconcile", lambda: settings.KNOWLEDGE_RECONCILE_SECONDS, index_reconcile_run)
