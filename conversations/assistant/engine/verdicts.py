"""Direct answers to comparative and yes/no questions ("Is AMZN more volatile than WMT?", "Did AAPL beat MSFT
this year?", "Which is bigger, KO or PEP?"): what is compared, which way, and the sentence that decides it with
the figures. Pure: the writer hands in the figures it fetched.
"""

import re
from dataclasses import dataclass

from .. import formatting as fmt


@dataclass(frozen=True)
class Metric:
    name: str  # the figure's key in the tool result
    source: str  # "history" (compare_stocks) or "profile" (get_company_profile)
    more: str  # what the one with the larger value did or is ("is the more volatile")
    less: str  # and the one with the smaller ("is the less volatile")
    label: str  # what the figure is ("annualised volatility")
    show: object  # how a value is written (value, currency)

    def value(self, row: dict) -> float | None:
        value = row.get(self.name)
        if value is None:
            return None
        return abs(value) if self.name == "max_drawdown_percent" else float(value)


def fixed(value: float, places: int) -> str:
    """A figure with ``places`` decimals, one minus sign (U+2212), no negative zero."""
    text = f"{abs(value):.{places}f}"
    return f"−{text}" if value < 0 and float(text) else text


METRICS = {
    "volatility": Metric("volatility_percent", "history", "is the more volatile", "is the less volatile",
                         "annualised volatility", lambda v, c: fmt.percent(v)),
    "drawdown": Metric("max_drawdown_percent", "history", "fell further from a peak", "held up better from a peak",
                       "maximum drawdown", lambda v, c: fmt.percent(-abs(v))),
    "return": Metric("change_percent", "history", "did better", "did worse", "return", lambda v, c: fmt.signed_percent(v)),
    "market_cap": Metric("market_cap", "profile", "is the larger", "is the smaller", "market capitalisation",
                         lambda v, c: fmt.big_money(v, c or "USD")),
    "pe_ratio": Metric("pe_ratio", "profile", "is the more expensive on earnings", "is the cheaper on earnings",
                       "P/E ratio", lambda v, c: fixed(v, 1)),
    "dividend_yield": Metric("dividend_yield", "profile", "has the higher dividend yield",
                             "has the lower dividend yield", "dividend yield", lambda v, c: fmt.percent(v * 100)),
    "beta": Metric("beta", "profile", "has the higher beta", "has the lower beta", "beta",
                   lambda v, c: fixed(v, 2)),
}

# (pattern, metric, +1 when the question asks about the larger value, -1 the smaller); first match wins.
_ASKS = (
    ((r"\b(less volatile|least volatile|lower volatility|lowest volatility|less volatility|more stable|"
      r"most stable|steadier|steadiest|calmer|less risky|least risky|safer|safest)\b"), "volatility", -1),
    ((r"\b(more volatile|most volatile|volatil\w* (more|higher)|(more|higher|highest) volatil\w*|swings? more|"
      r"jumpier|riskier|riskiest|more risky|most risky|risk(ier)?)\b"), "volatility", 1),
    (r"\b(smaller|lower|shallower|smallest|lowest) (max(imum)? )?drawdowns?|held up better\b", "drawdown", -1),
    (r"\b(drawdown|fell (further|more|harder)|dropped more|lost more)\b", "drawdown", 1),
    (r"\b(underperform\w*|did worse|do worse|lagged|trailed|gained less|grew less|returned less)\b", "return", -1),
    ((r"\b(beat|beaten|outperform\w*|did better|do better|done better|gained more|grew (more|faster)|"
      r"returned more|rose more|went up more|better (return|performance)|perform\w* better|best|win|winner)\b"),
     "return", 1),
    (r"\b(dividend|yields? more|higher yield)\b", "dividend_yield", 1),
    (r"\b(p/?e|price[- ]to[- ]earnings|valuation multiple)\b", "pe_ratio", 1),
    (r"\b(cheaper|less expensive|better value)\b", "pe_ratio", -1),
    (r"\b(pricier|more expensive)\b", "pe_ratio", 1),
    (r"\bbeta\b", "beta", 1),
    (r"\b(smaller|smallest|less valuable)\b", "market_cap", -1),
    (r"\b(bigger|biggest|larger|largest|more valuable|worth more|most valuable)\b", "market_cap", 1),
)
_LOWER = re.compile(r"\b(lower|less|smaller|least|lowest)\b")
_YES_NO = re.compile(r"^\s*(is|are|was|were|did|does|do|has|have|had|would|will)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Asked:
    metric: Metric
    direction: int  # +1: "more ...", -1: "less ..."
    yes_no: bool
    subject: str  # the symbol the yes/no question is about (the first named)


def asked(text: str, symbols: list[str]) -> Asked | None:
    """What a comparative question asks, or None when it only asks to compare."""
    if len(symbols) < 2:
        return None
    low = text.lower()
    for pattern, name, direction in _ASKS:
        if re.search(pattern, low):
            if name in ("dividend_yield", "pe_ratio", "beta") and _LOWER.search(low):
                direction = -1  # "lower P/E", "less dividend"
            return Asked(METRICS[name], direction, bool(_YES_NO.match(text)), symbols[0])
    return None


def verdict(question: Asked, rows: list[dict], *, period_words: str = "", source: str = "") -> str:
    """The sentence that answers, with the figures that decide it (or why it cannot be decided)."""
    metric = question.metric
    known = [(row["symbol"], metric.value(row), row) for row in rows if metric.value(row) is not None]
    when = f"{period_words}, " if period_words else ""
    was = "was" if period_words else "is"
    if len(known) < 2:
        lacking = [row["symbol"] for row in rows if metric.value(row) is None]
        if not lacking:
            having = ", ".join(symbol for symbol, _, _ in known) or "none of them"
            return f"I can't say: I have the {metric.label} of only {having}, so there is nothing to compare it with."
        return (f"I can't say: the {source or 'market'} data has no {metric.label} for "
                f"{_and(lacking)}, so the figures cannot be compared.")
    ranked = sorted(known, key=lambda item: item[1], reverse=question.direction > 0)
    top_symbol = ranked[0][0]
    verb = metric.more if question.direction > 0 else metric.less
    tied = {symbol for symbol, value, _ in ranked if value == ranked[0][1]}
    if len(tied) > 1 and (not question.yes_no or question.subject in tied):
        return f"**Neither**: {when}the {metric.label} {was} {_figures(metric, known, top_symbol)}."
    if not question.yes_no:
        return f"**{top_symbol}** {verb}: {when}the {metric.label} {was} {_figures(metric, known, top_symbol)}."
    if not any(item[0] == question.subject for item in known):
        return f"**{top_symbol}** {verb}: {when}the {metric.label} {was} {_figures(metric, known, top_symbol)}."
    others = [item for item in known if item[0] != question.subject]
    subject = next(item for item in known if item[0] == question.subject)
    beats = all((subject[1] > other[1]) if question.direction > 0 else (subject[1] < other[1]) for other in others)
    winner = question.subject if beats else top_symbol
    tail = f"so {winner} {verb}" if winner != question.subject or beats else f"so {question.subject} does not"
    sentence = f"{when}the {metric.label} {was} {_figures(metric, known, question.subject)}, {tail}."
    return f"**{'Yes' if beats else 'No'}.** {sentence[:1].upper()}{sentence[1:]}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _figures(metric: Metric, known: list[tuple], first: str) -> str:
    ordered = sorted(known, key=lambda item: item[0] != first)
    parts = [f"{metric.show(row[metric.name], row.get('currency'))} for {symbol}" for symbol, _, row in ordered]
    return parts[0] + (" against " + " and ".join(parts[1:]) if len(parts) > 1 else "")
