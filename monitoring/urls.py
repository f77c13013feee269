from django.urls import path

from .api import MetricsSummaryApi
from .views import monitoring_view

urlpatterns = [
    path("monitoring/", monitoring_view, name="monitoring"),
    path("api/metrics/summary", MetricsSummaryApi.as_view(), name="metrics-summary"),
]
