from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.api import CSRF_FAILED, error_example, error_responses
from stocktool.aws import AWSError

from .selectors import knowledge_search
from .sync import knowledge_sync


class KnowledgeSearchApi(APIView):
    """Passages of the knowledge base that best answer a question (BM25 over passages)."""

    @extend_schema_serializer(component_name="KnowledgeSearchQuery")
    class InputSerializer(serializers.Serializer):
        # "\S": a query of spaces only is refused like an empty one (the field trims it to "").
        q = serializers.RegexField(r"\S", max_length=500, trim_whitespace=True,
                                   help_text="The question or search words, at most 500 characters.")
        k = serializers.IntegerField(min_value=1, max_value=20, default=5,
                                     help_text="How many passages to answer at most, 1 to 20.")

    @extend_schema_serializer(component_name="KnowledgePassage")
    class OutputSerializer(serializers.Serializer):
        title = serializers.CharField(help_text="The document's title.")
        heading = serializers.CharField(allow_blank=True,
                                        help_text="The heading of the passage's section; may be empty.")
        snippet = serializers.CharField(allow_blank=True,
                                        help_text="Plain text of the passage around the query's words, about "
                                                  "320 characters at most (… where it is cut).")
        score = serializers.FloatField(
            help_text="BM25 relevance: higher is better; comparable only within one search.")
        key = serializers.CharField(help_text="The document's S3 key, e.g. knowledge/sharpe-ratio.md.")
        version_id = serializers.CharField(allow_blank=True,
                                           help_text="The S3 version of the document that was indexed; empty "
                                                     "without S3 versioning.")

    @extend_schema(
        summary="Search the knowledge base",
        description=(
            "The passages of the knowledge base (the financial terms and methods documents the assistant "
            "cites) that best answer `q`, best first: at most `k`, one per document, ranked by BM25 over "
            "passages. Each names its document (title, S3 key and version) and gives a snippet of the "
            "passage. No match is an empty `results` list, not an error. Any logged-in user may call it; a "
            "blank `q` or a `k` out of range is a **400**."),
        parameters=[InputSerializer],
        responses={200: inline_serializer("KnowledgeSearchResult", {
            "query": serializers.CharField(help_text="The query searched for (q, trimmed)."),
            "results": OutputSerializer(many=True, help_text="The best passages, best first.")}),
            **error_responses(400, examples={400: error_example(
                400, "q: This field may not be blank.", {"q": ["This field may not be blank."]},
                name="Blank query")})},
        examples=[OpenApiExample("Sharpe ratio", response_only=True, value={
            "query": "sharpe ratio",
            "results": [
                {"title": "Sharpe ratio", "heading": "Sharpe ratio",
                 "snippet": "The Sharpe ratio measures risk-adjusted return: how much return an investment "
                            "earned above a risk-free alternative for each unit of volatility it carried. It "
                            "was introduced by William F. Sharpe in 1966 and is the most widely quoted "
                            "performance ratio for funds and portfolios.",
                 "score": 7.3755, "key": "knowledge/sharpe-ratio.md",
                 "version_id": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"},
                {"title": "Sortino ratio", "heading": "Interpretation",
                 "snippet": "The Sortino ratio is read like the Sharpe ratio: higher is better, negative "
                            "means the target was not reached. Because downside deviation is normally "
                            "smaller than total volatility, Sortino values are usually higher than Sharpe "
                            "values for the same portfolio. A large gap between the …",
                 "score": 6.059, "key": "knowledge/sortino-ratio.md",
                 "version_id": "Q7mXo1VnB5sDq8kPpZyLwR3tUe2HcJ0a"},
            ]})])
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
        uploaded = serializers.IntegerField(help_text="Files uploaded (new or changed) and indexed; without "
                                                      "S3, files indexed from the folder.")
        unchanged = serializers.IntegerField(help_text="Files already in the bucket with the same content.")
        deleted = serializers.IntegerField(
            help_text="Objects deleted from the bucket: always 0 here (this sync never deletes).")
        failed = serializers.IntegerField(help_text="Files that could not be uploaded; errors says why.")
        errors = serializers.ListField(
            child=serializers.DictField(),
            help_text="One object per failed file: its path within the folder and the error.")

    @extend_schema(
        summary="Sync the starter knowledge base to S3",
        description=(
            "Staff only: other logged-in users get **403**. Uploads the files of the starter knowledge-base "
            "folder (KNOWLEDGE_DIR, `knowledge_base/` by default) that are new or changed to the S3 bucket "
            "under `knowledge/`, indexes them for search, and answers the counts. Files already there "
            "unchanged are skipped; nothing in the bucket is deleted. A file that cannot be uploaded (too "
            "large, not a readable document) is counted in `failed` and listed in `errors` while the rest "
            "still sync. Takes no request body; a session request needs its CSRF token. **503** if S3 is "
            "unavailable. With S3 turned off the folder is indexed straight from disk."),
        request=None,
        responses={200: OutputSerializer, **error_responses(503, examples={
            403: [error_example(403, "You do not have permission to perform this action.", name="Not staff"),
                  CSRF_FAILED],
            503: error_example(503, "list s3://stocktool-knowledge/knowledge/: s3@http://localstack:4566: "
                                    "the endpoint is not answering (circuit open for 4.2 s more)",
                               name="S3 unavailable")})},
        examples=[
            OpenApiExample("First sync", response_only=True,
                           value={"uploaded": 19, "unchanged": 0, "deleted": 0, "failed": 0, "errors": []}),
            OpenApiExample("One file refused", response_only=True, value={
                "uploaded": 0, "unchanged": 18, "deleted": 0, "failed": 1,
                "errors": [{"path": "notes/big-report.pdf",
                            "error": "“big-report.pdf” is 24.2 MB; the limit is 20 MB."}]}),
        ])
    def post(self, request):
        try:
            stats = knowledge_sync()
        except AWSError as exc:
            return Response({"error": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(self.OutputSerializer(stats).data)
