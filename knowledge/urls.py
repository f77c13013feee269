from django.urls import path

from . import views
from .api import KnowledgeSearchApi, KnowledgeSyncApi

urlpatterns = [
    path("admin/rag/sync-to-s3", KnowledgeSyncApi.as_view(), name="knowledge-sync"),
    path("knowledge/<int:document_id>/", views.document_view, name="knowledge-document"),
    path("api/knowledge/search", KnowledgeSearchApi.as_view(), name="knowledge-search"),
]
