"""Direct answers to comparative and yes/no questions (engine/verdicts.py): what is asked, and the sentence
that answers it with the figures. Pure: no database, no tools."""

import pytest

from conversations.assistant.engine.verdicts import METRICS, asked, verdict

MINUS = "\u2212"


# --- asked --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "symbols", "metric", "direction", "yes_no"), [
    ("Is AMZN more volatile than WMT?", ["AMZN", "WMT"], "volatility", 1, True),
    ("Which is less volatile, PG or KO?", ["PG", "KO"], "volatility", -1, False),
    ("Is KO less risky than TSLA?", ["KO", "TSLA"], "volatility", -1, True),
    ("Which stock is riskier, KO or TSLA?", ["KO", "TSLA"], "volatility", 1, False),
    ("Did AAPL beat MSFT?", ["AAPL", "MSFT"], "return", 1, True),
    ("did MSFT underperform GOOGL", ["MSFT", "GOOGL"], "return", -1, True),
    ("Which had the bigger drawdown, AMZN or WMT?", ["AMZN", "WMT"], "drawdown", 1, False),
    ("Is Apple bigger than Microsoft?", ["AAPL", "MSFT"], "market_cap", 1, True),
    ("Which is smaller, KO or PEP?", ["KO", "PEP"], "market_cap", -1, False),
    ("which has the lower P/E, AAPL or MSFT", ["AAPL", "MSFT"], "pe_ratio", -1, False),
    ("Which has the higher P/E, AAPL or MSFT", ["AAPL", "MSFT"], "pe_ratio", 1, False),
    ("Is AAPL cheaper than MSFT", ["AAPL", "MSFT"], "pe_ratio", -1, True),
    ("Which pays the higher dividend, KO or PEP?", ["KO", "PEP"], "dividend_yield", 1, False),
    ("Does KO pay a lower dividend than PEP?", ["KO", "PEP"], "dividend_yield", -1, True),
    ("Which has the lower beta, KO or TSLA?", ["KO", "TSLA"], "beta", -1, False),
])
def test_asked_reads_the_metric_and_the_direction(text, symbols, metric, direction, yes_no):
    question = asked(text, symbols)
    assert question is not None
    assert question.metric is METRICS[metric]
    assert question.direction == direction
    assert question.yes_no is yes_no


def test_asked_takes_the_first_symbol_named_as_the_subject():
    assert asked("Is AMZN more volatile than WMT?", ["AMZN", "WMT"]).subject == "AMZN"
    assert asked("Is WMT less volatile than AMZN?", ["WMT", "AMZN"]).subject == "WMT"


def test_asked_needs_two_symbols():
    assert asked("Is AMZN more volatile?", ["AMZN"]) is None
    assert asked("Is AMZN more volatile than WMT?", []) is None


@pytest.mark.parametrize("text", ["compare AAPL and MSFT", "AAPL vs MSFT", "Tell me about AAPL and MSFT"])
def test_asked_is_none_when_the_question_only_asks_to_compare(text):
    assert asked(text, ["AAPL", "MSFT"]) is None


# --- verdict ------------------------------------------------------------------------------------------------

VOLATILE = asked("Is AMZN more volatile than WMT?", ["AMZN", "WMT"])


def vol(symbol, value):
    return {"symbol": symbol, "volatility_percent": value}


def test_verdict_says_yes_when_the_subject_wins():
    text = verdict(VOLATILE, [vol("AMZN", 30.52), vol("WMT", 18.2)])
    assert text == ("**Yes.** The annualised volatility is 30.52% for AMZN against 18.20% for WMT, "
                    "so AMZN is the more volatile.")


def test_verdict_says_no_and_names_the_winner_when_the_subject_loses():
    text = verdict(VOLATILE, [vol("AMZN", 12.0), vol("WMT", 18.2)])
    assert text.startswith("**No.** ")
    assert text.endswith("so WMT is the more volatile.")
    assert "12.00% for AMZN against 18.20% for WMT" in text  # the subject's figure first


def test_verdict_puts_the_subjects_figure_first_whatever_the_rows_order():
    text = verdict(VOLATILE, [vol("WMT", 18.2), vol("AMZN", 30.52)])
    assert "30.52% for AMZN against 18.20% for WMT" in text


def test_verdict_on_a_which_question_names_the_winner_first():
    question = asked("Which is less volatile, PG or KO?", ["PG", "KO"])
    text = verdict(question, [vol("PG", 16.4), vol("KO", 14.9)])
    assert text == ("**KO** is the less volatile: the annualised volatility is 14.90% for KO "
                    "against 16.40% for PG.")


def test_verdict_with_three_symbols_says_yes_only_when_the_subject_beats_both():
    question = asked("Is AMZN more volatile than WMT and KO?", ["AMZN", "WMT", "KO"])
    beats_both = verdict(question, [vol("AMZN", 35.0), vol("WMT", 18.2), vol("KO", 30.0)])
    beats_one = verdict(question, [vol("AMZN", 25.0), vol("WMT", 18.2), vol("KO", 30.0)])
    assert beats_both.startswith("**Yes.**")
    assert beats_one.startswith("**No.**")
    assert beats_one.endswith("so KO is the more volatile.")
    assert "25.00% for AMZN against 18.20% for WMT and 30.00% for KO" in beats_one


def test_verdict_on_a_which_question_with_three_symbols_names_the_best():
    question = asked("Which stock did best, AAPL, MSFT or NVDA?", ["AAPL", "MSFT", "NVDA"])
    rows = [{"symbol": "AAPL", "change_percent": 8.0}, {"symbol": "MSFT", "change_percent": 12.0},
            {"symbol": "NVDA", "change_percent": -4.5}]
    text = verdict(question, rows, period_words="over the last year")
    assert text.startswith("**MSFT** did better: over the last year, the return was +12.00% for MSFT against")
    assert f"{MINUS}4.50% for NVDA" in text


def test_verdict_calls_a_tie_neither():
    text = verdict(VOLATILE, [vol("AMZN", 20.0), vol("WMT", 20.0)])
    assert text == "**Neither**: the annualised volatility is 20.00% for AMZN against 20.00% for WMT."


def test_verdict_cannot_say_when_only_one_symbol_has_the_figure():
    text = verdict(VOLATILE, [vol("AMZN", None), vol("WMT", 18.2)])
    assert text == ("I can't say: the market data has no annualised volatility for AMZN, "
                    "so the figures cannot be compared.")


def test_verdict_names_every_symbol_lacking_the_figure_and_the_source():
    rows = [{"symbol": "AMZN"}, {"symbol": "WMT"}, vol("KO", 14.9)]
    text = verdict(VOLATILE, rows, source="price history")
    assert text.startswith("I can't say: the price history data has no annualised volatility for AMZN or WMT")
    assert "KO" not in text


def test_verdict_for_underperform_says_yes_when_the_subject_did_worse():
    question = asked("did MSFT underperform GOOGL", ["MSFT", "GOOGL"])
    rows = [{"symbol": "MSFT", "change_percent": -12.5}, {"symbol": "GOOGL", "change_percent": -3.25}]
    assert verdict(question, rows, period_words="this year") == (
        f"**Yes.** This year, the return was {MINUS}12.50% for MSFT against {MINUS}3.25% for GOOGL, "
        "so MSFT did worse.")


def test_verdict_for_underperform_says_no_when_the_subject_did_better():
    question = asked("did MSFT underperform GOOGL", ["MSFT", "GOOGL"])
    rows = [{"symbol": "MSFT", "change_percent": 12.5}, {"symbol": "GOOGL", "change_percent": -3.25}]
    text = verdict(question, rows, period_words="this year")
    assert text.startswith("**No.** This year, the return was +12.50% for MSFT")
    assert text.endswith("so GOOGL did worse.")


def test_verdict_ranks_drawdowns_by_depth_and_shows_them_negative():
    question = asked("Which had the bigger drawdown, AMZN or WMT?", ["AMZN", "WMT"])
    rows = [{"symbol": "AMZN", "max_drawdown_percent": -14.32},
            {"symbol": "WMT", "max_drawdown_percent": -9.1}]
    assert verdict(question, rows, period_words="in 2024") == (
        f"**AMZN** fell further from a peak: in 2024, the maximum drawdown was {MINUS}14.32% for AMZN "
        f"against {MINUS}9.10% for WMT.")


def test_verdict_writes_market_caps_in_trillions():
    question = asked("Is Apple bigger than Microsoft?", ["AAPL", "MSFT"])
    rows = [{"symbol": "AAPL", "market_cap": 3.5e12}, {"symbol": "MSFT", "market_cap": 4.02e12}]
    assert verdict(question, rows) == ("**No.** The market capitalisation is $3.50 trillion for AAPL against "
                                       "$4.02 trillion for MSFT, so MSFT is the larger.")


def test_verdict_on_cheaper_compares_pe_ratios_to_one_decimal():
    question = asked("Is AAPL cheaper than MSFT", ["AAPL", "MSFT"])
    rows = [{"symbol": "AAPL", "pe_ratio": 31.44}, {"symbol": "MSFT", "pe_ratio": 35.0}]
    assert verdict(question, rows) == ("**Yes.** The P/E ratio is 31.4 for AAPL against 35.0 for MSFT, "
                                       "so AAPL is the cheaper on earnings.")


def test_verdict_writes_a_dividend_yield_fraction_as_a_percentage():
    question = asked("Which pays the higher dividend, KO or PEP?", ["KO", "PEP"])
    rows = [{"symbol": "KO", "dividend_yield": 0.031}, {"symbol": "PEP", "dividend_yield": 0.036}]
    assert verdict(question, rows) == ("**PEP** has the higher dividend yield: the dividend yield is 3.60% "
                                       "for PEP against 3.10% for KO.")


def test_verdict_uses_the_period_words_and_the_past_tense_when_given():
    text = verdict(VOLATILE, [vol("AMZN", 30.52), vol("WMT", 18.2)], period_words="over the past year")
    assert text.startswith("**Yes.** Over the past year, the annualised volatility was 30.52% for AMZN")


def test_verdict_uses_the_present_tense_without_a_period():
    text = verdict(VOLATILE, [vol("AMZN", 30.52), vol("WMT", 18.2)])
    assert "volatility is 30.52%" in text
    assert " was " not in text


def test_verdict_cannot_say_when_only_one_row_came_back():
    question = asked("Is AAPL cheaper than MSFT", ["AAPL", "MSFT"])
    text = verdict(question, [{"symbol": "AAPL", "pe_ratio": 31.4}])
    assert text.startswith("I can't say")
    assert "AAPL" in text


# --- bugs ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Which had the smaller drawdown, AMZN or WMT?",
                                  "Which had the lower drawdown, AMZN or WMT?"])
def test_asked_reads_a_smaller_drawdown_as_the_one_that_held_up_better(text):
    assert asked(text, ["AMZN", "WMT"]).direction == -1


@pytest.mark.parametrize(("text", "direction"), [
    ("Which is the most volatile, AAPL, MSFT or KO?", 1),
    ("Which is the least volatile, AAPL, MSFT or KO?", -1),
    ("Which has lower volatility, AAPL or KO?", -1),
])
def test_asked_reads_superlatives_and_lower_volatility(text, direction):
    question = asked(text, ["AAPL", "MSFT", "KO"])
    assert question is not None
    assert question.metric is METRICS["volatility"]
    assert question.direction == direction


def test_verdict_says_no_when_the_subject_loses_and_the_others_tie():
    question = asked("Is KO more volatile than AMZN and WMT?", ["KO", "AMZN", "WMT"])
    text = verdict(question, [vol("KO", 10.0), vol("AMZN", 30.0), vol("WMT", 30.0)])
    assert text.startswith("**No.**")


def test_verdict_writes_market_caps_in_the_profiles_currency():
    question = asked("Is SAP bigger than ASML?", ["SAP", "ASML"])
    rows = [{"symbol": "SAP", "market_cap": 2.4e11, "currency": "EUR"},
            {"symbol": "ASML", "market_cap": 2.6e11, "currency": "EUR"}]
    assert "€240.00 billion for SAP" in verdict(question, rows)
