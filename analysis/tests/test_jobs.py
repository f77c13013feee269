import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model

from analysis import services
from analysis.models import AnalysisJob
from stocktool.aws.session import client
from stocktool.models import OutboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ana", password="pw-ana-123456")


@pytest.fixture
def other(db):
    return get_user_model().objects.create_user("bob", password="pw-bob-123456")


@pytest.fixture
def api(client, user):
    client.force_login(user)
    return client


def test_a_requested_analysis_runs_after_commit_and_succeeds(aws, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.analysis_request(user=user, symbols=["aapl", "MSFT"], weights=[60, 40], period="1y")
    assert len(callbacks) >= 1
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.SUCCEEDED, job.error
    assert job.symbols == ["AAPL", "MSFT"]
    result = job.result
    assert result["weights"] == [0.6, 0.4]
    assert result["benchmark"] == "SPY" and result["beta"] is not None
    assert 0 < result["annualised_volatility"] < 2
    assert result["var_95"] > 0 and result["expected_shortfall_95"] >= result["var_95"]
    assert result["demo"] is True and result["source"] == "demo"
    assert job.attempts == 1 and job.duration_ms is not None


def test_running_a_succeeded_job_again_does_nothing(aws, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.analysis_request(user=user, symbols=["NVDA"], analysis_type="performance")
    job.refresh_from_db()
    assert services.analysis_run(job_id=job.id) is None
    job.refresh_from_db()
    assert job.attempts == 1


def test_an_unknown_symbol_is_refused_with_the_closest_listed_ones_and_nothing_is_queued(
        aws, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, \
            pytest.raises(services.AnalysisRequestError) as refused:
        services.analysis_request(user=user, symbols=["MSFT", "appl", "ZZZZZZ"])
    assert str(refused.value) == "APPL is not a listed symbol (did you mean AAPL?); ZZZZZZ is not a listed symbol"
    assert refused.value.field == "symbols"
    assert not AnalysisJob.objects.exists() and not callbacks


def test_a_job_whose_symbol_is_unknown_to_the_worker_fails_with_its_error(aws, user):
    # e.g. a listing withdrawn between the request and the run
    job = AnalysisJob.objects.create(user=user, symbols=["AAPL", "ZZZZZZ"], analysis_type="performance")
    services.analysis_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.FAILED
    assert "ZZZZZZ" in job.error


def test_a_correlation_needs_two_symbols(aws, user):
    with pytest.raises(services.AnalysisRequestError, match="a correlation needs at least two symbols"):
        services.analysis_request(user=user, symbols=["AAPL"], analysis_type="correlation")


def test_finishing_publishes_analysis_ready_to_sns(aws, user, notifications_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.analysis_request(user=user, symbols=["AAPL", "GOOGL"], analysis_type="correlation")
    messages = client("sqs").receive_message(QueueUrl=notifications_queue, WaitTimeSeconds=2,
                                             MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == "Analysis Ready"
    attrs = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    event = OutboxEvent.objects.get(about=f"analysis:{job.id}")  # written with the result, sent after commit
    assert attrs == {"event_type": "analysis_finished", "user_id": str(user.id), "analysis_id": str(job.id),
                     "event_id": str(event.id)}
    assert json.loads(envelope["Message"])["status"] == "succeeded"
    assert json.loads(envelope["Message"])["event_id"] == str(event.id)
    assert event.sent_at is not None and event.attempts == 1


def test_the_api_answers_202_with_a_status_url(aws, api, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        resp = api.post("/api/analysis", {"symbols": ["AAPL", "MSFT"], "analysis_type": "risk_assessment"},
                        content_type="application/json")
    assert resp.status_code == 202
    body = resp.json()
    assert body["status"] == "queued"
    assert body["status_url"].endswith(f"/api/analysis/{body['id']}")
    assert resp["Location"] == body["status_url"]
    detail = api.get(f"/api/analysis/{body['id']}")
    assert detail.status_code == 200 and detail.json()["id"] == body["id"]
    assert [j["id"] for j in api.get("/api/analysis").json()] == [body["id"]]


@pytest.mark.parametrize("payload,needle", [
    ({"symbols": []}, "symbols"),
    ({"symbols": ["AAPL"], "analysis_type": "astrology"}, "analysis_type"),
    ({"symbols": ["AAPL", "MSFT"], "weights": [1]}, "weights"),
    ({"symbols": ["AAPL"], "period": "1d"}, "period"),
    ({"symbols": ["not a ticker!"]}, "ticker"),
    ({"symbols": ["AAPL", "AAPL"]}, "once"),
])
def test_bad_requests_get_400_with_a_json_error_and_create_nothing(api, payload, needle):
    resp = api.post("/api/analysis", payload, content_type="application/json")
    assert resp.status_code == 400
    assert needle in resp.json()["error"]
    assert AnalysisJob.objects.count() == 0


def test_an_unknown_symbol_is_a_400_naming_it_and_its_field_and_nothing_is_queued(aws, api,
                                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resp = api.post("/api/analysis", {"symbols": ["AAPL", "ZZZZ", "MSFTT"]}, content_type="application/json")
    assert resp.status_code == 400
    message = "ZZZZ is not a listed symbol; MSFTT is not a listed symbol (did you mean MSFT or WMT?)"
    assert resp.json() == {"error": message, "fields": {"symbols": [message]}}
    assert not callbacks and AnalysisJob.objects.count() == 0


def test_a_one_symbol_correlation_is_refused_at_its_field(aws, api):
    resp = api.post("/api/analysis", {"symbols": ["AAPL"], "analysis_type": "correlation"},
                    content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["fields"] == {"symbols": ["a correlation needs at least two symbols"]}


def test_the_page_shows_an_unknown_symbol_next_to_its_field(aws, api):
    resp = api.post("/analysis/", {"symbols": "AAPL appl", "weights": "", "analysis_type": "performance",
                                   "period": "1y"})
    assert resp.status_code == 400
    form = resp.context["form"]
    assert form.errors == {"symbols": ["APPL is not a listed symbol"]}  # AAPL, its closest, is already there
    assert AnalysisJob.objects.count() == 0


def test_the_api_needs_a_login_and_hides_other_users_jobs(client, user, other):
    job = AnalysisJob.objects.create(user=other, symbols=["AAPL"])
    resp = client.post("/api/analysis", {"symbols": ["AAPL"]}, content_type="application/json")
    assert resp.status_code == 401 and resp["WWW-Authenticate"] == "Token"
    client.force_login(user)
    resp = client.get(f"/api/analysis/{job.id}")
    assert resp.status_code == 404 and resp.json() == {"error": "no such analysis"}


def test_the_page_shows_a_form_error_without_creating_a_job(api):
    resp = api.post("/analysis/", {"symbols": "AAPL MSFT", "weights": "50 abc", "analysis_type": "performance",
                                   "period": "1y"})
    assert resp.status_code == 400
    assert b"weights must be numbers" in resp.content
    assert AnalysisJob.objects.count() == 0


def test_the_page_queues_a_job_and_shows_its_result(aws, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post("/analysis/", {"symbols": "AAPL, MSFT", "weights": "", "analysis_type": "risk_assessment",
                                       "period": "6mo"})
    assert resp.status_code == 302
    page = api.get(resp["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "succeeded" in html and "<svg" in html and "Sharpe ratio" in html and "demo data" in html


def test_staff_see_failed_jobs_and_the_dead_letter_count_in_the_admin(aws, client):
    from stocktool.aws import get_sqs_service

    staff = get_user_model().objects.create_superuser("boss", password="pw-boss-123456")
    AnalysisJob.objects.create(user=staff, symbols=["AAPL"], status="failed", error="provider down")
    from stocktool.aws.session import client as aws_client

    aws_client("sqs").send_message(QueueUrl=get_sqs_service().dlq_url, MessageBody="{}")
    client.force_login(staff)
    resp = client.get("/admin/analysis/analysisjob/?status__exact=failed")
    html = resp.content.decode()
    assert resp.status_code == 200 and "AAPL" in html
    assert "in the dead-letter queue" in html


def test_a_symbol_found_listed_is_not_checked_again_for_an_hour(aws, user, monkeypatch):
    from analysis import market_data

    services._LISTED.clear()
    checked = []
    real = market_data.symbol_check
    monkeypatch.setattr(market_data, "symbol_check", lambda s: checked.append(s) or real(s))
    services.analysis_validate(symbols=["AAPL", "MSFT"])
    services.analysis_validate(symbols=["MSFT", "NVDA"])
    assert sorted(checked) == ["AAPL", "MSFT", "NVDA"]
    with pytest.raises(services.AnalysisRequestError):
        services.analysis_validate(symbols=["ZZZZ"])
    with pytest.raises(services.AnalysisRequestError):  # an unlisted one is asked about every time
        services.analysis_validate(symbols=["ZZZZ"])
    assert checked.count("ZZZZ") == 2


def _finished_risk_assessment(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resp = api.post("/analysis/", {"symbols": "AAPL MSFT", "weights": "75 25", "analysis_type": "risk_assessment",
                                       "period": "1y"})
    return resp["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_the_page_explains_the_analysis_holdings_metrics_benchmark_and_downloads(
        aws, api, settings, django_capture_on_commit_callbacks):
    from knowledge.services import document_index_bytes

    document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}sharpe-ratio.md",
                         data=b"# Sharpe ratio\n\n## What it is\n\nExcess return per unit of volatility.")
    job_id = _finished_risk_assessment(api, django_capture_on_commit_callbacks)
    page = api.get(f"/analysis/{job_id}/")
    html = page.content.decode()
    holdings = page.context["holdings"]
    assert [(h["symbol"], h["weight"]) for h in holdings] == [("AAPL", 0.75), ("MSFT", 0.25)]
    assert abs(sum(h["risk_share"] for h in holdings) - 1) < 1e-9
    assert "<caption>Holdings</caption>" in html and "75.0%" in html and "Share of the risk" in html
    cards = {c["key"]: c for c in page.context["cards"]}
    assert cards["sharpe_ratio"]["url"].startswith("/knowledge/")  # the indexed document explains it
    assert cards["beta"]["label"] == "Beta vs SPY" and cards["max_drawdown"]["url"] is None  # not indexed here
    assert "Return above the risk-free rate for each unit of volatility" in html
    assert "Benchmark: SPY" in html and f"/analysis/{job_id}/download.csv" in html

    csv_resp = api.get(f"/analysis/{job_id}/download.csv")
    assert csv_resp["Content-Type"].startswith("text/csv") and "attachment" in csv_resp["Content-Disposition"]
    rows = csv_resp.content.decode().splitlines()
    assert rows[0] == "metric,value,meaning" and any(r.startswith("Sharpe ratio,") for r in rows)
    assert rows[rows.index("") + 1] == "symbol,weight,annualised_return,annualised_volatility,risk_share"
    assert rows[rows.index("") + 2].startswith("AAPL,0.75,")
    body = api.get(f"/analysis/{job_id}/download.json").json()
    assert body["id"] == job_id and body["result"]["weights"] == [0.75, 0.25]
    assert api.get(f"/analysis/{job_id}/download.xml").status_code == 404


def test_another_users_download_is_a_404(aws, api, client, other, django_capture_on_commit_callbacks):
    job_id = _finished_risk_assessment(api, django_capture_on_commit_callbacks)
    client.force_login(other)
    assert client.get(f"/analysis/{job_id}/download.json").status_code == 404
    assert client.get(f"/analysis/{job_id}/download.csv").status_code == 404


@pytest.mark.parametrize("header", ["Basic " + __import__("base64").b64encode(b"alice:wrong-password").decode(),
                                    "Token 0123456789abcdef0123456789abcdef01234567"])
def test_bad_credentials_on_the_api_are_a_401_that_says_how_to_authenticate(client, user, header):
    resp = client.get("/api/analysis", HTTP_AUTHORIZATION=header)
    assert resp.status_code == 401 and resp["WWW-Authenticate"] == "Token"
    assert resp.json()["error"]  # the project's JSON error body


def test_the_growth_and_drawdown_charts_have_axes_dates_a_legend_and_values_on_hover(
        aws, api, django_capture_on_commit_callbacks):
    job_id = _finished_risk_assessment(api, django_capture_on_commit_callbacks)
    page = api.get(f"/analysis/{job_id}/")
    result = AnalysisJob.objects.get(pk=job_id).result
    growth_chart, drawdown_chart = page.context["growth_chart"], page.context["drawdown_chart"]
    growth, drawdown = str(growth_chart.svg), str(drawdown_chart.svg)
    day = lambda iso: f"{date.fromisoformat(iso).day} {date.fromisoformat(iso):%b %Y}"  # noqa: E731
    first_date, last_date = result["wealth"][0][0], result["wealth"][-1][0]
    assert day(first_date) in growth and day(last_date) in growth  # the x axis
    assert growth.count("<polyline") == 2 and [i["label"] for i in growth_chart.legend] == ["Portfolio", "SPY"]
    when, value = result["wealth"][5]
    assert f"<title>Portfolio, {day(when)}: {value:.2f}</title>" in growth  # a point's value on hover
    assert 'class="axis"' in drawdown and "%</text>" in drawdown and "\u2212" in drawdown  # a percent axis below 0
    # The same figures for uPlot (charts.js): dates as UTC seconds, one list of values per series.
    assert growth_chart.data["x"][0] == int(datetime.fromisoformat(first_date).replace(tzinfo=UTC).timestamp())
    assert [s["label"] for s in growth_chart.data["series"]] == ["Portfolio", "SPY"]
    assert growth_chart.data["series"][0]["values"][5] == value
    html = page.content.decode()
    assert "against SPY" in html and "Drawdown: how far the portfolio stood below" in html
