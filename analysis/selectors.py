from .models import AnalysisJob


def analysis_list_for_user(*, user, limit: int = 50):
    return AnalysisJob.objects.filter(user=user).order_by("-created_at")[:limit]


def analysis_get_for_user(*, user, job_id) -> AnalysisJob | None:
    """Return the job if ``user`` owns it (staff see every job); None otherwise."""
    qs = AnalysisJob.objects.all() if user.is_staff else AnalysisJob.objects.filter(user=user)
    return qs.filter(pk=job_id).first()
