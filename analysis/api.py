import re

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.api import JSONBodyParser, StrictCharField, error_responses

from . import selectors, services
from .market_data.validation import PERIODS
from .models import AnalysisJob

SYMBOL_PATTERN = r"^\$?[A-Za-z0-9][A-Za-z0-9.-]{0,9}$"  # what symbol_normalize takes, without spaces
ANALYSIS_PERIODS = [p for p in PERIODS if p not in ("1d", "5d")]


@extend_schema_field({"type": "string", "pattern": SYMBOL_PATTERN, "example": "AAPL"})
class SymbolField(StrictCharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not re.fullmatch(SYMBOL_PATTERN[1:-1], value):  # fullmatch: Python's "$" would let a "\n" through
            raise serializers.ValidationError(f"{value[:20]!r} is not a ticker: use 1-10 letters, digits, dots "
                                              "or dashes, e.g. AAPL or BRK.B")
        return value


class AnalysisOutputSerializer(serializers.ModelSerializer):
    status_url = serializers.SerializerMethodField()
    duration_ms = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = AnalysisJob
        fields = ["id", "status", "analysis_type", "symbols", "weights", "period", "attempts", "created_at",
                  "started_at", "finished_at", "duration_ms", "result", "error", "status_url"]

    def get_status_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(reverse("analysis-detail-api", args=[job.id]))


class AnalysisCollectionApi(APIView):
    """POST starts an analysis and answers 202 at once; GET lists yours, newest first."""

    parser_classes = [JSONBodyParser]  # the one encoding the schema documents (a form can't tell [1] from 1)

    @extend_schema_serializer(component_name="AnalysisRequest")
    class InputSerializer(serializers.Serializer):
        symbols = serializers.ListField(
            child=SymbolField(trim_whitespace=False), min_length=1, max_length=services.MAX_SYMBOLS,
            help_text="each symbol once, each listed by the market-data provider (two or more for a correlation)",
            error_messages={"min_length": "give at least one symbol",
                            "max_length": f"give at most {services.MAX_SYMBOLS} symbols"})
        weights = serializers.ListField(child=serializers.FloatField(min_value=0), required=False,
                                        allow_null=True, max_length=services.MAX_SYMBOLS,
                                        help_text="one per symbol, relative, not all zero; equal if left out",
                                        error_messages={"max_length": f"give at most {services.MAX_SYMBOLS} "
                                                                      "weights, one per symbol"})
        analysis_type = serializers.ChoiceField(choices=AnalysisJob.Type.values, default="risk_assessment")
        period = serializers.ChoiceField(choices=ANALYSIS_PERIODS, default="1y")

    @extend_schema(request=InputSerializer,
                   responses={202: AnalysisOutputSerializer, **error_responses(400, 413, 415, 503)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = services.analysis_request(user=request.user, **data.validated_data)
        except services.AnalysisRequestError as exc:
            body = {"error": str(exc)} | ({"fields": {exc.field: [str(exc)]}} if exc.field else {})
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        except services.AnalysisUnavailable as exc:
            return Response({"error": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": "5"})
        body = AnalysisOutputSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})

    @extend_schema(responses={200: AnalysisOutputSerializer(many=True), **error_responses()})
    def get(self, request):
        jobs = selectors.analysis_list_for_user(user=request.user)
        return Response(AnalysisOutputSerializer(jobs, many=True, context={"request": request}).data)


class AnalysisDetailApi(APIView):
    @extend_schema(responses={200: AnalysisOutputSerializer, **error_responses(404)})
    def get(self, request, job_id):
        job = selectors.analysis_get_for_user(user=request.user, job_id=job_id)
        if job is None:
            return Response({"error": "no such analysis"}, status=status.HTTP_404_NOT_FOUND)
        return Response(AnalysisOutputSerializer(job, context={"request": request}).data)
