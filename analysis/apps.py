from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"

    def ready(self) -> None:
        from stocktool.events import handler_register  # (it reaches models: not before ready)

        from .handlers import analysis_finished_handle  # (its imports reach models: not before ready)

        handler_register(analysis_finished_handle)
