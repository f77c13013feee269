"""The assistant's tools against the emulator: results carry their source and time, failures are readable
tool errors, every run is reported as ToolExecutionTime."""

import json
import re

import pytest
from django.conf import settings

from analysis.models import AnalysisJob
from conversations.assistant import tools
from conversations.assistant.engine import resolve
from monitoring import metrics
from monitoring.tests.helpers import statistics

pytestmark = pytest.mark.django_db
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def run(name, **arguments):
    return tools.tool_run(name, arguments, context=tools.ToolContext())


def test_a_quote_names_its_source_and_time(aws):
    result = run("get_stock_quote", symbol="aapl")
    assert result.ok and result.data["symbol"] == "AAPL" and result.data["price"] > 0
    assert result.data["source"] == "demo" and ISO.match(result.data["as_of"]) and result.data["demo"] is True
    assert result.record() | {"elapsed_ms": 0} == {"name": "get_stock_quote", "arguments": {"symbol": "aapl"},
                                                   "ok": True, "elapsed_ms": 0, "source": "demo",
                                                   "as_of": result.data["as_of"]}


def test_price_history_is_summarised_and_can_be_narrowed(aws):
    year = run("get_price_history", symbol="MSFT", period="1y").data
    assert year["trading_days"] > 240 and len(year["points"]) == 40
    assert year["change_percent"] == pytest.approx((year["end_close"] / year["start_close"] - 1) * 100, abs=0.01)
    assert year["low"] <= min(year["points"]) and year["high"] >= max(year["points"])
    # Each chart point has its trading day (the chart's dates, on its axis and on hover).
    dates = year["point_dates"]
    assert len(dates) == 40 and dates == sorted(set(dates))
    assert (dates[0], dates[-1]) == (year["start_date"], year["end_date"])
    assert year["volatility_percent"] > 0 and year["max_drawdown_percent"] <= 0
    ten_days = run("get_price_history", symbol="MSFT", period="1mo", days=10).data
    assert ten_days["trading_days"] <= 8
    window = run("get_price_history", symbol="MSFT", period="5y", start_date="2024-01-01", end_date="2024-12-31").data
    assert window["start_date"].startswith("2024-01") and window["end_date"].startswith("2024-12")


def test_compare_ranks_the_stocks_and_reports_the_missing_one(aws):
    result = run("compare_stocks", symbols=["AAPL", "NVDA", "ZZZZ"], period="6mo")
    data = result.data
    assert result.ok and [s["symbol"] for s in data["stocks"]] == ["AAPL", "NVDA"]
    ranked = sorted(data["stocks"], key=lambda s: s["change_percent"])
    assert (data["best"], data["worst"]) == (ranked[-1]["symbol"], ranked[0]["symbol"])
    assert data["errors"][0]["symbol"] == "ZZZZ" and "unknown symbol" in data["errors"][0]["error"]
    assert data["source"] == "demo" and data["as_of"]
    for stock in data["stocks"]:
        assert len(stock["growth_dates"]) == len(stock["growth"]) and stock["growth"][0] == 0
        assert (stock["growth_dates"][0], stock["growth_dates"][-1]) == (stock["start_date"], stock["end_date"])
    today = run("compare_stocks", symbols=["AAPL", "MSFT"], period="1d").data
    assert {"price", "change_percent"} <= set(today["stocks"][0])


def test_a_company_profile(aws):
    data = run("get_company_profile", symbol="NVDA").data
    assert data["name"] == "NVIDIA Corporation" and data["sector"] == "Technology" and data["market_cap"] > 0
    assert data["source"] == "demo" and data["as_of"]


def test_knowledge_search_puts_the_named_document_first_with_its_opening(aws, knowledge_base):
    data = run("search_knowledge", query="Sharpe ratio").data
    first = data["results"][0]
    assert first["title"] == "Sharpe ratio" and first["title_match"] and first["passage"] == 0
    assert first["text"].startswith("The Sharpe ratio measures risk-adjusted return")
    assert data["source"] == tools.KNOWLEDGE_SOURCE and data["as_of"]


def test_a_portfolio_analysis_is_queued_for_the_user(aws, user):
    result = tools.tool_run("start_portfolio_analysis", {"symbols": ["AAPL", "MSFT"], "weights": [60, 40]},
                            context=tools.ToolContext(user=user))
    job = AnalysisJob.objects.get(pk=result.data["job_id"])
    assert job.user == user and job.symbols == ["AAPL", "MSFT"] and job.weights == [60, 40]
    assert result.data["url"] == f"/analysis/{job.id}/" and result.data["status"] == "queued"


def test_an_analysis_needs_a_user_and_valid_parameters(aws, user):
    assert run("start_portfolio_analysis", symbols=["AAPL"]).error == "log in to run a portfolio analysis"
    bad = tools.tool_run("start_portfolio_analysis", {"symbols": ["AAPL", "AAPL"]}, context=tools.ToolContext(user))
    assert not bad.ok and "only once" in bad.error
    assert AnalysisJob.objects.count() == 0


@pytest.mark.parametrize(("name", "arguments", "error"), [
    ("get_stock_quote", {}, "missing symbol"),
    ("get_stock_quote", {"symbol": 42}, "must be a string"),
    ("get_stock_quote", {"symbol": "AAPL", "extra": 1}, "unexpected argument"),
    ("get_price_history", {"symbol": "AAPL", "period": "7y"}, "must be one of"),
    ("get_price_history", {"symbol": "AAPL", "days": 1}, "out of range"),
    ("get_price_history", {"symbol": "AAPL", "start_date": "yesterday"}, "expected form"),
    ("compare_stocks", {"symbols": ["AAPL"]}, "must have 2 to 8 items"),
    ("get_stock_quote", {"symbol": "<script>"}, "is not a ticker"),
    ("get_stock_quote", {"symbol": "ZZZZ"}, "unknown symbol 'ZZZZ'"),
    ("no_such_tool", {}, "there is no tool called"),
])
def test_bad_calls_are_readable_tool_errors_not_exceptions(aws, name, arguments, error):
    result = tools.tool_run(name, arguments)
    assert not result.ok and error in result.error and result.data is None


def test_every_tool_has_a_function_schema():
    schemas = tools.tool_schemas()
    assert {s["function"]["name"] for s in schemas} == set(tools.TOOLS) >= {
        "get_stock_quote", "get_price_history", "compare_stocks", "get_company_profile", "search_knowledge",
        "start_portfolio_analysis"}
    for schema in schemas:
        assert schema["type"] == "function" and schema["function"]["parameters"]["type"] == "object"
        json.dumps(schema)


def test_names_resolve_to_whole_words_only(aws):
    assert resolve.name_resolve("apple") == "AAPL" and resolve.name_resolve("coca-cola") == "KO"
    assert resolve.name_resolve("home depot") == "HD" and resolve.name_resolve("google") == "GOOGL"
    assert resolve.name_resolve("gold") is None  # "Goldman Sachs" starts with it, but it is not its name
    assert resolve.symbol_resolve("BRK.B") == "BRK.B" and resolve.symbol_resolve("ZZZZ") is None


def test_an_everyday_word_alone_is_neither_a_ticker_nor_a_word_inside_a_name(aws):
    # "my cat keeps knocking the pins off", "when did moody's strip america of its aaa?"
    assert resolve.name_resolve("cat") is None and resolve.name_resolve("america") is None
    assert resolve.symbol_resolve("CAT") == "CAT"  # written as a ticker, it is one
    assert resolve.name_resolve("bank of america") == "BAC"  # the whole name
    # a ticker typed in lower case, a name's first word, an alias
    assert resolve.name_resolve("nvda") == "NVDA" and resolve.name_resolve("amd") == "AMD"
    assert resolve.name_resolve("walmart") == "WMT" and resolve.name_resolve("disney") == "DIS"


def test_tool_runs_reach_cloudwatch_as_tool_execution_time(aws):
    dims = {"Tool": "get_company_profile", "Success": "true"}
    metrics.flush()  # what earlier tests recorded
    before = statistics(settings.CLOUDWATCH_NAMESPACE, "ToolExecutionTime", dims)["SampleCount"]
    for _ in range(3):
        assert run("get_company_profile", symbol="KO").ok
    assert not run("get_company_profile", symbol="ZZZZ").ok
    metrics.flush()
    after = statistics(settings.CLOUDWATCH_NAMESPACE, "ToolExecutionTime", dims)
    assert after["SampleCount"] - before >= 3 and after["Maximum"] > 0
    failed = statistics(settings.CLOUDWATCH_NAMESPACE, "ToolExecutionTime", {"Tool": "get_company_profile",
                                                                             "Success": "false"})
    assert failed["SampleCount"] >= 1
