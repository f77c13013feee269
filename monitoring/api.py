from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.api import error_example, error_responses
from stocktool.aws import AWSError

from .selectors import metrics_summary


class MetricsSummaryApi(APIView):
    """Performance summary of the last ``hours`` from CloudWatch (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema_serializer(component_name="MetricsSummaryQuery")
    class InputSerializer(serializers.Serializer):
        hours = serializers.IntegerField(min_value=1, max_value=24 * 14, default=1,  # 1-minute data: 15 days
                                         help_text="How many hours back to summarise, 1 to 336 (14 days).")

    @extend_schema_serializer(component_name="MetricsSummary")
    class OutputSerializer(serializers.Serializer):
        hours = serializers.FloatField(help_text="The window summarised, in hours (as asked).")
        namespace = serializers.CharField(help_text="The CloudWatch namespace read.")
        start = serializers.DateTimeField(help_text="Start of the window (UTC, ISO 8601).")
        end = serializers.DateTimeField(help_text="End of the window: when it was read (UTC, ISO 8601).")
        requests = serializers.IntegerField(help_text="HTTP requests served in the window, API and pages.")
        errors = serializers.IntegerField(help_text="Requests that answered a 5xx status.")
        error_rate = serializers.FloatField(
            allow_null=True,
            help_text="Percent (0-100) of requests that answered a 5xx; null without requests.")
        avg_api_latency_ms = serializers.FloatField(allow_null=True,
                                                    help_text="Mean request latency in milliseconds; null "
                                                              "without requests.")
        p50_api_latency_ms = serializers.FloatField(allow_null=True,
                                                    help_text="Median request latency in milliseconds; null "
                                                              "when unknown (see percentiles_note).")
        p90_api_latency_ms = serializers.FloatField(allow_null=True,
                                                    help_text="90th percentile request latency in "
                                                              "milliseconds; null when unknown (see "
                                                              "percentiles_note).")
        percentiles_available = serializers.BooleanField(
            help_text="Whether CloudWatch served the percentiles.")
        percentiles_note = serializers.CharField(allow_null=True,
                                                 help_text="Why the percentiles are missing; null when they "
                                                           "are not.")
        tool_executions = serializers.IntegerField(help_text="Assistant tool calls in the window.")
        avg_tool_time_ms = serializers.FloatField(allow_null=True,
                                                  help_text="Mean time of a tool call in milliseconds; null "
                                                            "without calls.")
        cache_lookups = serializers.IntegerField(help_text="Stock-data cache lookups in the window.")
        avg_cache_hit_rate = serializers.FloatField(
            allow_null=True,
            help_text="Percent (0-100) of cache lookups that were hits; null without lookups.")
        model_tokens = serializers.IntegerField(help_text="Tokens the language model used in the window.")
        avg_model_latency_ms = serializers.FloatField(allow_null=True,
                                                      help_text="Mean time of a model answer in "
                                                                "milliseconds; null without answers.")
        max_queue_depth = serializers.DictField(child=serializers.IntegerField(allow_null=True),
                                                help_text="Most messages waiting in each queue (analysis, "
                                                          "dlq: the dead-letter queue) in the window; null "
                                                          "when not sampled.")
        buffer = serializers.DictField(help_text="This process's metrics buffer (not CloudWatch's figures): "
                                                 "buffered and capacity (data points), pending, dropped and "
                                                 "sent_datums (counts), failing (CloudWatch refusing them) "
                                                 "and running (the flusher).")

    @extend_schema(
        summary="Performance summary",
        description=(
            "Staff only: other logged-in users get **403**. Totals and averages of the app's metrics over "
            "the last `hours`, read back from CloudWatch: requests and 5xx errors, request latency (mean, "
            "median, 90th percentile), assistant tool calls, stock-data cache hit rate, model tokens and "
            "latency, and the analysis queues' depth, plus the state of this process's metrics buffer. "
            "Latencies are in milliseconds; error_rate and avg_cache_hit_rate are percentages (0-100); a "
            "figure with no data behind it is null. **503** if CloudWatch is unavailable."),
        parameters=[InputSerializer],
        responses={200: OutputSerializer, **error_responses(400, 503, examples={
            400: error_example(400, "hours: Ensure this value is less than or equal to 336.",
                               {"hours": ["Ensure this value is less than or equal to 336."]},
                               name="Too many hours"),
            403: error_example(403, "You do not have permission to perform this action.", name="Not staff"),
            503: error_example(503, "CloudWatch unavailable: read metrics of StockTool: "
                                    "cloudwatch@http://localstack:4566: the endpoint is not answering "
                                    "(circuit open for 4.2 s more)",
                               name="CloudWatch unavailable")})},
        examples=[OpenApiExample("The last hour", response_only=True, value={
            "hours": 1.0, "namespace": "StockTool", "start": "2026-03-02T13:05:00+00:00",
            "end": "2026-03-02T14:05:00+00:00", "requests": 412, "errors": 3, "error_rate": 0.73,
            "avg_api_latency_ms": 84.512, "p50_api_latency_ms": 41.0, "p90_api_latency_ms": 212.5,
            "percentiles_available": True, "percentiles_note": None, "tool_executions": 57,
            "avg_tool_time_ms": 38.204, "cache_lookups": 96, "avg_cache_hit_rate": 81.25,
            "model_tokens": 18344, "avg_model_latency_ms": 1432.871,
            "max_queue_depth": {"analysis": 4, "dlq": 0},
            "buffer": {"buffered": 25, "capacity": 50000, "pending": 0, "dropped": 0, "sent_datums": 1830,
                       "failing": False, "running": True}})])
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            summary = metrics_summary(hours=params.validated_data["hours"])
        except AWSError as exc:
            return Response({"error": f"CloudWatch unavailable: {exc}"}, status=503)
        return Response(self.OutputSerializer(summary).data)
