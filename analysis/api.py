import re

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from stocktool.api import CSRF_FAILED, JSONBodyParser, StrictCharField, error_example, error_responses

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


RESULT_HELP = (
    "The outcome once status is succeeded, else null. Every type gives symbols, weights (normalised to sum "
    "to 1), start and end (the first and last dates of the daily prices all symbols share), days, period, "
    "source (the market-data provider) and demo (true for generated demo prices). risk_assessment and "
    "performance add annualised_return, annualised_volatility, sharpe_ratio, total_return, per_symbol (each "
    "symbol's return and volatility) and wealth ([date, value] pairs of 1.0 invested, up to 120 points); "
    "performance adds best_day and worst_day; risk_assessment adds sortino_ratio, max_drawdown, beta and "
    "benchmark (against SPY), var_95 and expected_shortfall_95 (historical, daily), correlation (a matrix in "
    "symbol order), concentration (hhi, effective_holdings, max_weight), risk_contribution (one per symbol, "
    "summing to 1) and risk_free_rate; correlation gives correlation, average_correlation and "
    "diversification_ratio instead. Returns, volatility, drawdown, value at risk and rates are fractions "
    "(0.12 is 12%), annualised over 252 trading days.")


class AnalysisOutputSerializer(serializers.ModelSerializer):
    status_url = serializers.SerializerMethodField(
        help_text="Absolute URL of this analysis: GET it until status is succeeded or failed (also the 202's "
                  "Location header).")
    duration_ms = serializers.FloatField(read_only=True, allow_null=True,
                                         help_text="finished_at minus started_at, in milliseconds; null "
                                                   "until the analysis has finished.")

    class Meta:
        model = AnalysisJob
        fields = ["id", "status", "analysis_type", "symbols", "weights", "period", "attempts", "created_at",
                  "started_at", "finished_at", "duration_ms", "result", "error", "status_url"]
        extra_kwargs = {
            "id": {"help_text": "The analysis's id (a UUID)."},
            "status": {"help_text": "queued (waiting for a worker), running, succeeded (see result) or "
                                    "failed (see error)."},
            "analysis_type": {"help_text": "What was asked: risk_assessment, performance or correlation."},
            "symbols": {"help_text": "The ticker symbols analysed, upper-cased, in the order given."},
            "weights": {"help_text": "The weights as given, one per symbol; null for equal weights."},
            "period": {"help_text": "How much daily price history is used, up to the latest trading day "
                                    "(e.g. 1y: one year)."},
            "attempts": {"help_text": "How many times a worker has started it (more than 1 after a retry)."},
            "created_at": {"help_text": "When it was requested (UTC, ISO 8601)."},
            "started_at": {"help_text": "When a worker last started it (UTC, ISO 8601); null while queued."},
            "finished_at": {"help_text": "When it succeeded or failed (UTC, ISO 8601); null until then."},
            "result": {"help_text": RESULT_HELP},
            "error": {"help_text": "Why it failed, one readable line; empty unless status is failed."},
        }

    def get_status_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(reverse("analysis-detail-api", args=[job.id]))


_JOB_ID = "3f2b8c1e-5d4a-4e7b-9c0f-2a6d8e1b7c45"
_QUEUED = {
    "id": _JOB_ID, "status": "queued", "analysis_type": "risk_assessment", "symbols": ["AAPL", "MSFT"],
    "weights": [0.6, 0.4], "period": "1y", "attempts": 0, "created_at": "2026-03-02T14:05:09.236682Z",
    "started_at": None, "finished_at": None, "duration_ms": None, "result": None, "error": "",
    "status_url": f"https://stocktool.example.com/api/analysis/{_JOB_ID}",
}
_SUCCEEDED = _QUEUED | {
    "status": "succeeded", "attempts": 1, "started_at": "2026-03-02T14:05:09.402555Z",
    "finished_at": "2026-03-02T14:05:09.502968Z", "duration_ms": 100.413,
    "result": {
        "symbols": ["AAPL", "MSFT"], "weights": [0.6, 0.4], "start": "2025-03-04", "end": "2026-02-27",
        "days": 250, "annualised_return": 0.1412, "annualised_volatility": 0.2199, "sharpe_ratio": 0.7215,
        "total_return": 0.1401,
        "per_symbol": {"AAPL": {"annualised_return": 0.1591, "annualised_volatility": 0.2674},
                       "MSFT": {"annualised_return": 0.1148, "annualised_volatility": 0.2354}},
        "wealth": [["2025-03-04", 1.0093], ["2025-03-06", 1.0121], ["2026-02-27", 1.1401]],
        "sortino_ratio": 0.9940, "max_drawdown": -0.1379, "beta": 1.0392, "benchmark": "SPY",
        "var_95": 0.0215, "expected_shortfall_95": 0.0258, "correlation": [[1.0, 0.4547], [0.4547, 1.0]],
        "concentration": {"hhi": 0.52, "effective_holdings": 1.9231, "max_weight": 0.6},
        "risk_contribution": [0.6745, 0.3255], "risk_free_rate": 0.0, "period": "1y",
        "source": "alphavantage", "demo": False,
    },
}
_FAILED = _QUEUED | {
    "id": "9a1c7d2e-0b3f-4c5a-8e6d-1f2a3b4c5d6e", "status": "failed", "analysis_type": "correlation",
    "symbols": ["AAPL", "MSFT"], "weights": None, "period": "1mo", "attempts": 4,
    "started_at": "2026-03-02T14:06:24.118200Z", "finished_at": "2026-03-02T14:06:24.530904Z",
    "duration_ms": 412.704, "error": "gave up after 4 attempts: Alpha Vantage TIME_SERIES_DAILY: HTTP 429 "
                                     "Too Many Requests",
    "status_url": "https://stocktool.example.com/api/analysis/9a1c7d2e-0b3f-4c5a-8e6d-1f2a3b4c5d6e",
}
_UNLISTED = "ZZZZ is not a listed symbol; MSFTT is not a listed symbol (did you mean MSFT or WMT?)"
_NOT_A_TICKER = "'BRK B' is not a ticker: use 1-10 letters, digits, dots or dashes, e.g. AAPL or BRK.B"


class AnalysisCollectionApi(APIView):
    """POST starts an analysis and answers 202 at once; GET lists yours, newest first."""

    parser_classes = [JSONBodyParser]  # the one encoding the schema documents (a form can't tell [1] from 1)

    @extend_schema_serializer(component_name="AnalysisRequest")
    class InputSerializer(serializers.Serializer):
        symbols = serializers.ListField(
            child=SymbolField(trim_whitespace=False), min_length=1, max_length=services.MAX_SYMBOLS,
            help_text=f"1 to {services.MAX_SYMBOLS} ticker symbols such as AAPL or BRK.B (case and a leading "
                      "$ are ignored), each once, each listed by the market-data provider; two or more for a "
                      "correlation.",
            error_messages={"min_length": "give at least one symbol",
                            "max_length": f"give at most {services.MAX_SYMBOLS} symbols"})
        weights = serializers.ListField(child=serializers.FloatField(min_value=0), required=False,
                                        allow_null=True, max_length=services.MAX_SYMBOLS,
                                        help_text="One weight per symbol, in the same order: relative (they "
                                                  "are scaled to sum to 1), not negative, not all zero. "
                                                  "Equal weights if left out or null.",
                                        error_messages={"max_length": f"give at most {services.MAX_SYMBOLS} "
                                                                      "weights, one per symbol"})
        analysis_type = serializers.ChoiceField(
            choices=AnalysisJob.Type.values, default="risk_assessment",
            help_text="risk_assessment (the default): return, volatility, Sharpe and Sortino ratios, "
                      "drawdown, beta against SPY, value at risk, correlations, concentration and risk "
                      "contributions; performance: return, volatility, Sharpe ratio, best and worst day; "
                      "correlation: the correlation matrix of daily returns.")
        period = serializers.ChoiceField(
            choices=ANALYSIS_PERIODS, default="1y",
            help_text="How much daily price history to analyse, up to the latest trading day: 1mo to 10y, "
                      "ytd (this year so far) or max; 1y by default.")

    @extend_schema(
        summary="Start an analysis",
        description=(
            f"Queues a portfolio analysis of 1 to {services.MAX_SYMBOLS} ticker symbols and answers "
            "**202 Accepted** at once, before it has run. Poll the `status_url` in the body (also the "
            "`Location` header) with GET until `status` is `succeeded` (the figures are in `result`) or "
            "`failed` (the reason is in `error`).\n\n"
            "Any logged-in user may call it (token, session or basic authentication; a session request needs "
            "its CSRF token); the analysis belongs to the caller. The body must be JSON.\n\n"
            "Each symbol is checked with the market-data provider first: one it does not list is a **400** "
            "naming it in `error` and in `fields.symbols`, with the closest listed symbols where there are "
            "some (\"MSFTT is not a listed symbol (did you mean MSFT or WMT?)\"), and nothing is queued. If "
            "the provider cannot be asked in time, the check is left to the worker and the analysis fails "
            "instead. Other 400s: a symbol given twice, weights that do not match the symbols, a one-symbol "
            "correlation. If the analysis queue is not answering, the answer is **503** with `Retry-After` "
            "and nothing is kept."),
        request=InputSerializer,
        responses={202: AnalysisOutputSerializer, **error_responses(400, 413, 415, 503, examples={
            400: [error_example(400, _UNLISTED, {"symbols": [_UNLISTED]}, name="Unknown symbol",
                                description='For {"symbols": ["AAPL", "ZZZZ", "MSFTT"]}: each symbol the '
                                            "provider does not list, with the closest listed ones."),
                  error_example(400, "weights: 1 weights given for 2 symbols",
                                {"weights": ["weights: 1 weights given for 2 symbols"]},
                                name="Weights do not match",
                                description='For {"symbols": ["AAPL", "MSFT"], "weights": [1]}.'),
                  error_example(400, f"symbols: {_NOT_A_TICKER}", {"symbols": {"1": [_NOT_A_TICKER]}},
                                name="Not a ticker", description='For {"symbols": ["AAPL", "BRK B"]}: a list '
                                                                 "item's messages are keyed by its index.")],
            403: CSRF_FAILED,
            503: error_example(503, services.QUEUE_DOWN, name="Queue down"),
        })},
        examples=[
            OpenApiExample("Weighted risk assessment", request_only=True,
                           value={"symbols": ["AAPL", "MSFT"], "weights": [0.6, 0.4],
                                  "analysis_type": "risk_assessment", "period": "1y"}),
            OpenApiExample("Correlation, equal weights", request_only=True,
                           value={"symbols": ["AAPL", "MSFT", "NVDA"], "analysis_type": "correlation",
                                  "period": "6mo"}),
            OpenApiExample("Accepted", response_only=True, status_codes=["202"], value=_QUEUED,
                           description="Queued: poll status_url."),
        ])
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

    @extend_schema(
        summary="List your analyses",
        description=(
            "The caller's 50 most recent analyses, newest first, queued, running and finished alike, each as "
            "`GET /api/analysis/{job_id}` shows it. Any logged-in user may call it; only the caller's own "
            "analyses are listed (staff too). Not paginated."),
        responses={200: AnalysisOutputSerializer(many=True), **error_responses()},
        examples=[OpenApiExample("One finished analysis", response_only=True, value=_SUCCEEDED,
                                 description="A list with one analysis (wealth shortened to three points).")])
    def get(self, request):
        jobs = selectors.analysis_list_for_user(user=request.user)
        return Response(AnalysisOutputSerializer(jobs, many=True, context={"request": request}).data)


class AnalysisDetailApi(APIView):
    @extend_schema(
        summary="Get one analysis",
        description=(
            "One analysis with its status and, once it has succeeded, its `result`: this is the `status_url` "
            "that `POST /api/analysis` answers. Poll it every second or two until `status` is `succeeded` or "
            "`failed`. Callers see their own analyses and staff see anyone's; another user's analysis, or an "
            "id that does not exist, is a 404."),
        parameters=[OpenApiParameter("job_id", OpenApiTypes.UUID, OpenApiParameter.PATH,
                                     description="The analysis's id, as POST /api/analysis answered it.")],
        responses={200: AnalysisOutputSerializer,
                   **error_responses(404, examples={
                       404: error_example(404, "no such analysis", name="Not found")})},
        examples=[OpenApiExample("Succeeded", response_only=True, value=_SUCCEEDED,
                                 description="A risk assessment (wealth shortened to three points)."),
                  OpenApiExample("Still queued", response_only=True, value=_QUEUED),
                  OpenApiExample("Failed", response_only=True, value=_FAILED,
                                 description="The market-data provider kept refusing: retried, then "
                                             "given up.")])
    def get(self, request, job_id):
        job = selectors.analysis_get_for_user(user=request.user, job_id=job_id)
        if job is None:
            return Response({"error": "no such analysis"}, status=status.HTTP_404_NOT_FOUND)
        return Response(AnalysisOutputSerializer(job, context={"request": request}).data)
