"""Figures as people write them: cents, thousands separators, one minus sign, no doubled or negative zero."""

from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from conversations.assistant import formatting as fmt

MINUS = "\u2212"


@pytest.mark.parametrize(("value", "text"), [
    (0.1, "$0.10"), (0, "$0.00"), (5, "$5.00"), (1234.5, "$1,234.50"), (1234567.891, "$1,234,567.89"),
    (-1.5, f"{MINUS}$1.50"), (-0.1, f"{MINUS}$0.10"), (0.1234, "$0.1234"), (0.105, "$0.105"),
    (-0.001, f"{MINUS}$0.001"), (-0.00001, "$0.00"), (Decimal("12.3"), "$12.30"), ("7", "$7.00"),
])
def test_money_has_cents_and_thousands_separators(value, text):
    assert fmt.money(value) == text


def test_money_in_other_currencies():
    assert fmt.money(1234.5, "EUR") == "€1,234.50"
    assert fmt.money(-2, "CHF") == f"{MINUS}2.00 CHF"
    assert fmt.money(3, None) == "$3.00"


@pytest.mark.parametrize(("value", "text"), [
    (4.234, "+4.23%"), (-1.5, f"{MINUS}1.50%"), (0, "0.00%"), (-0.001, "0.00%"), (0.004, "0.00%"),
    (-0.005001, f"{MINUS}0.01%"), (1234.5, "+1,234.50%"),
])
def test_signed_percent(value, text):
    assert fmt.signed_percent(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (12.345, "12.35%"), (-1.5, f"{MINUS}1.50%"), (-0.0001, "0.00%"), (0, "0.00%"),
])
def test_percent_has_a_sign_only_when_negative(value, text):
    assert fmt.percent(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (1.5, "+$1.50"), (-1.5, f"{MINUS}$1.50"), (0, "$0.00"), (0.001, "+$0.001"), (0.000001, "$0.00"),
    (-1234.5, f"{MINUS}$1,234.50"),
])
def test_signed_money(value, text):
    assert fmt.signed_money(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (1.2e9, "$1.20 billion"), (3.456e12, "$3.46 trillion"), (2.5e6, "$2.50 million"),
    (999_999.5, "$999,999.50"), (-1.2e9, f"{MINUS}$1.20 billion"), (999.999e9, "$1.00 trillion"),
    (999.99e9, "$999.99 billion"),
])
def test_big_money_names_the_unit(value, text):
    assert fmt.big_money(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (15e9, "15.00 billion"), (2.5e6, "2.50 million"), (12_345, "12,345"), (-3e6, f"{MINUS}3.00 million"),
    (0, "0"),
])
def test_big_number(value, text):
    assert fmt.big_number(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (1234.567, "1,234.57"), (-0.5, f"{MINUS}0.50"), (-0.001, "0.00"),
])
def test_number(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize("function", [fmt.money, fmt.signed_money, fmt.big_money, fmt.big_number, fmt.number,
                                      fmt.percent, fmt.signed_percent])
@pytest.mark.parametrize("value", [None, "", "not a number", float("nan"), float("inf")])
def test_missing_figures_are_n_a(function, value):
    assert function(value) == "n/a"


@pytest.mark.parametrize("value", [-1234.5678, -1, -0.5, -0.004, 0, 0.004, 0.5, 1, 1234.5678, 2e9])
def test_no_function_writes_a_hyphen_or_a_doubled_sign(value):
    for function in (fmt.money, fmt.signed_money, fmt.big_money, fmt.big_number, fmt.number, fmt.percent,
                     fmt.signed_percent):
        text = function(value)
        assert "-" not in text and "+" + MINUS not in text and MINUS * 2 not in text and "++" not in text
        assert not text.startswith("$.") and "$0.1 " not in text + " "


def _card(**overrides) -> str:
    card = {"type": "quote", "symbol": "ACME", "price": 1234.5, "change": -1.5, "change_percent": -0.12,
            "currency": "USD", "trading_day": "2026-01-02", "source": "demo", "as_of": "2026-01-02T20:00:00Z",
            "demo": True, "points": [1240, 1236, 1234.5], "points_label": "last month",
            "month_change_percent": 0.0001, **overrides}
    return render_to_string("conversations/_card.html", {"card": card})


def test_a_quote_card_uses_the_same_figures():
    html = _card()
    assert "$1,234.50" in html and f"{MINUS}$1.50 ({MINUS}0.12%)" in html
    assert "0.00% over the last month" in html
    assert "+" + MINUS not in html and "-0.00" not in html and "%%" not in html


def test_a_card_without_a_change_says_n_a_without_a_stray_percent():
    html = _card(change=None, change_percent=None)
    assert "n/a (n/a)" in html and "n/a%" not in html


def test_a_growth_card_labels_each_line_once_signed():
    card = {"type": "history", "label": "1y", "growth": True, "start_date": "2025-01-02",
            "end_date": "2026-01-02",
            "source": "demo", "as_of": "2026-01-02T20:00:00Z", "demo": True,
            "series": [{"symbol": "AAA", "points": [0, 5, 12.5], "change_percent": 12.5},
                       {"symbol": "BBB", "points": [0, -2, -3.25], "change_percent": -3.25}]}
    html = render_to_string("conversations/_card.html", {"card": card})
    assert "AAA +12.50%" in html and f"BBB {MINUS}3.25%" in html and "%%" not in html
