from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.api import error_responses
from stocktool.aws import AWSError

from .selectors import metrics_summary


class MetricsSummaryApi(APIView):
    """Performance summary of the last ``hours`` from CloudWatch (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="MetricsSummaryQuery")
    class InputSerializer(serializers.Serializer):
        hours = serializers.IntegerField(min_value=1, max_value=24 * 14, default=1)  # 1-minute data: 15 days

    @extend_schema_serializer(component_name="MetricsSummary")
    class OutputSerializer(serializers.Serializer):
        hours = serializers.FloatField()
        namespace = serializers.CharField()
        start = serializers.DateTimeField()
        end = serializers.DateTimeField()
        requests = serializers.IntegerField()
        errors = serializers.IntegerField()
        error_rate = serializers.FloatField(allow_null=True, help_text="percent of requests that were 5xx")
        avg_api_latency_ms = serializers.FloatField(allow_null=True)
        p50_api_latency_ms = serializers.FloatField(allow_null=True)
        p90_api_latency_ms = serializers.FloatField(allow_null=True)
        percentiles_available = serializers.BooleanField()
        percentiles_note = serializers.CharField(allow_null=True)
        tool_executions = serializers.IntegerField()
        avg_tool_time_ms = serializers.FloatField(allow_null=True)
        cache_lookups = serializers.IntegerField()
        avg_cache_hit_rate = serializers.FloatField(allow_null=True, help_text="percent")
        model_tokens = serializers.IntegerField()
        avg_model_latency_ms = serializers.FloatField(allow_null=True)
        max_queue_depth = serializers.DictField(child=serializers.IntegerField(allow_null=True))
        buffer = serializers.DictField(help_text="this process's metrics buffer")

    @extend_schema(parameters=[InputSerializer], responses={200: OutputSerializer, **error_responses(400, 503)})
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            summary = metrics_summary(hours=params.validated_data["hours"])
        except AWSError as exc:
            return Response({"error": f"CloudWatch unavailable: {exc}"}, status=503)
        return Response(self.OutputSerializer(summary).data)
