from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"

    def ready(self) -> None:
        from . import notifications  # noqa: F401 (connects the signal receivers)
