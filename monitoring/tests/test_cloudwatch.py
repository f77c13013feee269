"""The CloudWatch service: tracking calls and reading the summary and series back, on the emulator."""

import pytest

from monitoring import metrics
from monitoring.flusher import Flusher

pytestmark = pytest.mark.integration


def track_a_known_hour(service):
    for _ in range(3):
        service.track_api_latency("home", 100, 200, method="GET")
    service.track_api_latency("boom", 400, 500, method="POST")
    service.track_tool_execution("quote", 50, True)
    service.track_tool_execution("news", 150, False)
    for hit in (True, True, True, False):
        service.track_cache_hit_rate("quotes", hit)
    service.track_model_usage("large", 1000, 800)
    service.track_model_usage("small", 500, 200)
    metrics.record("QueueDepth", 4, "Count", Queue="analysis")
    metrics.record("QueueDepth", 1, "Count", Queue="dlq")


def test_the_summary_reads_back_what_was_tracked(service, captured):
    track_a_known_hour(service)
    Flusher(captured, service.put_batch).flush()
    summary = service.get_performance_summary(hours=1)
    assert summary["requests"] == 4 and summary["errors"] == 1 and summary["error_rate"] == 25.0
    assert summary["avg_api_latency_ms"] == 175.0
    assert summary["tool_executions"] == 2 and summary["avg_tool_time_ms"] == 100.0
    assert summary["cache_lookups"] == 4 and summary["avg_cache_hit_rate"] == 75.0
    assert summary["model_tokens"] == 1500 and summary["avg_model_latency_ms"] == 500.0
    assert summary["max_queue_depth"] == {"analysis": 4, "dlq": 1}


def test_a_summary_adds_up_many_flushes_of_the_same_series(service, captured):
    flusher = Flusher(captured, service.put_batch)
    for _ in range(3):
        service.track_tool_execution("quote", 40, True)
        service.track_cache_hit_rate("quotes", True)
        flusher.flush()
    summary = service.get_performance_summary(hours=1)
    assert summary["tool_executions"] == 3 and summary["avg_tool_time_ms"] == 40.0
    assert summary["cache_lookups"] == 3 and summary["avg_cache_hit_rate"] == 100.0


def test_without_percentiles_from_the_endpoint_p90_is_none_and_says_why(service, captured):
    service.track_api_latency("home", 100, 200)
    Flusher(captured, service.put_batch).flush()
    summary = service.get_performance_summary(hours=1)
    # moto answers GetMetricData percentiles with HTTP 500: nothing is made up.
    assert summary["p90_api_latency_ms"] is None and summary["p50_api_latency_ms"] is None
    assert summary["percentiles_available"] is False
    assert "percentiles" in summary["percentiles_note"]


def test_an_empty_namespace_gives_zeros_and_nones(service):
    summary = service.get_performance_summary(hours=1)
    assert summary["requests"] == 0 and summary["avg_api_latency_ms"] is None
    assert summary["avg_cache_hit_rate"] is None and summary["max_queue_depth"] == {"analysis": None, "dlq": None}


def test_the_series_cover_the_window_in_periods(service, captured):
    track_a_known_hour(service)
    Flusher(captured, service.put_batch).flush()
    series = service.get_series(hours=1)
    assert series["period"] == 60 and (series["end"] - series["start"]).total_seconds() == 3600
    assert sum(v for _, v in series["requests"]) == 4
    assert sum(v for _, v in series["errors"]) == 1
    assert [v for _, v in series["cache_hit_rate"]] == [75.0]
    assert [v for _, v in series["tool_time_avg"]] == [100.0]
    assert [v for _, v in series["latency_avg"]] == [175.0]
    assert sum(v for _, v in series["model_tokens"]) == 1500
    assert [v for _, v in series["queue_depth"]["dlq"]] == [1.0]
    assert series["start"] <= series["requests"][0][0] < series["end"]


def test_a_day_is_drawn_in_ten_minute_periods(service):
    assert service.get_series(hours=24)["period"] == 600


def test_queue_depth_samples_both_queues(aws, captured):
    from stocktool.aws import get_cloudwatch_service

    depths = get_cloudwatch_service().track_queue_depth()
    assert set(depths) == {"analysis", "dlq"}
    points = {dict(p[4])["Queue"]: p[2] for p in captured.drain()}
    assert points == {role: float(depth) for role, depth in depths.items()}
