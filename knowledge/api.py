from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.api import error_responses
from stocktool.aws import AWSError

from .selectors import knowledge_search
from .sync import knowledge_sync


class KnowledgeSearchApi(APIView):
    """Passages of the knowledge base that best answer a question (BM25 over passages)."""

    @extend_schema_serializer(component_name="KnowledgeSearchQuery")
    class InputSerializer(serializers.Serializer):
        # "\S": a query of spaces only is refused like an empty one (the field trims it to "").
        q = serializers.RegexField(r"\S", max_length=500, trim_whitespace=True, help_text="the question")
        k = serializers.IntegerField(min_value=1, max_value=20, default=5, help_text="passages to answer")

    @extend_schema_serializer(component_name="KnowledgePassage")
    class OutputSerializer(serializers.Serializer):
        title = serializers.CharField()
        heading = serializers.CharField(allow_blank=True)
        snippet = serializers.CharField(allow_blank=True)
        score = serializers.FloatField()
        key = serializers.CharField()
        version_id = serializers.CharField(allow_blank=True)

    @extend_schema(parameters=[InputSerializer],
                   responses={200: inline_serializer("KnowledgeSearchResult", {
                       "query": serializers.CharField(), "results": OutputSerializer(many=True)}),
                       **error_responses(400)})
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = knowledge_search(query=params.validated_data["q"], limit=params.validated_data["k"])
        return Response({"query": params.validated_data["q"],
                         "results": self.OutputSerializer(found, many=True).data})


class KnowledgeSyncApi(APIView):
    """Staff only: sync the starter knowledge base folder to S3 and index it; answer the counts."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema_serializer(component_name="KnowledgeSyncResult")
    class OutputSerializer(serializers.Serializer):
        uploaded = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        deleted = serializers.IntegerField()
        failed = serializers.IntegerField()
        errors = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=None, responses={200: OutputSerializer, **error_responses(503)})
    def post(self, request):
        try:
            stats = knowledge_sync()
        except AWSError as exc:
            return Response({"error": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(self.OutputSerializer(stats).data)
