from django.apps import AppConfig


class StockToolConfig(AppConfig):
    name = "stocktool"
    verbose_name = "StockTool"
