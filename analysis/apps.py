from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"

    def ready(self) -> None:
        from . import events  # noqa: F401 (connects the signal receivers)
