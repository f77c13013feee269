"""Cards (quote, price history) and sources made from tool results, for any provider."""

from .tools import KNOWLEDGE_SOURCE


def quote_card(q: dict) -> dict:
    return {"type": "quote", "symbol": q["symbol"], "price": q["price"], "change": q.get("change"),
            "change_percent": q.get("change_percent"), "currency": q.get("currency") or "USD",
            "trading_day": q.get("latest_trading_day") or q.get("trading_day"), "source": q.get("source"),
            "as_of": q.get("as_of"), "demo": bool(q.get("demo"))}


def series_of(h: dict, points_key: str = "points", dates_key: str = "point_dates") -> dict:
    return {"symbol": h["symbol"], "points": h[points_key], "dates": h.get(dates_key) or [],
            "start_date": h["start_date"], "end_date": h["end_date"], "change_percent": h["change_percent"]}


def history_card(label: str, series: list[dict], data: dict, *, growth: bool) -> dict:
    return {"type": "history", "label": label, "growth": growth, "series": series,
            "start_date": series[0].get("start_date"), "end_date": series[0].get("end_date"),
            "source": data.get("source"), "as_of": data.get("as_of"), "demo": bool(data.get("demo"))}


def cards_from_result(name: str, data: dict) -> list[dict]:
    """The cards a tool result shows as (none for most tools)."""
    if name == "get_stock_quote":
        return [quote_card(data)]
    if name == "get_price_history":
        return [history_card(data.get("period", ""), [series_of(data)], data, growth=False)]
    if name == "compare_stocks" and data.get("period") != "1d":
        return [history_card(data.get("period", ""), [series_of(s, "growth", "growth_dates") for s in data["stocks"]], data,
                             growth=True)]
    if name == "compare_stocks":
        return [quote_card({**s, **{k: data.get(k) for k in ("source", "as_of", "demo")}}) for s in data["stocks"]]
    return []


def sources_from_result(name: str, data: dict) -> list[dict]:
    """What a tool result is evidence from: market data (with its time), documents, an analysis job."""
    if name == "search_knowledge":
        return [{"kind": "knowledge", "title": r["title"], "heading": r["heading"], "key": r["key"],
                 "version_id": r["version_id"], "url": r.get("url"), "source": KNOWLEDGE_SOURCE}
                for r in data.get("results", [])]
    if name == "start_portfolio_analysis":
        return [{"kind": "analysis", "title": "Portfolio analysis job", "url": data["url"], "as_of": data["as_of"]}]
    symbols = [s["symbol"] for s in data.get("stocks", [])] or [data.get("symbol")]
    return [{"kind": "market_data", "title": f"{data.get('source')} market data", "source": data.get("source"),
             "as_of": data.get("as_of"), "demo": bool(data.get("demo")), "symbols": [s for s in symbols if s]}]


def sources_merge(sources: list[dict], new: list[dict]) -> list[dict]:
    """Add ``new`` to ``sources``: one entry per document, one per market-data source (symbols gathered)."""
    for source in new:
        if source["kind"] == "knowledge" and any(s.get("key") == source["key"] for s in sources):
            continue
        same = next((s for s in sources if s["kind"] == "market_data" == source["kind"]
                     and s["source"] == source["source"]), None)
        if same:
            same["symbols"] = list(dict.fromkeys(same["symbols"] + source["symbols"]))
            continue
        sources.append(source)
    return sources
