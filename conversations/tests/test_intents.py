"""Intent and entity extraction: pure functions, a dict for a resolver, a fixed date for periods."""

from datetime import date

import pytest

from conversations.assistant.engine.entities import (
    amounts_parse,
    mention_candidates,
    percents_parse,
    resolve_mentions,
)
from conversations.assistant.engine.intents import classify, term_of
from conversations.assistant.engine.periods import Period, period_parse

NAMES = {"apple": "AAPL", "microsoft": "MSFT", "nvidia": "NVDA", "tesla": "TSLA", "coca-cola": "KO",
         "home depot": "HD", "bank of america": "BAC", "google": "GOOGL", "exxon mobil": "XOM", "at&t": "T"}
TICKERS = {"AAPL", "MSFT", "NVDA", "TSLA", "KO", "HD", "BAC", "GOOGL", "XOM", "T", "SPY", "BRK.B", "AMD", "INTC"}
TODAY = date(2026, 6, 15)


class Resolver:
    def __init__(self):
        self.calls = []

    def __call__(self, text):
        self.calls.append(text)
        return text.upper() if text.upper() in TICKERS else NAMES.get(text.lower())


def parse(text, context=None):
    entities, unknown, names = resolve_mentions(text, Resolver())
    return classify(text, entities, unknown, unknown_names=names, context=context, today=TODAY)


@pytest.mark.parametrize(("text", "code", "days"), [
    ("over the last year", "1y", None), ("past 12 months", "1y", None), ("in the last 6 months", "6mo", None),
    ("last quarter", "3mo", None), ("ytd", "ytd", None), ("year to date", "ytd", None), ("this year", "ytd", None),
    ("over 5 years", "5y", None), ("5y", "5y", None), ("6mo", "6mo", None), ("the past two years", "2y", None),
    ("last 10 days", "1mo", 10), ("last 18 months", "2y", 548), ("half a year", "6mo", None),
    ("this week", "5d", None), ("today", "1d", None), ("all time", "max", None), ("a decade", "10y", None),
])
def test_periods_are_understood(text, code, days):
    period = period_parse(text, today=TODAY)
    assert (period.code, period.days) == (code, days)


def test_a_calendar_year_is_a_dated_window():
    assert period_parse("how did it do in 2025", today=TODAY) == Period("2y", "2025", start="2025-01-01",
                                                                          end="2025-12-31")
    assert period_parse("in 2026", today=TODAY).code == "ytd"
    assert period_parse("since 2020", today=TODAY).days == (TODAY - date(2020, 1, 1)).days


@pytest.mark.parametrize("text", ["and the market", "a market order and a limit order", "the 52-week high",
                                  "50% AAPL", "what is a Sharpe ratio"])
def test_words_that_only_look_like_periods_are_not(text):
    assert period_parse(text, today=TODAY) is None


def test_tickers_and_company_names_are_found_in_order():
    entities, unknown, _ = resolve_mentions("Compare $nvda, Apple's and Home Depot with BRK.B", Resolver())
    assert [e.symbol for e in entities] == ["NVDA", "AAPL", "HD", "BRK.B"]
    assert unknown == []


def test_multi_word_names_win_over_their_words():
    entities, _, _ = resolve_mentions("price of bank of america and exxon mobil", Resolver())
    assert [e.symbol for e in entities] == ["BAC", "XOM"]


def test_common_words_and_terms_are_never_looked_up():
    resolver = Resolver()
    resolve_mentions("What is the P/E ratio and the market cap of the stock, and is it a good ETF?", resolver)
    assert resolver.calls == []


def test_unknown_ticker_like_words_are_reported():
    entities, unknown, _ = resolve_mentions("What is the price of ZZZZ?", Resolver())
    assert entities == [] and unknown == ["ZZZZ"]
    assert parse("What is the price of ZZZZ?").kind == "unknown_symbol"


def test_percentages_and_amounts():
    assert [v for v, _ in percents_parse("50% AAPL, 30 percent MSFT and 20 pct NVDA")] == [50, 30, 20]
    assert [v for v, _ in amounts_parse("$1,000 in Apple and 5k dollars in MSFT, $2.5m more")] == [1000, 5000, 2.5e6]


@pytest.mark.parametrize(("text", "kind", "symbols"), [
    ("What is AAPL stock price?", "quote", ["AAPL"]),
    ("how much is a share of microsoft", "quote", ["MSFT"]),
    ("How did MSFT do over the last 6 months?", "change", ["MSFT"]),
    ("Show me a chart of NVDA", "history", ["NVDA"]),
    ("Compare AAPL and MSFT", "compare", ["AAPL", "MSFT"]),
    ("Which is bigger, Apple or Microsoft?", "compare", ["AAPL", "MSFT"]),
    ("What is Apple's market cap?", "profile", ["AAPL"]),
    ("Tell me about Nvidia", "profile", ["NVDA"]),
    ("How volatile is TSLA?", "risk", ["TSLA"]),
    ("What was the highest price of AAPL in the last 6 months?", "extreme", ["AAPL"]),
    ("What's the ticker for Coca-Cola?", "ticker", ["KO"]),
    ("Is TSLA a good buy?", "advice", ["TSLA"]),
    ("How is the S&P 500 doing?", "change", ["SPY"]),
    ("What is a Sharpe ratio?", "define", []),
    ("what is beta?", "define", []),
    ("hello", "greeting", []),
    ("what can you do?", "help", []),
    ("Are you a large language model?", "help", []),
    ("how do you work?", "help", []),
    ("how do you work out a company's free cash flow?", "define", []),  # about the cash flow, not the assistant
    ("what do you do with a dividend you don't need?", "define", []),
])
def test_intents(text, kind, symbols):
    intent = parse(text)
    assert (intent.kind, intent.symbols) == (kind, symbols)


def test_a_portfolio_with_weights():
    intent = parse("Analyse my portfolio of 50% AAPL 30% MSFT 20% NVDA")
    assert (intent.kind, intent.symbols, intent.weights) == ("portfolio", ["AAPL", "MSFT", "NVDA"], [50, 30, 20])
    intent = parse("analyse a portfolio with AAPL 60%, TSLA 40%")
    assert intent.weights == [60, 40]
    assert parse("Run a risk assessment on AAPL, MSFT and GOOGL").weights is None


def test_an_investment_question():
    intent = parse("If I invested $1000 in Apple a year ago, how much would I have now?")
    assert (intent.kind, intent.symbols, intent.amount, intent.period.code) == ("growth", ["AAPL"], 1000, "1y")


def test_follow_ups_resolve_it_and_them_from_the_previous_turn():
    context = {"intent": "quote", "symbols": ["AAPL"], "period": None}
    intent = parse("compare it with MSFT over the last year", context)
    assert (intent.kind, intent.symbols, intent.period.code) == ("compare", ["AAPL", "MSFT"], "1y")
    both = {"intent": "compare", "symbols": ["AAPL", "MSFT"], "period": "1y"}
    assert parse("what about over 5 years?", both).period.code == "5y"
    assert parse("what about over 5 years?", both).kind == "compare"
    assert parse("what is their market cap?", both).fields == ["market_cap"]
    assert parse("And NVDA?", context).symbols == ["NVDA"]
    assert parse("And NVDA?", {"intent": "profile", "symbols": ["AAPL"], "fields": ["sector"]}).kind == "profile"


def test_a_new_question_about_a_term_ignores_the_previous_stock():
    intent = parse("what is a Sharpe ratio and how is it calculated?", {"intent": "quote", "symbols": ["AAPL"]})
    assert (intent.kind, intent.symbols) == ("define", [])


def test_terms_are_cut_out_of_questions():
    assert term_of("What is a Sharpe ratio?") == "Sharpe ratio"
    assert term_of("What does P/E mean?") == "P/E"
    assert term_of("How is the Sharpe ratio calculated?") == "Sharpe ratio"
    assert term_of("Explain the difference between a market order and a limit order") == \
        "difference between a market order and a limit order"


def test_shouting_is_not_a_list_of_tickers():
    strong, _ = mention_candidates("WHAT IS THE PRICE OF APPLE")
    assert strong == []
