from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import AnalysisJob


class AnalysisOutputSerializer(serializers.ModelSerializer):
    status_url = serializers.SerializerMethodField()
    duration_ms = serializers.FloatField(read_only=True)

    class Meta:
        model = AnalysisJob
        fields = ["id", "status", "analysis_type", "symbols", "weights", "period", "attempts", "created_at",
                  "started_at", "finished_at", "duration_ms", "result", "error", "status_url"]

    def get_status_url(self, job) -> str:
        return self.context["request"].build_absolute_uri(reverse("analysis-detail-api", args=[job.id]))


class AnalysisCollectionApi(APIView):
    """POST starts an analysis and answers 202 at once; GET lists yours, newest first."""

    class InputSerializer(serializers.Serializer):
        symbols = serializers.ListField(child=serializers.CharField(max_length=16), min_length=1,
                                        max_length=services.MAX_SYMBOLS)
        weights = serializers.ListField(child=serializers.FloatField(), required=False, allow_null=True)
        analysis_type = serializers.ChoiceField(choices=AnalysisJob.Type.values, default="risk_assessment")
        period = serializers.CharField(max_length=8, default="1y")

    @extend_schema(request=InputSerializer, responses={202: AnalysisOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = services.analysis_request(user=request.user, **data.validated_data)
        except services.AnalysisRequestError as exc:
            return Response({"error": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = AnalysisOutputSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})

    @extend_schema(responses=AnalysisOutputSerializer(many=True))
    def get(self, request):
        jobs = selectors.analysis_list_for_user(user=request.user)
        return Response(AnalysisOutputSerializer(jobs, many=True, context={"request": request}).data)


class AnalysisDetailApi(APIView):
    @extend_schema(responses=AnalysisOutputSerializer)
    def get(self, request, job_id):
        job = selectors.analysis_get_for_user(user=request.user, job_id=job_id)
        if job is None:
            return Response({"error": "no such analysis"}, status=status.HTTP_404_NOT_FOUND)
        return Response(AnalysisOutputSerializer(job, context={"request": request}).data)
