import re

import pytest
from django.contrib.auth import get_user_model

from monitoring.flusher import Flusher

from .test_cloudwatch import track_a_known_hour

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("reader", password="pw")


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("operator", password="pw", is_staff=True)


def test_the_page_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/monitoring/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_is_for_staff_only(client, user):
    client.force_login(user)
    assert client.get("/monitoring/").status_code == 403


def test_the_api_refuses_anonymous_and_non_staff_callers(client, user):
    assert client.get("/api/metrics/summary").status_code == 401  # not signed in; signed in but not staff: 403
    client.force_login(user)
    assert client.get("/api/metrics/summary").status_code == 403


@pytest.fixture
def known_hour(client, staff, settings, namespace, service, captured):
    """A known hour of metrics in this test's CloudWatch namespace, and a staff member logged in to read it."""
    settings.CLOUDWATCH_NAMESPACE = namespace
    track_a_known_hour(service)
    Flusher(captured, service.put_batch).flush()
    client.force_login(staff)
    return client


@pytest.mark.integration
def test_staff_see_numbers_and_charts_from_cloudwatch(known_hour):
    response = known_hour.get("/monitoring/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 12  # six charts for the hour, six for the day
    assert "<polyline" in html or "<circle" in html
    # The charts' scripts are this site's static files (uPlot served here, no CDN), their data JSON beside each SVG.
    assert re.findall(r'<script src="([^"]+)"', html) == ["/static/vendor/uplot/uPlot.iife.min.js",
                                                         "/static/stocktool/charts.js"]
    assert "cdn" not in html.lower() and html.count('<script type="application/json"') == 12
    summary = response.context["windows"]["hour"]["summary"]
    assert summary["requests"] == 4 and summary["avg_cache_hit_rate"] == 75.0
    assert "does not serve percentiles" in html


@pytest.mark.integration
def test_staff_get_the_summary_as_json(known_hour):
    body = known_hour.get("/api/metrics/summary?hours=1").json()
    assert body["requests"] == 4 and body["errors"] == 1
    assert body["avg_api_latency_ms"] == 175.0 and body["avg_tool_time_ms"] == 100.0
    assert body["avg_cache_hit_rate"] == 75.0 and body["model_tokens"] == 1500
    assert body["p90_api_latency_ms"] is None and body["percentiles_available"] is False
    assert body["max_queue_depth"] == {"analysis": 4, "dlq": 1}
    assert set(body["buffer"]) >= {"buffered", "dropped", "failing"}


def test_the_api_checks_its_window(client, staff):
    client.force_login(staff)
    assert client.get("/api/metrics/summary?hours=0").status_code == 400
    assert client.get("/api/metrics/summary?hours=9999").status_code == 400


@pytest.mark.integration
def test_with_cloudwatch_down_the_page_says_so(client, staff, aws, settings):
    from stocktool.aws.session import reset_clients

    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    settings.AWS_MAX_ATTEMPTS = 1
    reset_clients()
    client.force_login(staff)
    try:
        page = client.get("/monitoring/")
        api = client.get("/api/metrics/summary")
    finally:
        reset_clients()
    assert page.status_code == 503 and "could not be read" in page.content.decode()
    assert api.status_code == 503
