from django.urls import path

from .api import KnowledgeSearchApi, KnowledgeSyncApi

urlpatterns = [
    path("admin/rag/sync-to-s3", KnowledgeSyncApi.as_view(), name="knowledge-sync"),
    path("api/knowledge/search", KnowledgeSearchApi.as_view(), name="knowledge-search"),
]
