"""URLs the middleware tests request: named, unnamed, and one that fails."""

from django.http import HttpResponse
from django.urls import include, path


def ok(request, pk=None):
    return HttpResponse("ok")


async def ok_async(request, pk=None):
    return HttpResponse("ok")


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("items/<int:pk>/", ok, name="item-detail"),
    path("async/items/<int:pk>/", ok_async, name="async-item-detail"),
    path("unnamed/<int:pk>/", ok),
    path("boom/", boom, name="boom"),
]


def whoami(request):
    """Answer with the request id the view sees (logs and tasks see the same)."""
    import logging

    from monitoring.logs import request_id

    logging.getLogger("monitoring.tests").info("in the view")
    return HttpResponse(request_id.get())


urlpatterns.append(path("whoami/", whoami, name="whoami"))

# The site's own pages last: its 404 page links to them, and it is what an unmatched path renders.
urlpatterns.append(path("", include("stocktool.urls")))
