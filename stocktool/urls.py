from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from monitoring.views import health_view

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("health", health_view, name="health"),
    path("", include("monitoring.urls")),  # monitoring/ page, api/metrics/summary
    path("", include("knowledge.urls")),  # before admin/: it owns admin/rag/sync-to-s3
    path("", include("analysis.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
