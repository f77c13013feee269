"""The assistant's tools: plain functions with a JSON schema each, timed and reported to monitoring.

Every result is JSON-ready and carries ``source`` and ``as_of``; a tool that cannot answer raises ``ToolError``
with one readable line, which ``tool_run`` hands back as the tool's error rather than raising.
"""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from analysis import market_data
from analysis.market_data import MarketDataError
from analysis.services import AnalysisRequestError, AnalysisUnavailable, analysis_request
from knowledge.ranking import tokenize
from knowledge.selectors import document_url, knowledge_passages, knowledge_search
from monitoring import metrics

from .series import bars_summary, bars_window, chart_dates, chart_points, growth_points

logger = logging.getLogger(__name__)

MAX_COMPARE = 8
KNOWLEDGE_SOURCE = "StockTool knowledge base"


class ToolError(Exception):
    """A tool could not produce its result; the message is shown to the user."""


@dataclass
class ToolContext:
    user: Any = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict
    func: Callable[..., dict]

    def schema(self) -> dict:
        """The OpenAI function-calling form of this tool."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


@dataclass
class ToolResult:
    name: str
    arguments: dict
    ok: bool
    data: dict | None = None
    error: str = ""
    elapsed_ms: float = 0.0
    extra: dict = field(default_factory=dict)

    def record(self) -> dict:
        """What the conversation keeps about this call (no bulky data)."""
        out = {"name": self.name, "arguments": self.arguments, "ok": self.ok, "elapsed_ms": round(self.elapsed_ms, 2)}
        if self.data:
            out |= {k: self.data[k] for k in ("source", "as_of") if k in self.data}
        if self.error:
            out["error"] = self.error
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _labels(data: dict) -> dict:
    out = {"source": data.get("source"), "as_of": data.get("as_of"), "demo": bool(data.get("demo"))}
    if data.get("notice"):
        out["notice"] = data["notice"]
    return out


def _market(call: Callable[[], Any]):
    try:
        return call()
    except MarketDataError as exc:
        raise ToolError(str(exc)) from exc


# --- the tools ------------------------------------------------------------------------------------------------

def get_stock_quote(*, symbol: str, context: ToolContext | None = None) -> dict:
    return _market(lambda: market_data.quote_get(symbol=symbol))


def get_price_history(*, symbol: str, period: str = "1y", days: int | None = None, start_date: str | None = None,
                      end_date: str | None = None, context: ToolContext | None = None) -> dict:
    series = _market(lambda: market_data.history_series_get(symbol=symbol, period=period))
    bars = bars_window(series["bars"], days, start_date, end_date)
    if len(bars) < 2:
        raise ToolError(f"not enough price history for {series['symbol']} over that period")
    return {
        "symbol": series["symbol"], "period": series["period"], "days": days, **_labels(series),
        "window": {"start": start_date, "end": end_date} if start_date or end_date else None,
        **bars_summary(bars),
        "points": chart_points([float(bar["close"]) for bar in bars]), "point_dates": chart_dates(bars),
    }


def compare_stocks(*, symbols: list[str], period: str = "1y", days: int | None = None, start_date: str | None = None,
                   end_date: str | None = None, context: ToolContext | None = None) -> dict:
    if not 2 <= len(symbols) <= MAX_COMPARE:
        raise ToolError(f"compare 2 to {MAX_COMPARE} symbols")
    stocks, errors, labels = [], [], {}
    for symbol in symbols:
        try:
            if period == "1d":
                quote = _market(lambda s=symbol: market_data.quote_get(symbol=s))
                labels = labels or _labels(quote)
                stocks.append({"symbol": quote["symbol"], "price": quote["price"], "change": quote["change"],
                               "change_percent": round(quote["change_percent"], 2),
                               "trading_day": quote.get("latest_trading_day")})
                continue
            series = _market(lambda s=symbol: market_data.history_series_get(symbol=s, period=period))
            bars = bars_window(series["bars"], days, start_date, end_date)
            if len(bars) < 2:
                raise ToolError(f"not enough price history for {series['symbol']} over that period")
            labels = labels or _labels(series)
            stocks.append({"symbol": series["symbol"], **bars_summary(bars), "growth": growth_points(bars),
                           "growth_dates": chart_dates(bars)})
        except ToolError as exc:
            errors.append({"symbol": symbol, "error": str(exc)})
    if not stocks:
        raise ToolError("; ".join(e["error"] for e in errors))
    ranked = sorted(stocks, key=lambda s: s["change_percent"], reverse=True)
    return {"period": period, "days": days, "start_date": start_date, "end_date": end_date, "stocks": stocks, "best": ranked[0]["symbol"],
            "worst": ranked[-1]["symbol"], "errors": errors, **labels}


def get_company_profile(*, symbol: str, context: ToolContext | None = None) -> dict:
    return _market(lambda: market_data.profile_get(symbol=symbol))


def search_symbols(*, query: str, context: ToolContext | None = None) -> dict:
    matches = _market(lambda: market_data.symbol_search(query=query))
    labels = _labels(matches[0]) if matches else {"source": market_data.provider_get().name, "as_of": _now()}
    keep = ("symbol", "name", "exchange", "type", "region", "match_score")
    return {"query": query, "matches": [{k: m.get(k) for k in keep} for m in matches[:5]], **labels}


def search_knowledge(*, query: str, limit: int = 3, context: ToolContext | None = None) -> dict:
    hits = knowledge_search(query=query, limit=max(1, min(int(limit), 8)))
    wanted = set(tokenize(query))
    results = []
    for hit in hits:
        title_terms = set(tokenize(hit["title"]))
        # The document named by the question ("what is a Sharpe ratio") answers with its opening passage.
        hit["title_match"] = bool(wanted and title_terms and (title_terms <= wanted or wanted <= title_terms))
        if hit["title_match"]:
            intro = _intro_passage(hit["document_id"])
            if intro:
                hit["heading"], hit["text"], hit["passage"] = intro[1], intro[2], 0
        hit["url"] = document_url(document_id=hit["document_id"], passage=hit["passage"])
        results.append({k: hit[k] for k in ("title", "heading", "text", "score", "key", "version_id", "passage",
                                             "title_match", "document_id", "url")})
    results.sort(key=lambda r: not r["title_match"])
    return {"query": query, "results": results, "source": KNOWLEDGE_SOURCE, "as_of": _now()}


INTRO_WORDS = 90


def _intro_passage(document_id):
    """The document's opening passage, with the next one when the opening is short (the formula, usually)."""
    passages = knowledge_passages(document_ids=[document_id]).get(document_id, [])[:2]
    if not passages or passages[0]["passage"] != 0:
        return None
    heading, text = passages[0]["heading"], passages[0]["text"]
    if len(text.split()) < INTRO_WORDS and len(passages) > 1:
        next_heading, next_text = passages[1]["heading"], passages[1]["text"]
        text = f"{text}\n\n**{next_heading}**\n\n{next_text}" if next_heading != heading else f"{text}\n\n{next_text}"
    return 0, heading, text


def start_portfolio_analysis(*, symbols: list[str], weights: list[float] | None = None,
                             analysis_type: str = "risk_assessment", period: str = "1y",
                             context: ToolContext | None = None) -> dict:
    user = context.user if context else None
    if user is None or not getattr(user, "is_authenticated", False):
        raise ToolError("log in to run a portfolio analysis")
    try:
        job = analysis_request(user=user, symbols=symbols, weights=weights, analysis_type=analysis_type,
                               period=period)
    except (AnalysisRequestError, AnalysisUnavailable) as exc:
        raise ToolError(str(exc)) from exc
    return {"job_id": str(job.id), "status": job.status, "url": f"/analysis/{job.id}/", "symbols": job.symbols,
            "weights": job.weights, "analysis_type": job.analysis_type, "period": job.period,
            "source": "StockTool analysis queue", "as_of": job.created_at.isoformat().replace("+00:00", "Z")}


# --- registry -------------------------------------------------------------------------------------------------

_SYMBOL = {"type": "string", "description": "A ticker symbol such as AAPL or BRK.B", "maxLength": 12}
_PERIOD = {"type": "string", "enum": list(market_data.PERIODS), "description": "The period of daily history"}
_DAYS = {"type": "integer", "minimum": 2, "maximum": 3660,
         "description": "Optional: keep only the last N calendar days of the period"}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "maxLength": 10,
         "description": "Optional ISO date (YYYY-MM-DD) bounding the bars kept from the period"}
_WINDOW = {"days": _DAYS, "start_date": _DATE, "end_date": _DATE}

TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    Tool("get_stock_quote", "Latest price quote of a stock: price, change since the previous close, day range, volume.",
         {"type": "object", "properties": {"symbol": _SYMBOL}, "required": ["symbol"]}, get_stock_quote),
    Tool("get_price_history", "Daily price history of one stock over a period: change, high, low, volatility, "
         "maximum drawdown, Sharpe ratio, and chart points.",
         {"type": "object", "properties": {"symbol": _SYMBOL, "period": _PERIOD, **_WINDOW},
          "required": ["symbol"]}, get_price_history),
    Tool("compare_stocks", "Compare 2-8 stocks over a period: change, volatility, drawdown; best and worst.",
         {"type": "object", "properties": {
             "symbols": {"type": "array", "items": _SYMBOL, "minItems": 2, "maxItems": MAX_COMPARE},
             "period": _PERIOD, **_WINDOW}, "required": ["symbols"]}, compare_stocks),
    Tool("get_company_profile", "Company facts: name, exchange, sector, industry, market cap, description, beta, "
         "52-week range.",
         {"type": "object", "properties": {"symbol": _SYMBOL}, "required": ["symbol"]}, get_company_profile),
    Tool("search_symbols", "Find ticker symbols by company name or partial ticker.",
         {"type": "object", "properties": {"query": {"type": "string", "maxLength": 64}}, "required": ["query"]},
         search_symbols),
    Tool("search_knowledge", "Search StockTool's knowledge base of financial terms and methods; cite the titles.",
         {"type": "object", "properties": {"query": {"type": "string", "maxLength": 500},
                                           "limit": {"type": "integer", "minimum": 1, "maximum": 8}},
          "required": ["query"]}, search_knowledge),
    Tool("start_portfolio_analysis", "Queue a portfolio analysis job (risk, performance or correlation) and return "
         "its id and page URL.",
         {"type": "object", "properties": {
             "symbols": {"type": "array", "items": _SYMBOL, "minItems": 1, "maxItems": 25},
             "weights": {"type": "array", "items": {"type": "number", "minimum": 0},
                         "description": "One weight per symbol, any scale (percentages are fine); equal if omitted"},
             "analysis_type": {"type": "string", "enum": ["risk_assessment", "performance", "correlation"]},
             "period": _PERIOD}, "required": ["symbols"]}, start_portfolio_analysis),
)}


def tool_schemas() -> list[dict]:
    return [tool.schema() for tool in TOOLS.values()]


def arguments_check(tool: Tool, arguments) -> dict:
    """Return the arguments if they fit the tool's schema (types, enums, required), else raise ToolError."""
    if not isinstance(arguments, dict):
        raise ToolError(f"{tool.name}: arguments must be an object")
    props, required = tool.parameters["properties"], tool.parameters.get("required", [])
    missing = [name for name in required if arguments.get(name) in (None, "", [])]
    if missing:
        raise ToolError(f"{tool.name}: missing {', '.join(missing)}")
    unknown = sorted(set(arguments) - set(props))
    if unknown:
        raise ToolError(f"{tool.name}: unexpected argument {', '.join(unknown)}")
    for name, value in arguments.items():
        if value is not None:
            _check_value(f"{tool.name}.{name}", props[name], value)
    return {k: v for k, v in arguments.items() if v is not None}


_TYPES = {"string": str, "integer": int, "number": (int, float), "array": list, "object": dict}


def _check_value(where: str, schema: dict, value) -> None:
    expected = _TYPES[schema["type"]]
    if not isinstance(value, expected) or (isinstance(value, bool) and schema["type"] != "boolean"):
        raise ToolError(f"{where} must be a {schema['type']}")
    if "enum" in schema and value not in schema["enum"]:
        raise ToolError(f"{where} must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(value, str) and len(value) > schema.get("maxLength", 10_000):
        raise ToolError(f"{where} is too long")
    if isinstance(value, str) and "pattern" in schema and not re.match(schema["pattern"], value):
        raise ToolError(f"{where} is not in the expected form")
    if isinstance(value, int | float) and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        raise ToolError(f"{where} is out of range")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", 1000):
            raise ToolError(f"{where} must have {schema.get('minItems', 0)} to {schema.get('maxItems')} items")
        for item in value:
            _check_value(where, schema["items"], item)


def tool_run(name: str, arguments: dict, *, context: ToolContext | None = None) -> ToolResult:
    """Run one tool: check its arguments, time it, report ToolExecutionTime, and never raise."""
    started = time.perf_counter()
    tool = TOOLS.get(name)
    try:
        if tool is None:
            raise ToolError(f"there is no tool called {name!r}")
        data = tool.func(**arguments_check(tool, arguments), context=context)
        ok, error = True, ""
    except ToolError as exc:
        data, ok, error = None, False, str(exc)
    except Exception as exc:  # a bug or an outage must not end the turn: the answer says the tool failed
        logger.exception("tool %s failed", name)
        data, ok, error = None, False, f"{name} failed ({type(exc).__name__})"
    elapsed = (time.perf_counter() - started) * 1000
    metrics.track_tool(name if tool else "unknown", elapsed, ok)
    return ToolResult(name, dict(arguments) if isinstance(arguments, dict) else {}, ok, data, error, elapsed)
