from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from monitoring.views import health_view

urlpatterns = [
    path("", include("conversations.urls")),  # the chat is the home page; chat API, log in and out
    path("health", health_view, name="health"),
    path("", include("monitoring.urls")),  # monitoring/ page, api/metrics/summary
    path("", include("knowledge.urls")),  # before admin/: it owns admin/rag/sync-to-s3
    path("", include("analysis.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

# JSON under /api/, Django's pages elsewhere (stocktool.api).
handler400 = "stocktool.api.bad_request_view"
handler404 = "stocktool.api.not_found_view"
handler500 = "stocktool.api.server_error_view"
