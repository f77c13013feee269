from datetime import UTC, datetime, timedelta

from monitoring.charts import legend, line_chart, nice_ceiling

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def test_axis_tops_are_round_numbers():
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 7, 12, 180, 2001)] == [1, 0.5, 1, 10, 20, 200, 2500]


def test_a_chart_is_inline_svg_with_a_line_per_series():
    svg = line_chart("Latency", [("avg", [(START, 10.0), (START + timedelta(minutes=30), 20.0)]),
                                 ("p90", [(START, 30.0), (END, 40.0)])], start=START, end=END, unit="ms")
    assert svg.startswith("<svg") and svg.count("<polyline") == 2
    assert 'aria-label="Latency"' in svg and "12:00" in svg and "13:00" in svg


def test_points_land_inside_the_plot():
    svg = line_chart("x", [("a", [(START, 0.0), (END, 5.0)])], start=START, end=END)
    assert 'points="52.0,156.0 552.0,10.0"' in svg


def test_an_empty_window_says_so():
    svg = line_chart("x", [("a", [])], start=START, end=END)
    assert "no data in this window" in svg and "<polyline" not in svg


def test_labels_are_escaped():
    svg = line_chart("<b>", [("<i>", [(START, 1.0)])], start=START, end=END)
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&lt;i&gt;" in svg


def test_the_legend_lists_drawn_series_in_colour_order():
    assert legend([("a", []), ("b", [(START, 1.0)]), ("c", [(START, 1.0)])]) == [
        {"label": "b", "css": "s0"}, {"label": "c", "css": "s1"}]
