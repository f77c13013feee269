from django.urls import path

from . import api, views, webhooks

urlpatterns = [
    path("api/analysis", api.AnalysisCollectionApi.as_view(), name="analysis-api"),
    path("api/analysis/<uuid:job_id>", api.AnalysisDetailApi.as_view(), name="analysis-detail-api"),
    path("analysis/", views.analysis_list_view, name="analysis-list"),
    path("analysis/<uuid:job_id>/", views.analysis_detail_view, name="analysis-detail"),
    path("analysis/<uuid:job_id>/download.<str:fmt>", views.analysis_download_view, name="analysis-download"),
    path("sns/webhook", webhooks.sns_webhook_view, name="sns-webhook"),
]
