from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from knowledge.selectors import document_urls_by_name

from . import charts, explain, selectors, services
from .forms import AnalysisForm


@login_required
@require_http_methods(["GET", "POST"])
def analysis_list_view(request):
    form = AnalysisForm(request.POST or None)
    unavailable = False
    if request.method == "POST" and form.is_valid():
        try:
            job = services.analysis_request(user=request.user, **form.cleaned_data)
        except (services.AnalysisRequestError, services.AnalysisUnavailable) as exc:
            field = getattr(exc, "field", None)
            form.add_error(field if field in form.fields else None, str(exc))  # next to the field it is about
            unavailable = isinstance(exc, services.AnalysisUnavailable)
        else:
            messages.success(request, "Analysis queued: the worker is on it.")
            return redirect("analysis-detail", job_id=job.id)
    jobs = selectors.analysis_list_for_user(user=request.user)
    return render(request, "analysis/list.html", {"form": form, "jobs": jobs},
                  status=503 if unavailable else 400 if form.errors else 200)


@login_required
def analysis_detail_view(request, job_id):
    job = selectors.analysis_get_for_user(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("no such analysis")
    context = {"job": job}
    result = job.result or {}
    if result:
        context["cards"] = explain.metric_cards(result, document_urls_by_name(names=explain.DOCUMENTS))
        context["holdings"] = explain.holdings(result)
    if result.get("wealth"):
        context["growth_chart"] = charts.growth_chart(result)
        context["drawdown_chart"] = charts.drawdown_chart(result)
        context["wealth_summary"] = charts.wealth_summary(result)
    if result.get("correlation"):
        context["correlation_rows"] = [
            (symbol, [(value, charts.heat_colour(value)) for value in row])
            for symbol, row in zip(result["symbols"], result["correlation"])
        ]
        context["heat_scale"] = charts.HEAT_SCALE
    template = "analysis/_result.html" if request.GET.get("fragment") else "analysis/detail.html"
    response = render(request, template, context)
    response["X-Analysis-Done"] = "true" if job.is_done else "false"  # the page's fallback poll stops on true
    return response


@login_required
def analysis_download_view(request, job_id, fmt):
    """The finished analysis as a file: JSON (the whole result) or CSV (the metrics, then the holdings)."""
    job = selectors.analysis_get_for_user(user=request.user, job_id=job_id)
    if job is None or not job.result or fmt not in ("csv", "json"):
        raise Http404("no such download")
    name = f"analysis-{job.analysis_type}-{'-'.join(job.symbols)[:80]}-{job.id.hex[:8]}.{fmt}"
    if fmt == "json":
        response = JsonResponse({"id": str(job.id), "analysis_type": job.analysis_type, "symbols": job.symbols,
                                 "period": job.period, "finished_at": job.finished_at, "result": job.result},
                                json_dumps_params={"indent": 2})
    else:
        response = HttpResponse(explain.result_csv(job.result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
