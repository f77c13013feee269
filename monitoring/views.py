import asyncio

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from stocktool.aws import AWSError
from stocktool.charts import Chart, Format, time_chart

from . import health, selectors


@never_cache
@require_GET
async def health_view(request):
    """200 when every enabled dependency answers; 503 naming the ones that don't."""
    aws_results, db_result = await asyncio.gather(
        asyncio.to_thread(health.aws_status), sync_to_async(health.database_status)()
    )
    body, status = health.report({"database": db_result, **aws_results})
    return JsonResponse(body, status=status)


def _staff(user) -> bool:
    if not user.is_staff:
        raise PermissionDenied  # signed in but not staff: 403, not another trip to the login page
    return True


@never_cache
@require_GET
@login_required
@user_passes_test(_staff)
def monitoring_view(request):
    """Summary numbers and charts of the last hour and day, read back from CloudWatch."""
    try:
        overview = selectors.metrics_overview()
    except AWSError as exc:
        return render(request, "monitoring/monitoring.html", {"error": str(exc)}, status=503)
    for window in overview["windows"].values():
        window["charts"] = _charts(window["series"])
    return render(request, "monitoring/monitoring.html", overview)


def _charts(series: dict) -> list[Chart]:
    depth = series["queue_depth"]
    ms, count = Format("number", 0, unit="ms"), Format("number", 0)
    specs = [
        ("API latency", ms, [("average", series["latency_avg"]), ("median", series["latency_p50"] or []),
                             ("p90", series["latency_p90"] or [])]),
        ("Requests and 5xx", count, [("requests", series["requests"]), ("5xx", series["errors"])]),
        ("Cache hit rate", Format("points", 0), [("hit rate", series["cache_hit_rate"])]),
        ("Tool execution time", Format("number", 1, unit="ms"), [("average", series["tool_time_avg"])]),
        ("Model tokens", count, [("tokens", series["model_tokens"])]),
        ("Queue depth", count, [("analysis", depth["analysis"]), ("dead letters", depth["dlq"])]),
    ]
    return [time_chart(title, lines, fmt=fmt, start=series["start"], end=series["end"], from_zero=True,
                       intraday=True) for title, fmt, lines in specs]
