"""The charts' description (stocktool.charts): the SVG drawn on the server, with axes, dates and each point's
value on hover, and the data charts.js hands to uPlot; and the chat cards' charts made from it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template.loader import render_to_string

from conversations.rendering import card_chart
from stocktool.charts import MINUS, Format, format_value, nice_range, time_chart

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


@pytest.mark.parametrize(("lo", "hi", "from_zero", "expected"), [
    (0.9, 1.2, False, (0.9, 1.2, 0.1)),
    (3, 97, True, (0, 100, 25)),
    (-0.23, -0.01, False, (-0.3, 0, 0.1)),
    (5, 5, False, (4, 6, 2)),  # one value: an axis around it
])
def test_y_axes_run_between_round_numbers(lo, hi, from_zero, expected):
    assert nice_range(lo, hi, from_zero=from_zero) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (-0.2345, Format("percent", 1), f"{MINUS}23.4%"),
    (-0.0001, Format("percent", 1), "0.0%"),  # never "−0.0%"
    (12.5, Format("points", 1), "12.5%"),
    (1234.5, Format("money", 2), "$1,234.50"),
    (-3.1, Format("money", 2, currency="EUR"), f"{MINUS}3.10 EUR"),
    (41.26, Format("number", 0, unit="ms"), "41 ms"),
])
def test_values_are_written_as_the_pages_write_figures(value, fmt, text):
    assert format_value(value, fmt) == text


def test_a_chart_has_axes_dates_a_line_per_series_and_values_on_hover():
    chart = time_chart("Growth", [("Portfolio", [("2026-01-02", 1.0), ("2026-01-05", 1.2), ("2026-02-05", 0.9)]),
                                  ("SPY", [("2026-01-02", 1.0), ("2026-02-05", 1.1)])])
    svg = str(chart.svg)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and 'aria-label="Growth"' in svg
    assert ">2 Jan 2026</text>" in svg and ">5 Feb 2026</text>" in svg  # the x axis: first and last date
    assert ">0.9</text>" in svg and ">1.2</text>" in svg  # the y axis, from the lowest to the highest value
    assert "<title>Portfolio, 5 Jan 2026: 1.20</title>" in svg  # a point's value on hover
    assert chart.legend == [{"label": "Portfolio", "css": "s0"}, {"label": "SPY", "css": "s1"}]
    # uPlot's data: the dates as UTC seconds, one list per series on the shared dates (None: no value that day).
    day = int(datetime(2026, 1, 2, tzinfo=UTC).timestamp())
    assert chart.data["x"] == [day, day + 3 * 86_400, day + 34 * 86_400]
    assert [s["values"] for s in chart.data["series"]] == [[1.0, 1.2, 0.9], [1.0, None, 1.1]]
    assert chart.data["format"] == {"kind": "number", "digits": 2, "currency": "USD", "unit": ""}


def test_ticks_carry_the_decimals_that_tell_them_apart():
    svg = str(time_chart("x", [("a", [("2026-01-02", 0.0), ("2026-01-05", 1.0)])], fmt=Format("number", 2)).svg)
    assert [t for t in ("0.00", "0.25", "0.50", "0.75", "1.00") if f">{t}</text>" in svg] == [
        "0.00", "0.25", "0.50", "0.75", "1.00"]


def test_a_window_of_times_is_labelled_in_utc_and_counts_from_zero():
    chart = time_chart("Latency", [("avg", [(START, 10.0), (START + timedelta(minutes=30), 20.0)]),
                                   ("p90", [(START, 30.0), (END, 40.0)])], start=START, end=END, intraday=True,
                       from_zero=True, fmt=Format("number", 0, unit="ms"))
    svg = str(chart.svg)
    assert ">12:00 UTC</text>" in svg and ">13:00 UTC</text>" in svg and ">0 ms</text>" in svg
    assert chart.data["window"] == [int(START.timestamp()), int(END.timestamp())] and chart.data["intraday"]


def test_series_without_values_are_left_out_and_an_empty_window_says_so():
    chart = time_chart("x", [("a", []), ("b", [(START, None)])], start=START, end=END, intraday=True)
    assert "no data in this window" in str(chart.svg) and "<polyline" not in str(chart.svg)
    assert chart.legend == [] and chart.data["series"] == []
    assert time_chart("x", [("a", [])]) is None  # no window, no values: no chart at all


def test_labels_are_escaped_everywhere():
    chart = time_chart("<b>", [("<i>", [(START, 1.0), (END, 2.0)])], intraday=True)
    svg = str(chart.svg)
    assert "<b>" not in svg and "<i>" not in svg and "&lt;b&gt;" in svg and "&lt;i&gt;" in svg
    html = render_to_string("stocktool/_chart.html", {"c": chart})
    assert "<i>" not in html and "\\u003Ci\\u003E" in html  # the JSON for charts.js, escaped by json_script


def _quote(**overrides) -> dict:
    return {"type": "quote", "symbol": "ACME", "price": 99.0, "currency": "USD", "points": [100.0, 98.5, 99.0],
            "point_dates": ["2026-01-02", "2026-01-05", "2026-01-06"], **overrides}


def test_a_quote_card_charts_its_month_in_dollars_coloured_by_direction():
    chart = card_chart(_quote())
    assert chart.legend == [{"label": "ACME", "css": "s-down"}] and chart.data["format"]["kind"] == "money"
    assert "<title>ACME, 5 Jan 2026: $98.50</title>" in str(chart.svg)
    assert card_chart(_quote(points=[98.0, 99.0, 100.0])).legend[0]["css"] == "s-up"


def test_a_card_stored_before_its_points_had_dates_shows_no_chart():
    assert card_chart(_quote(point_dates=[])) is None
    assert card_chart(_quote(point_dates=["2026-01-02"])) is None  # dates that do not match the points


def test_a_comparison_card_puts_each_stock_in_its_colour_in_percent():
    dates = ["2026-01-02", "2026-03-02", "2026-06-01"]
    card = {"type": "history", "growth": True, "label": "6mo", "start_date": dates[0], "end_date": dates[-1],
            "series": [{"symbol": s, "points": pts, "dates": dates, "change_percent": pts[-1]}
                       for s, pts in (("AAA", [0, 5, 12.5]), ("BBB", [0, -2, -3.25]), ("CCC", [0, 1, 2]))]}
    chart = card_chart(card)
    assert [item["css"] for item in chart.legend] == ["s0", "s1", "s2"]
    assert chart.data["format"]["kind"] == "points" and f"<title>BBB, 1 Jun 2026: {MINUS}3.2%</title>" in str(
        chart.svg)
    html = render_to_string("conversations/_card.html", {"card": card})
    assert "data-chart" in html and 'class="legend"' in html and html.count("<polyline") == 3
