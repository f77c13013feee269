"""Answers from market data: quotes, changes, histories, highs and lows, risk, comparisons, company facts,
what an investment would be worth, portfolio analyses, tickers, and the answer to a request for advice."""

import re
from collections.abc import Callable

from .. import formatting as fmt
from ..cards import history_card, quote_card, series_of
from . import verdicts
from .knowledge import first_sentences, knowledge_hit
from .periods import period_named
from .replies import (
    EXAMPLES,
    MAX_SYMBOLS_PER_ANSWER,
    NOT_AN_LLM,
    Answer,
    State,
    failed,
    period_args,
    unknown_note,
)


def answer_quote(state: State):
    parts, shown = [], []
    for symbol in state.intent.symbols[:MAX_SYMBOLS_PER_ANSWER]:
        result = yield from state.tool("get_stock_quote", symbol=symbol)
        if not result.ok:
            parts.append(failed(result, f"a quote for {symbol}"))
            continue
        q = result.data
        shown.append(q)
        card = quote_card(q)
        month = yield from state.tool("get_price_history", symbol=q["symbol"], period="1mo")
        if month.ok:  # the card's sparkline: the last month of closes
            card |= {"points": month.data["points"], "point_dates": month.data.get("point_dates") or [],
                     "points_label": "last month",
                     "month_change_percent": month.data["change_percent"]}
        state.cards.append(card)
        cur = q.get("currency")
        parts.append(
            f"**{q['symbol']}** last traded at **{fmt.money(q['price'], cur)}** (as of {fmt.as_of(q.get('as_of'))}), "
            f"{_move_words(q.get('change'), q.get('change_percent'), cur)} from the previous close of "
            f"{fmt.money(q.get('previous_close'), cur)}.\n\n"
            f"Trading day {q.get('latest_trading_day') or 'n/a'}: open {fmt.money(q.get('open'), cur)}, "
            f"day range {fmt.money(q.get('low'), cur)} – {fmt.money(q.get('high'), cur)}, "
            f"volume {fmt.big_number(q.get('volume'))} shares."
            + (f" Over the last month it {_moved(month.data['change'], month.data['change_percent'])}."
               if month.ok else ""))
    text = "\n\n".join(parts + unknown_note(state))
    if shown:
        text += "\n\n" + fmt.source_line(shown[0])
    return state.answer(text, [q["symbol"] for q in shown] or None)


def _moved(change, change_percent, *, bold: bool = False) -> str:
    """ "rose 4.23%", "fell 1.50%", "was flat": the verb carries the sign, so the figure has none."""
    word = fmt.direction(change)
    if word == "was flat" or change_percent is None:
        return word
    figure = fmt.percent(abs(change_percent))
    return f"{word} **{figure}**" if bold else f"{word} {figure}"


def _move_words(change, change_percent, currency) -> str:
    if change is None:
        return "unchanged"
    if abs(change) < 1e-9:
        return "unchanged"
    word = "up" if change > 0 else "down"
    return f"{word} {fmt.money(abs(change), currency)} ({fmt.signed_percent(change_percent)})"


def _history(state: State, symbol: str):
    result = yield from state.tool("get_price_history", symbol=symbol, **period_args(state.intent))
    return result


def _each_history(state: State, describe):
    """Fetch each asked symbol's history, add its chart card, and describe it: (parts, histories shown)."""
    parts, shown = [], []
    for symbol in state.intent.symbols[:MAX_SYMBOLS_PER_ANSWER]:
        result = yield from _history(state, symbol)
        if not result.ok:
            parts.append(failed(result, f"the price history of {symbol}"))
            continue
        h = result.data
        shown.append(h)
        state.cards.append(history_card(state.intent.period.label, [series_of(h)], h, growth=False))
        parts.append(describe(h))
    return parts, shown


def _history_answer(describe: Callable[[str, dict], str]):
    """A writer that describes each asked-for stock's history over the question's period."""

    def answer(state: State):
        label = state.intent.period.label
        parts, shown = yield from _each_history(state, lambda h: describe(label, h))
        return _closing(state, parts, shown)

    return answer


answer_change = _history_answer(lambda label, h: (
    f"{fmt.over(label)} ({h['start_date']} to {h['end_date']}), **{h['symbol']}** "
    f"{_moved(h['change'], h['change_percent'], bold=True)}, from "
    f"{fmt.money(h['start_close'])} to {fmt.money(h['end_close'])} ({fmt.signed_money(h['change'])}).\n\n"
    f"In that time it ranged from a low of {fmt.money(h['low'])} ({h['low_date']}) to a high of "
    f"{fmt.money(h['high'])} ({h['high_date']})."))

answer_history = _history_answer(lambda label, h: (
    f"**{h['symbol']}** over {label} ({h['trading_days']} trading days, {h['start_date']} to "
    f"{h['end_date']}): {fmt.money(h['start_close'])} → {fmt.money(h['end_close'])} "
    f"(**{fmt.signed_percent(h['change_percent'])}**); high {fmt.money(h['high'])} on {h['high_date']}, "
    f"low {fmt.money(h['low'])} on {h['low_date']}; annualised volatility "
    f"{fmt.percent(h['volatility_percent'])}. The chart shows the daily closes."))

answer_extreme = _history_answer(lambda label, h: (
    f"{fmt.over(label)} ({h['start_date']} to {h['end_date']}), **{h['symbol']}** reached a high "
    f"of **{fmt.money(h['high'])}** on {h['high_date']} and a low of **{fmt.money(h['low'])}** on "
    f"{h['low_date']}. It closed the period at {fmt.money(h['end_close'])}."))


def _risk_text(h: dict, label: str) -> str:
    sharpe = "n/a" if h["sharpe_ratio"] is None else verdicts.fixed(h["sharpe_ratio"], 2)
    return (f"{fmt.over(label)} ({h['start_date']} to {h['end_date']}), **{h['symbol']}** had an annualised "
            f"volatility of **{fmt.percent(h['volatility_percent'])}**, a maximum drawdown of "
            f"**{fmt.percent(h['max_drawdown_percent'])}** and a Sharpe ratio of **{sharpe}** "
            f"(return {fmt.signed_percent(h['change_percent'])}).")


def answer_risk(state: State):
    label = state.intent.period.label
    parts, shown = yield from _each_history(state, lambda h: _risk_text(h, label))
    concept = ("sharpe ratio" if "sharpe" in state.low else "maximum drawdown" if "drawdown" in state.low
               else "sortino ratio" if "sortino" in state.low else "volatility")
    hit = yield from knowledge_hit(state, concept)
    if hit and parts:
        parts.append(f"{first_sentences(hit['text'], 2)} (from *{hit['title']}*)")
    return _closing(state, parts, shown)


def _closing(state: State, parts: list[str], shown: list[dict]) -> Answer:
    text = "\n\n".join(parts + unknown_note(state))
    if shown:
        text += "\n\n" + fmt.source_line(shown[0])
    return state.answer(text, [h["symbol"] for h in shown] or None)


def answer_compare(state: State):
    intent = state.intent
    symbols = intent.symbols[:8]
    data_fields = [f for f in intent.fields if f not in ("description", "name", "country", "unsupported")]
    question = verdicts.asked(state.turn.message, symbols)
    if question and question.metric.source == "profile" and question.metric.name not in data_fields:
        data_fields = [question.metric.name] + [f for f in data_fields if f != "market_cap"]
    if question and question.metric.source == "history" and intent.period and intent.period.code == "1d":
        intent.period = period_named("1y")  # "which is more volatile" is not a question about today
    if data_fields:
        return (yield from _compare_profiles(state, symbols, data_fields, question))
    result = yield from state.tool("compare_stocks", symbols=symbols, **period_args(intent))
    if not result.ok:
        return state.answer(failed(result, "the comparison") + "\n\n" + "\n\n".join(unknown_note(state)))
    c = result.data
    if c["period"] == "1d":
        rows = [[f"**{s['symbol']}**", fmt.money(s["price"]), fmt.signed_money(s["change"]),
                 fmt.signed_percent(s["change_percent"])] for s in c["stocks"]]
        text = (f"Today's moves: **{c['best']}** is the strongest, **{c['worst']}** the weakest.\n\n"
                + fmt.table(["Stock", "Price", "Change", "Change %"], rows))
        for s in c["stocks"]:
            state.cards.append(quote_card({**s, **{k: c.get(k) for k in ("source", "as_of", "demo")},
                                            "latest_trading_day": s.get("trading_day")}))
    else:
        stocks = c["stocks"]
        first = stocks[0]
        ordered = sorted(stocks, key=lambda s: s["change_percent"], reverse=True)
        ranking = ", ".join(f"**{s['symbol']}** {fmt.signed_percent(s['change_percent'])}" for s in ordered)
        rows = [[f"**{s['symbol']}**", fmt.signed_percent(s["change_percent"]),
                 f"{fmt.money(s['start_close'])} → {fmt.money(s['end_close'])}", fmt.percent(s["volatility_percent"]),
                 fmt.percent(s["max_drawdown_percent"])] for s in ordered]
        text = (f"{fmt.over(intent.period.label)} ({first['start_date']} to {first['end_date']}): {ranking}. "
                f"**{c['best']}** did best and **{c['worst']}** did worst.\n\n"
                + fmt.table(["Stock", "Change", "Start → end", "Volatility (annualised)", "Max drawdown"], rows))
        lead = question and verdicts.verdict(question, stocks, period_words=_period_words(intent.period.label),
                                             source=c.get("source") or "")
        if lead:
            text = f"{lead}\n\n{text}"
        state.cards.append(history_card(intent.period.label, [
            {"symbol": s["symbol"], "points": s["growth"], "dates": s.get("growth_dates") or [],
             "change_percent": s["change_percent"], "start_date": s["start_date"], "end_date": s["end_date"]}
            for s in stocks], c, growth=True))
    notes = [f"No data for {e['symbol']}: {e['error']}." for e in c.get("errors", [])] + unknown_note(state)
    text = "\n\n".join([text] + notes) + "\n\n" + fmt.source_line(c)
    return state.answer(text, [s["symbol"] for s in c["stocks"]])


_FIELD_LABELS = {"market_cap": "Market cap", "sector": "Sector", "industry": "Industry", "exchange": "Exchange",
                 "beta": "Beta", "range_52": "52-week range", "shares": "Shares outstanding",
                 "average_volume": "Average volume", "pe_ratio": "P/E ratio", "dividend_yield": "Dividend yield"}


def _field_value(p: dict, name: str) -> str:
    cur = p.get("currency")
    values = {
        "market_cap": lambda: fmt.big_money(p.get("market_cap"), cur),
        "sector": lambda: p.get("sector") or "n/a", "industry": lambda: p.get("industry") or "n/a",
        "exchange": lambda: p.get("exchange") or "n/a",
        "beta": lambda: "n/a" if p.get("beta") is None else verdicts.fixed(p["beta"], 2),
        "range_52": lambda: f"{fmt.money(p.get('week_52_low'), cur)} – {fmt.money(p.get('week_52_high'), cur)}",
        "shares": lambda: fmt.big_number(p.get("shares_outstanding")),
        "average_volume": lambda: fmt.big_number(p.get("average_volume")),
        "pe_ratio": lambda: "n/a" if p.get("pe_ratio") is None else verdicts.fixed(p["pe_ratio"], 1),
        "dividend_yield": lambda: "n/a" if p.get("dividend_yield") is None else fmt.percent(p["dividend_yield"] * 100),
    }
    return values[name]()


def _period_words(label: str) -> str:
    """ "the last year" as the end of a sentence: "over the last year"."""
    return fmt.over(label)[0].lower() + fmt.over(label)[1:]


def _compare_profiles(state: State, symbols: list[str], fields: list[str], question=None):
    profiles, notes = [], []
    for symbol in symbols:
        result = yield from state.tool("get_company_profile", symbol=symbol)
        if result.ok:
            profiles.append(result.data)
        else:
            notes.append(failed(result, f"the profile of {symbol}"))
    if not profiles:
        return state.answer("\n\n".join(notes + unknown_note(state)))
    rows = [[f"**{p['symbol']}**", p.get("name") or ""] + [_field_value(p, f) for f in fields] for p in profiles]
    text = fmt.table(["Stock", "Company"] + [_FIELD_LABELS[f] for f in fields], rows)
    lead = question and verdicts.verdict(question, profiles, source=profiles[0].get("source") or "")
    if lead:
        text = lead + "\n\n" + text
    elif "market_cap" in fields and len(profiles) > 1 and all(p.get("market_cap") for p in profiles):
        biggest = max(profiles, key=lambda p: p["market_cap"])
        smallest = min(profiles, key=lambda p: p["market_cap"])
        big, small = (fmt.big_money(p["market_cap"], p.get("currency")) for p in (biggest, smallest))
        if len(profiles) == 2:
            lead = (f"**{biggest['name']} ({biggest['symbol']})** is the larger by market capitalisation: {big}, "
                    f"against {small} for **{smallest['name']} ({smallest['symbol']})**.")
        else:
            lead = (f"By market capitalisation, **{biggest['name']} ({biggest['symbol']})** is the largest at {big}, "
                    f"and **{smallest['symbol']}** the smallest at {small}.")
        text = lead + "\n\n" + text
    text = "\n\n".join([text] + notes + unknown_note(state)) + "\n\n" + fmt.source_line(profiles[0])
    return state.answer(text, [p["symbol"] for p in profiles])


def answer_profile(state: State):
    parts, shown = [], []
    for symbol in state.intent.symbols[:MAX_SYMBOLS_PER_ANSWER]:
        result = yield from state.tool("get_company_profile", symbol=symbol)
        if not result.ok:
            parts.append(failed(result, f"the company profile of {symbol}"))
            continue
        p = result.data
        shown.append(p)
        parts.append(_profile_text(p, state.intent.fields))
    missing = [f for f in ("pe_ratio", "dividend_yield") if f in state.intent.fields
               and any(p.get(f) is None for p in shown)]
    if missing:
        hit = yield from knowledge_hit(state, "price to earnings ratio" if missing[0] == "pe_ratio" else "dividend yield")
        if hit:
            parts.append(f"{first_sentences(hit['text'], 2)} (from *{hit['title']}*)")
    text = "\n\n".join(parts + unknown_note(state))
    if shown:
        text += "\n\n" + fmt.source_line(shown[0])
    return state.answer(text, [p["symbol"] for p in shown] or None)


def _profile_text(p: dict, fields: list[str]) -> str:
    cur = p.get("currency")
    head = f"**{p.get('name') or p['symbol']} ({p['symbol']})**"
    wanted = [f for f in fields if f in _FIELD_LABELS]
    lines = []
    if "unsupported" in fields:
        lines.append("I don't have data on executives, employees, revenue, earnings reports or news: only prices "
                     "and the company profile below.")
    if not wanted:
        lines.append(f"{head} is listed on {p.get('exchange') or 'n/a'}, in the {p.get('sector') or 'n/a'} sector "
                     f"({p.get('industry') or 'n/a'}).")
        if p.get("description"):
            lines.append(fmt.shorten(p["description"], 600))
        lines.append(f"Market cap: {fmt.big_money(p.get('market_cap'), cur)} · beta {_field_value(p, 'beta')} · "
                     f"52-week range {_field_value(p, 'range_52')}.")
        return "\n\n".join(lines)
    for name in wanted:
        value = _field_value(p, name)
        if value == "n/a":
            lines.append(f"The {p.get('source')} data has no {_FIELD_LABELS[name].lower()} for {head}.")
        elif name == "market_cap":
            lines.append(f"{head} has a market capitalisation of **{value}** "
                         f"({fmt.big_number(p.get('shares_outstanding'))} shares outstanding).")
        elif name == "beta":
            lines.append(f"{head} has a beta of **{value}**: it has tended to move about {value}× as much as the "
                         "overall market.")
        elif name in ("sector", "industry"):
            lines.append(f"{head} is in the **{p.get('sector') or 'n/a'}** sector, industry "
                         f"**{p.get('industry') or 'n/a'}**.")
        else:
            lines.append(f"{_FIELD_LABELS[name]} of {head}: **{value}**.")
    return "\n\n".join(dict.fromkeys(lines))


def answer_growth(state: State):
    intent = state.intent
    symbol = intent.symbols[0]
    result = yield from _history(state, symbol)
    if not result.ok:
        return state.answer(failed(result, f"the price history of {symbol}"))
    h = result.data
    state.cards.append(history_card(intent.period.label, [series_of(h)], h, growth=False))
    worth = intent.amount * h["end_close"] / h["start_close"]
    gain = worth - intent.amount
    text = (f"If you had invested **{fmt.money(intent.amount)}** in **{h['symbol']}** at the close on "
            f"{h['start_date']} ({fmt.money(h['start_close'])} a share), it would have been worth "
            f"**{fmt.money(worth)}** at the close on {h['end_date']} ({fmt.money(h['end_close'])}): "
            f"{'a gain' if gain >= 0 else 'a loss'} of {fmt.money(abs(gain))} "
            f"({fmt.signed_percent(h['change_percent'])}) over {intent.period.label}. This counts price moves "
            f"only, before dividends, fees and taxes.")
    return _closing(state, [text], [h])


def answer_portfolio(state: State):
    intent = state.intent
    if not intent.symbols:
        return state.answer("Tell me what the portfolio holds and I'll queue an analysis, for example: “Analyse my "
                            "portfolio of 50% AAPL 30% MSFT 20% NVDA”. Without weights, the holdings count equally.")
    kind = ("performance" if re.search(r"\bperformance\b|\breturns?\b", state.low)
            else "correlation" if "correlat" in state.low else "risk_assessment")
    args = {"symbols": intent.symbols, "analysis_type": kind, "period": (intent.period.code if intent.period
                                                                          else "1y")}
    if intent.weights:
        args["weights"] = intent.weights
    result = yield from state.tool("start_portfolio_analysis", **args)
    if not result.ok:
        return state.answer(failed(result, "the analysis started") + "\n\n" + "\n\n".join(unknown_note(state)))
    job = result.data
    weights = job.get("weights")
    if weights:
        total = sum(weights)
        holdings = ", ".join(f"{w / total * 100:.0f}% {s}" for s, w in zip(job["symbols"], weights, strict=True))
        scaled = "" if abs(total - 100) < 0.01 or abs(total - 1) < 1e-6 else " (weights scaled to sum to 100%)"
    else:
        holdings, scaled = ", ".join(job["symbols"]) + " in equal weights", ""
    label = {"risk_assessment": "risk assessment", "performance": "performance analysis",
             "correlation": "correlation analysis"}[job["analysis_type"]]
    text = (f"I've queued a **{label}** of {holdings}{scaled} over the period {job['period']}.\n\n"
            f"It runs in the background: [open the analysis]({job['url']}) (job `{job['job_id']}`); the page fills in "
            "when the worker has finished (volatility, Sharpe and Sortino ratios, maximum drawdown, value at risk, "
            "beta against SPY, and more).")
    text = "\n\n".join([text] + unknown_note(state))
    return state.answer(text, job["symbols"])


def answer_ticker(state: State):
    parts = []
    for symbol in state.intent.symbols[:MAX_SYMBOLS_PER_ANSWER]:
        result = yield from state.tool("get_company_profile", symbol=symbol)
        if result.ok:
            p = result.data
            parts.append(f"The ticker of **{p.get('name') or symbol}** is **{p['symbol']}** "
                         f"({p.get('exchange') or 'exchange n/a'}).")
            parts.append(fmt.source_line(p))
        else:
            parts.append(f"The ticker is **{symbol}**.")
    return state.answer("\n\n".join(parts + unknown_note(state)))


def answer_advice(state: State):
    lead = ("I can't tell you whether to buy or sell, or predict prices, as I'm not a financial adviser. "
            + NOT_AN_LLM + " What I can give you is the record:")
    if not state.intent.symbols:
        return state.answer(lead + "\n\n" + EXAMPLES)
    state.intent.period = state.intent.period if state.intent.period and state.intent.period.code != "1d" else None
    state.intent.period = state.intent.period or period_named("1y")
    change = yield from answer_change(state)
    hit = yield from knowledge_hit(state, "diversification")
    text = lead + "\n\n" + change.text
    if hit:
        text += f"\n\nOne general principle: {first_sentences(hit['text'], 1)} (from *{hit['title']}*)"
    return state.answer(text, change.symbols)
