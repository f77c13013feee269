from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.aws import AWSError

from .selectors import knowledge_search
from .sync import knowledge_sync


class KnowledgeSearchApi(APIView):
    """Passages of the knowledge base that best answer a question (BM25 over passages)."""

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=500, trim_whitespace=True)
        k = serializers.IntegerField(min_value=1, max_value=20, default=5)

    class OutputSerializer(serializers.Serializer):
        title = serializers.CharField()
        heading = serializers.CharField()
        snippet = serializers.CharField()
        score = serializers.FloatField()
        key = serializers.CharField()
        version_id = serializers.CharField()

    @extend_schema(parameters=[InputSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = knowledge_search(query=params.validated_data["q"], limit=params.validated_data["k"])
        return Response({"query": params.validated_data["q"],
                         "results": self.OutputSerializer(found, many=True).data})


class KnowledgeSyncApi(APIView):
    """Staff only: sync the starter knowledge base folder to S3 and index it; answer the counts."""

    permission_classes = [permissions.IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        uploaded = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        deleted = serializers.IntegerField()
        failed = serializers.IntegerField()
        errors = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request):
        try:
            stats = knowledge_sync()
        except AWSError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(self.OutputSerializer(stats).data)
