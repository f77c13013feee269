import math
import threading

from monitoring.buffer import MetricsBuffer, aggregate, quantize, samples
from stocktool.aws import cloudwatch
from stocktool.aws.cloudwatch import MAX_BYTES_PER_CALL, batches, datum_size

T0 = 1_800_000_000.0  # a minute boundary
ROUTE = (("Method", "GET"), ("Route", "home"), ("StatusClass", "2xx"))


def point(value, metric="APILatency", unit="Milliseconds", dims=ROUTE, ts=T0):
    return (ts, metric, float(value), unit, dims)


def test_the_buffer_drops_the_oldest_and_counts_it():
    buffer = MetricsBuffer(3)
    for i in range(5):
        buffer.append(point(i))
    assert buffer.dropped == 2
    assert [p[2] for p in buffer.drain()] == [2.0, 3.0, 4.0]
    assert len(buffer) == 0


def test_the_buffer_loses_nothing_under_threads():
    buffer = MetricsBuffer(100_000)

    def work():
        for i in range(5_000):
            buffer.append(point(i))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(buffer.drain()) == 40_000 and buffer.dropped == 0


def test_reset_empties_it_with_a_new_lock():
    buffer = MetricsBuffer(2)
    buffer.append(point(1))
    buffer.append(point(2))
    buffer.append(point(3))
    old_lock = buffer._lock
    buffer.reset()
    assert len(buffer) == 0 and buffer.dropped == 0 and buffer._lock is not old_lock


def test_durations_keep_three_significant_digits():
    assert quantize(12.3456) == 12.3
    assert quantize(1234.5) == 1230.0
    assert quantize(0.0012345) == 0.00123
    assert quantize(0) == 0


def test_it_aggregates_repeated_values_into_values_and_counts():
    datums = aggregate([point(5), point(5), point(7), point(5.00001)])
    mine = [d for d in datums if d["MetricName"] == "APILatency"]
    assert len(mine) == 1
    assert mine[0]["Values"] == [5.0, 7.0] and mine[0]["Counts"] == [3.0, 1.0]
    assert mine[0]["Dimensions"] == [{"Name": n, "Value": v} for n, v in ROUTE]
    assert mine[0]["Unit"] == "Milliseconds"


def test_no_datum_carries_more_than_150_distinct_values():
    datums = aggregate([point(i) for i in range(1, 401)])
    mine = [d for d in datums if d["MetricName"] == "APILatency"]
    assert [len(d["Values"]) for d in mine] == [150, 150, 100]
    assert sum(samples(d) for d in mine) == 400
    assert all(len(d["Values"]) == len(d["Counts"]) for d in datums)


def test_latency_also_feeds_the_all_routes_series_and_5xx_feed_errors():
    error = (("Method", "POST"), ("Route", "boom"), ("StatusClass", "5xx"))
    datums = aggregate([point(10), point(20, dims=error), point(30, dims=error)])
    by_name = {}
    for d in datums:
        by_name.setdefault(d["MetricName"], []).append(d)
    assert sum(samples(d) for d in by_name["APILatency"]) == 3
    (all_routes,) = by_name["APILatencyAll"]
    assert all_routes["Dimensions"] == [] and all_routes["Values"] == [10.0, 20.0, 30.0]
    (errors,) = by_name["Errors"]
    assert errors["Dimensions"] == [] and errors["Values"] == [1.0] and errors["Counts"] == [2.0]
    assert errors["Unit"] == "Count"


def test_app_metrics_feed_their_dimensionless_series_too():
    datums = aggregate([point(50, metric="ToolExecutionTime", dims=(("Success", "true"), ("Tool", "quote"))),
                        point(100, metric="CacheHitRate", unit="Percent", dims=(("Cache", "quotes"),))])
    names = {d["MetricName"]: d["Dimensions"] for d in datums}
    assert names["ToolExecutionTimeAll"] == [] and names["CacheHitRateAll"] == []
    assert "Errors" not in names


def test_points_of_different_minutes_stay_apart_with_their_own_time():
    datums = aggregate([point(1, ts=T0 + 5), point(1, ts=T0 + 65), point(1, ts=T0 + 30)])
    mine = [d for d in datums if d["MetricName"] == "APILatency"]
    assert [d["Timestamp"].timestamp() for d in mine] == [T0 + 30, T0 + 65]


def test_values_cloudwatch_rejects_are_skipped():
    datums = aggregate([point(math.nan), point(math.inf), point(1e200), point(1e-200, metric="Thing", unit="Count"), point(3)])
    (kept,) = [d for d in datums if d["MetricName"] == "APILatency" and d["Unit"] == "Milliseconds"]
    assert kept["Values"] == [3.0]
    (tiny,) = [d for d in datums if d["Unit"] == "Count"]
    assert tiny["Values"] == [0.0]


def test_counts_and_percentages_are_not_rounded():
    datums = aggregate([point(12345, metric="ModelTokens", unit="Count", dims=(("Model", "m"),))])
    assert [d["Values"] for d in datums] == [[12345.0], [12345.0]]  # ModelTokens and ModelTokensAll


def test_batches_stay_within_1000_datums():
    datums = [{"MetricName": "M", "Dimensions": [], "Values": [1.0], "Counts": [1.0]} for _ in range(2500)]
    assert [len(b) for b in batches(datums)] == [1000, 1000, 500]


def test_batches_stay_within_a_megabyte():
    tokens = (("Model", "m"),)
    big = aggregate([point(i, metric="ModelTokens", unit="Count", dims=tokens) for i in range(1, 150 * 200 + 1)])
    sizes = [sum(datum_size(d) for d in b) for b in batches(big)]
    assert len(sizes) > 1
    assert all(size <= MAX_BYTES_PER_CALL for size in sizes)
    assert sum(len(b) for b in batches(big)) == len(big)


def test_the_size_estimate_covers_the_query_protocol_encoding():
    """The estimate must not undercount the most verbose wire format botocore may pick."""
    from urllib.parse import urlencode

    (datum,) = [d for d in aggregate([point(i + 0.123) for i in range(150)]) if d["MetricName"] == "APILatency"]
    fields = {"MetricData.member.1.MetricName": datum["MetricName"], "MetricData.member.1.Unit": datum["Unit"],
              "MetricData.member.1.Timestamp": datum["Timestamp"].isoformat()}
    for i, dim in enumerate(datum["Dimensions"], 1):
        fields[f"MetricData.member.1.Dimensions.member.{i}.Name"] = dim["Name"]
        fields[f"MetricData.member.1.Dimensions.member.{i}.Value"] = dim["Value"]
    for i, (v, c) in enumerate(zip(datum["Values"], datum["Counts"]), 1):
        fields[f"MetricData.member.1.Values.member.{i}"] = repr(v)
        fields[f"MetricData.member.1.Counts.member.{i}"] = repr(c)
    assert len(urlencode(fields)) <= datum_size(datum)


def test_a_datum_from_cloudwatch_datums_has_a_utc_time():
    (datum,) = cloudwatch.datums("M", "Count", (("A", "b"),), T0, {1.0: 2})
    assert datum["Timestamp"].tzinfo is not None and datum["Timestamp"].timestamp() == T0
