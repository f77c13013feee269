import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from django.http import HttpResponse
from django.test import AsyncClient, Client

from monitoring.buffer import aggregate
from monitoring.middleware import MetricsMiddleware, RequestIdMiddleware

pytestmark = [pytest.mark.django_db, pytest.mark.urls("monitoring.tests.urls")]


def recorded(buffer):
    return [(metric, dict(dims)) for _, metric, _, _, dims in buffer.drain()]


def test_the_route_is_the_url_pattern_name_never_the_path(captured):
    Client().get("/items/42/")
    Client().get("/items/43/")
    assert recorded(captured) == [("APILatency", {"Route": "item-detail", "Method": "GET", "StatusClass": "2xx"})] * 2


def test_an_unnamed_pattern_is_recorded_by_its_route(captured):
    Client().get("/unnamed/7/")
    assert recorded(captured)[0][1]["Route"] == "unnamed/<int:pk>/"


def test_unmatched_paths_share_one_route(captured):
    Client().get("/no/such/page/123")
    Client().get("/another/404")
    assert [dims for _, dims in recorded(captured)] == [
        {"Route": "unmatched", "Method": "GET", "StatusClass": "4xx"}
    ] * 2


def test_errors_are_5xx_and_counted(captured):
    response = Client(raise_request_exception=False).post("/boom/")
    assert response.status_code == 500
    points = captured.drain()
    assert dict(points[0][4]) == {"Route": "boom", "Method": "POST", "StatusClass": "5xx"}
    errors = [d for d in aggregate(points) if d["MetricName"] == "Errors"]
    assert errors[0]["Values"] == [1.0] and errors[0]["Counts"] == [1.0]


def test_unknown_methods_do_not_make_new_series(captured):
    Client().generic("BREW", "/items/1/")
    assert recorded(captured)[0][1]["Method"] == "OTHER"


def test_the_latency_is_measured_in_milliseconds(captured):
    Client().get("/items/1/")
    ((_, metric, value, unit, _),) = captured.drain()
    assert metric == "APILatency" and unit == "Milliseconds" and 0 < value < 1000


def test_async_requests_are_recorded_too(captured):
    response = async_to_sync(AsyncClient().get)("/async/items/5/")
    assert response.status_code == 200
    assert recorded(captured) == [("APILatency", {"Route": "async-item-detail", "Method": "GET", "StatusClass": "2xx"})]


def test_both_middlewares_run_natively_in_either_mode():
    def sync_view(request):
        return HttpResponse()

    async def async_view(request):
        return HttpResponse()

    for cls in (MetricsMiddleware, RequestIdMiddleware):
        assert cls.sync_capable and cls.async_capable
        assert iscoroutinefunction(cls(async_view)) and not iscoroutinefunction(cls(sync_view))


def test_it_survives_a_response_without_a_resolver_match(captured, rf):
    middleware = MetricsMiddleware(lambda request: HttpResponse(status=204))
    request = rf.get("/anything")
    request.resolver_match = None
    assert middleware(request).status_code == 204
    assert recorded(captured)[0][1]["Route"] == "unmatched"
