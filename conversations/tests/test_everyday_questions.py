"""Everyday questions through POST /api/chat with the local provider: each answered from the tools or the
knowledge base, with its sources, and never a server error. (The issue's own set of 30 is not shown to us; these
are ours, phrased the many ways people ask.)"""

import re

import pytest

pytestmark = pytest.mark.django_db


def called(name, **args):
    """The turn ran tool ``name`` successfully, with these arguments (a list argument: as a set)."""
    def check(r):
        for call in r["tool_calls"]:
            if call["name"] != name or not call["ok"]:
                continue
            got = call["arguments"]
            if all((set(got.get(k) or []) == set(v)) if isinstance(v, list) else got.get(k) == v
                   for k, v in args.items()):
                return True
        return False
    check.__name__ = f"called {name} {args}"
    return check


def says(*patterns):
    def check(r):
        return all(re.search(p, r["reply"], re.IGNORECASE | re.DOTALL) for p in patterns)
    check.__name__ = f"says {patterns}"
    return check


def cites(title):
    def check(r):
        return any(s.get("kind") == "knowledge" and s["title"] == title for s in r["sources"]) and title in r["reply"]
    check.__name__ = f"cites {title!r}"
    return check


def dated():
    """Market data answers say where the figures come from, when, and that demo data is demo data."""
    def check(r):
        market = [s for s in r["sources"] if s["kind"] == "market_data"]
        return bool(market) and all(s["as_of"] for s in market) and re.search(r"as of \d{4}-\d\d-\d\d", r["reply"]) \
            and "not real market prices" in r["reply"]
    return check


def not_says(*patterns):
    def check(r):
        return not any(re.search(p, r["reply"], re.IGNORECASE) for p in patterns)
    check.__name__ = f"does not say {patterns}"
    return check


def no_tools():
    def check(r):
        return not any(c["name"] != "search_knowledge" for c in r["tool_calls"])
    return check


QUOTE = [dated(), says(r"\$\d")]
QUESTIONS = [
    ("What is AAPL stock price?", [called("get_stock_quote", symbol="AAPL"), *QUOTE]),
    ("How much is Microsoft trading at right now?", [called("get_stock_quote", symbol="MSFT"), *QUOTE]),
    ("price of tesla", [called("get_stock_quote", symbol="TSLA"), *QUOTE]),
    ("What's NVDA at today?", [called("get_stock_quote", symbol="NVDA"), *QUOTE]),
    ("Give me a quote for Amazon", [called("get_stock_quote", symbol="AMZN"), *QUOTE]),
    ("What was the closing price of IBM yesterday?", [called("get_stock_quote", symbol="IBM"), says("previous close")]),
    ("How did Google stock do over the past 6 months?",
     [called("get_price_history", symbol="GOOGL", period="6mo"), dated(), says(r"(rose|fell) \*\*\d+\.\d\d%\*\*|was flat")]),
    ("What was Netflix's return year to date?", [called("get_price_history", symbol="NFLX", period="ytd"), dated()]),
    ("How much has Meta gained in the last 3 months?", [called("get_price_history", symbol="META", period="3mo")]),
    ("Has Disney gone up or down this year?", [called("get_price_history", symbol="DIS", period="ytd")]),
    ("Show me the price history of Intel for the last 2 years",
     [called("get_price_history", symbol="INTC", period="2y"), lambda r: r["cards"][0]["type"] == "history"]),
    ("How has JPMorgan performed over the last 18 months?",
     [called("get_price_history", symbol="JPM", period="2y", days=548), says("18 months")]),
    ("Compare Apple and Microsoft over the last year",
     [called("compare_stocks", symbols=["AAPL", "MSFT"], period="1y"), says("did best"), dated()]),
    ("AAPL vs GOOGL vs AMZN performance over 5 years",
     [called("compare_stocks", symbols=["AAPL", "GOOGL", "AMZN"], period="5y")]),
    ("Which did better this year, Coca-Cola or Pepsi?", [called("compare_stocks", symbols=["KO", "PEP"], period="ytd")]),
    ("Which is bigger, Visa or Mastercard?",
     [called("get_company_profile", symbol="V"), called("get_company_profile", symbol="MA"), says("market cap")]),
    ("What is Apple's market cap?", [called("get_company_profile", symbol="AAPL"), says(r"\$\d[\d.]* trillion")]),
    ("What sector is Exxon Mobil in?", [called("get_company_profile", symbol="XOM"), says("Energy")]),
    ("Tell me about Nvidia", [called("get_company_profile", symbol="NVDA"), says("graphics processors")]),
    ("What does Costco do?", [called("get_company_profile", symbol="COST"), says("warehouse")]),
    ("What industry is JPMorgan in?", [called("get_company_profile", symbol="JPM"), says("Banks")]),
    ("What is the beta of Tesla?", [called("get_company_profile", symbol="TSLA"), says(r"beta of \*\*2\.00")]),
    ("What's the 52-week high for Boeing?", [called("get_company_profile", symbol="BA"), says("52-week range")]),
    ("On which exchange is Oracle listed?", [called("get_company_profile", symbol="ORCL"), says("NYSE")]),
    ("How many shares does Apple have outstanding?", [called("get_company_profile", symbol="AAPL"),
                                                      says("15.00 billion")]),
    ("What is a Sharpe ratio?", [called("search_knowledge"), cites("Sharpe ratio"), says("risk-adjusted")]),
    ("What does P/E ratio mean?", [cites("Price-to-earnings ratio (P/E)")]),
    ("Explain beta", [cites("Beta"), says("sensitive")]),
    ("What is value at risk?", [cites("Value at risk (VaR)")]),
    ("what's maximum drawdown", [cites("Maximum drawdown")]),
    ("What is a limit order?", [cites("Order types"), says("limit")]),
    ("What is diversification?", [cites("Diversification and correlation")]),
    ("What does dividend yield mean?", [cites("Dividend yield")]),
    ("What is a bear market?", [cites("Glossary of common financial terms"), says("20%")]),
    ("What is an ETF?", [cites("Glossary of common financial terms"), says("exchange-traded fund")]),
    ("Analyse my portfolio of 50% AAPL 30% MSFT 20% NVDA",
     [called("start_portfolio_analysis", symbols=["AAPL", "MSFT", "NVDA"], weights=[50.0, 30.0, 20.0]),
      says(r"/analysis/[0-9a-f-]{36}/")]),
    ("Can you run a risk analysis on a portfolio with 60% SPY and 40% JNJ?",
     [called("start_portfolio_analysis", symbols=["SPY", "JNJ"], weights=[60.0, 40.0])]),
    ("If I had invested $1,000 in Nvidia a year ago, what would it be worth now?",
     [called("get_price_history", symbol="NVDA", period="1y"), says(r"would have been worth \*\*\$")]),
    ("How volatile is Tesla stock?", [called("get_price_history", symbol="TSLA"), says("volatility"),
                                      cites("Volatility")]),
    ("What's the highest price Apple hit in the last 6 months?",
     [called("get_price_history", symbol="AAPL", period="6mo"), says("high of")]),
    ("What's the ticker symbol for Coca-Cola?", [says(r"\*\*KO\*\*")]),
    ("How is the S&P 500 doing this year?", [called("get_price_history", symbol="SPY", period="ytd")]),
    ("What is the price of XYZQ?", [says("couldn't find", "XYZQ"), no_tools()]),
    ("Should I buy Tesla?", [says("can't tell you whether to buy"), called("get_price_history", symbol="TSLA")]),
    ("How do I read a stock quote?", [cites("How to read a stock quote")]),
    ("What does a negative beta mean?", [cites("Beta")]),
    ("Make a correlation analysis of AAPL MSFT GOOGL AMZN",
     [called("start_portfolio_analysis", symbols=["AAPL", "MSFT", "GOOGL", "AMZN"], analysis_type="correlation")]),
    ("How has Pfizer performed since 2020?", [called("get_price_history", symbol="PFE", period="10y"),
                                              says(r"^Since 2020 \(2020-01-02")]),
    ("Is Apple a tech company?", [called("get_company_profile", symbol="AAPL"), says("Technology")]),
    # An ordinary word is never called an unknown ticker: the answer says what has market data instead.
    ("What's the price of gold?", [says("only give market data for listed stocks"), not_says("stock listing for"),
                                   no_tools()]),
    ("If I put $5000 into Microsoft 5 years ago how much would I have?",
     [called("get_price_history", symbol="MSFT", period="5y"), says(r"\$5,000\.00")]),
    ("hi", [says("not a large language model"), no_tools()]),
    ("What's the weather like in Paris?", [says("not sure how to answer", "not a large language model")]),
    # Capitalised only because it opens the sentence, an everyday word is not a company; lower case, neither.
    ("Visa rules for a two week trip to japan, do i need one as a british citizen?", [no_tools()]),
    ("my cat keeps knocking the pins off my sewing table, how do i stop her?", [no_tools()]),
    ("Visa stock price?", [called("get_stock_quote", symbol="V")]),
]

FOLLOW_UPS = [
    [("What is AMD's price?", [called("get_stock_quote", symbol="AMD")]),
     ("and how did it do over the last month?", [called("get_price_history", symbol="AMD", period="1mo")]),
     ("compare it with Intel", [called("compare_stocks", symbols=["AMD", "INTC"])]),
     ("what about over 5 years?", [called("compare_stocks", symbols=["AMD", "INTC"], period="5y")]),
     ("which of them is bigger?", [called("get_company_profile", symbol="AMD"), says("the larger")])],
    [("What is AAPL stock price?", [called("get_stock_quote", symbol="AAPL")]),
     ("compare it with MSFT over the last year", [called("compare_stocks", symbols=["AAPL", "MSFT"], period="1y")]),
     ("what is a Sharpe ratio?", [cites("Sharpe ratio"), no_tools()]),
     ("And MSFT's market cap?", [called("get_company_profile", symbol="MSFT")])],
]


def _ask(client, message, conversation_id=None):
    body = {"message": message} | ({"conversation_id": conversation_id} if conversation_id else {})
    response = client.post("/api/chat", body, content_type="application/json")
    assert response.status_code == 200, (message, response.status_code, response.content[:500])
    return response.json()


def _failures(result, checks) -> list[str]:
    return [getattr(check, "__name__", "check") for check in checks if not check(result)]


def test_everyday_questions_are_answered_from_tools_and_knowledge(aws, knowledge_base, client, user):
    client.force_login(user)
    failed = {}
    for message, checks in QUESTIONS:
        result = _ask(client, message)
        if bad := _failures(result, checks):
            failed[message] = (bad, result["reply"][:300], [c["name"] for c in result["tool_calls"]])
    print(f"\neveryday questions: {len(QUESTIONS) - len(failed)}/{len(QUESTIONS)} answered correctly")
    assert not failed, failed


def test_follow_ups_understand_it_and_them(aws, knowledge_base, client, user):
    client.force_login(user)
    failed = {}
    for conversation in FOLLOW_UPS:
        conversation_id = None
        for message, checks in conversation:
            result = _ask(client, message, conversation_id)
            conversation_id = result["conversation_id"]
            if bad := _failures(result, checks):
                failed[message] = (bad, result["reply"][:300], [(c["name"], c["arguments"]) for c in result["tool_calls"]])
    assert not failed, failed
