"""What a chat message asks for: the intent, from keywords, the tickers found and the previous turn.

``classify`` picks one of the intents the local provider answers (quote, change, history, extreme, risk, compare,
profile, growth, portfolio, ticker, advice, define, help, greeting, thanks, unknown, unknown_symbol) and resolves
follow-ups ("compare it with MSFT", "and over 5 years?") from the previous turn's context. Pure: no I/O.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from .entities import Entity, amounts_parse, names_to_report, percents_parse, weights_pair
from .periods import FIFTY_TWO_WEEK, Period, period_named, period_parse

_PRONOUNS = re.compile(r"\b(it|its|it's|itself|them|they|their|theirs|those|these|both|the stock|that stock|this stock|"
                       r"the company|that company|this company|the same|the shares|those stocks|these stocks|"
                       r"each of them|the two|all three|they're|which one|which of (them|the two|those|these)|the other|"
                       r"the former|the latter)\b")
_FOLLOW_UP = re.compile(r"^\s*(and|also|what about|how about|and what about|and how about|same for|now|then|ok|okay|"
                        r"what if|and for|and over|over|for)\b")

_KEYWORDS = {
    "greeting": r"^\s*(hi|hello|hey|hiya|howdy|yo|good (morning|afternoon|evening)|greetings)\b",
    "thanks": r"^\s*(thanks|thank you|thx|cheers|ty|much appreciated|great,? thanks)\b",
    # "what do you do?" asks about the assistant; "what do you do with a dividend?", "how do you work out free cash
    # flow?" do not: those phrases count only where the question (or its sentence) ends.
    "help": r"\b((what can you do|what do you do|how do you work|who are you|what are you)"
            r"(\s+(exactly|actually|then|here|for me|again|anyway))?(?=\s*([?.!]|$))|help me\b|^help\b|"
            r"are you (an? )?(ai|llm|bot|robot|human|chatgpt|gpt|person|real|large language model)|"
            r"what (questions|things) can i ask|how (can|do) i use (this|you)|capabilities|your (features|abilities))",
    "advice": r"\b(should i (buy|sell|invest|hold|get|short)|is (it|now) a good (time|idea)|good (buy|investment|stock to)"
              r"|worth (buying|investing)|will (it|they|\w+) (go up|go down|rise|fall|crash|recover|increase|drop)|"
              r"predict|forecast|recommend|tip|which stock (should|to buy)|best stocks? to buy|price target|"
              r"going to (go up|rise|fall|crash))",
    "portfolio": r"\b(analy[sz]e|analysis|assess|evaluate|review|risk assessment|check|run an? (risk|analysis))\b.*"
                 r"\b(portfolio|holdings|allocation|mix)\b|\b(portfolio|holdings|allocation) (of|with)\b|"
                 r"\bmy (portfolio|holdings|allocation)\b|\b(risk|correlation|performance) (assessment|analysis)\b|"
                 r"^\s*(please\s+)?(can you\s+)?(analy[sz]e|run an analysis)\b",
    "invest": r"\b(invest(ed|ing)?|put|bought|buy|spent|had put)\b",
    "ticker": r"\b(ticker|symbol|stock code|trading code)\b",
    "compare": r"\b(compare|comparison|compared|comparing|vs\.?|versus|against|relative to|better|worse|"
               r"outperform(ed)?|beat|which (one|stock|company|of|did|was|is|has|grew|performed|had)|difference between|"
               r"side by side|bigger|larger|smaller|more volatile|less volatile|riskier|higher|lower)\b",
    "risk": r"\b(volatil\w*|drawdown|risky|riskier|risk|sharpe|sortino|swing|stable|safe)\b",
    "history": r"\b(history|historical|chart|graph|plot|trend|over time|price action|show me)\b",
    "change": r"\b(change[sd]?|perform\w*|returns?|returned|gain(ed|s)?|lose|lost|loss|up|down|move[sd]?|moving|"
              r"grow|grew|growth|rise|rose|risen|fall|fell|fallen|drop(ped)?|rall(y|ied)|doing|done|do|did)\b",
    "extreme": r"\b(highest|lowest|high|low|peak|bottom|max(imum)?|min(imum)?|record|top|all[- ]time)\b",
    "quote": r"\b(price|prices|quote|trading|trade at|worth|cost|how much|value|close|closing|open|opening|"
             r"volume|day'?s range|bid|ask|last|current|now|today)\b",
    "define": r"^\s*(what('s| is| are|s)|whats|define|definition|meaning|explain|describe|tell me (about|what)|"
              r"can you (explain|tell me)|how (do|does|is|are|should) (i |you |one )?"
              r"(calculate|compute|read|interpret|measure|use|work)|what does|what do|why (is|are|do|does)|"
              r"how (is|are) .* (calculated|computed|measured|defined|used))"
              r"|\b(mean|means|stand for|stands for|definition of|meaning of|difference between)\b",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in _KEYWORDS.items()}

PROFILE_FIELDS = {
    "market_cap": r"\b(market cap\w*|mkt cap|capitali[sz]ation|how (big|large) is|valuation|worth in total|size of)\b",
    "sector": r"\bsectors?\b|\bis \S+ an? [\w-]+ (company|stock|business|firm)\b",
    "industry": r"\bindustr(y|ies)\b|\bwhat kind of (company|business)\b",
    "exchange": r"\b(exchange|listed|trade[sd]? on|which market)\b",
    "description": r"\b(what does .* do|what do .* do|about|business|describe|description|overview|profile|"
                   r"what (kind|sort|type) of|who (is|are)|tell me about|what is .* known for|products?|makes?|sell)\b",
    "beta": r"\bbeta\b",
    "range_52": r"\b(52|fifty[- ]two)[- ]?(week|wk)|\byear(ly)? (high|low|range)|\bannual (high|low)",
    "shares": r"\b(shares outstanding|outstanding shares|how many shares|share count)\b",
    "average_volume": r"\baverage (daily )?volume\b",
    "name": r"\b(full name|company name|name of|called|stand for)\b",
    "country": r"\b(country|headquarter\w*|based|located|where is)\b",
    "pe_ratio": r"\b(p/?e|pe ratio|price[- ]to[- ]earnings|earnings multiple)\b",
    "dividend_yield": r"\b(dividend|yield)\b",
    "unsupported": r"\b(ceo|chief executive|founder|founded|employees|staff|revenue|sales|profit|net income|"
                   r"earnings report|guidance|news|analyst|headcount)\b",
}
_PROFILE = {name: re.compile(pattern) for name, pattern in PROFILE_FIELDS.items()}
_DEFINE_STRIP = re.compile(
    r"^\s*(please\s+)?(can you\s+|could you\s+)?(what('s| is| are|s)|whats|define|definition of|meaning of|"
    r"explain|describe|tell me (about|what)|what does|what do|how (do|does|is|are) (i |you |one )?"
    r"(calculate|compute|read|interpret|measure|use)|how (is|are))\s+(an?\s+|the\s+)?", re.IGNORECASE)
_DEFINE_TAIL = re.compile(r"\s*(mean|means|stand for|stands for|calculated|computed|measured|defined|used|work|"
                          r"works|in (finance|investing|stocks))?\s*[?.!]*\s*$", re.IGNORECASE)


_OFF_TOPIC = re.compile(r"\b(what time|what day|what date|weather|joke|who won|recipe|movie|song|poem|football|"
                        r"soccer|election|translate)\b")
_STRONG_WORDS = frozenset({"quote", "change", "history", "compare", "risk", "extreme"})
_SIZE = re.compile(r"\b(bigger|biggest|larger|largest|smaller|smallest|more valuable|most valuable|worth more)\b")
_FRESH_DEFINITION = re.compile(
    r"^\s*(what('s| is| are)|whats|define|explain|what does)\s+(an?\s|the\s)?"
    r"(?!it\b|its\b|they\b|them\b|their\b|that stock|this stock|the stock|the company|the same)")


@dataclass
class Intent:
    kind: str
    symbols: list[str] = field(default_factory=list)
    period: Period | None = None
    weights: list[float] | None = None
    amount: float | None = None
    fields: list[str] = field(default_factory=list)
    term: str = ""
    unknown: list[str] = field(default_factory=list)  # written like tickers (AAPL, $XYZ) and naming no listing
    names: list[str] = field(default_factory=list)  # words in a market question naming no listing ("gold", "Ford")
    from_context: bool = False


def keywords(text: str) -> set[str]:
    low = text.lower()
    return {name for name, pattern in _COMPILED.items() if pattern.search(low)}


def profile_fields(text: str) -> list[str]:
    low = FIFTY_TWO_WEEK.sub(" 52-week ", text.lower())
    return [name for name, pattern in _PROFILE.items() if pattern.search(low)]


def term_of(text: str) -> str:
    """The subject of a "what is ..." question: "What is a Sharpe ratio?" gives "Sharpe ratio"."""
    term = _DEFINE_STRIP.sub("", text.strip())
    term = _DEFINE_TAIL.sub("", term)
    return term.strip(" ?.!\"'") or text.strip(" ?.!")


_MARKET_WORDS = frozenset({"quote", "change", "history", "compare", "ticker", "extreme", "risk"})


def classify(text: str, entities: list[Entity], unknown: list[str], *, unknown_names: list[str] = (),
             context: dict | None = None, today: date | None = None) -> Intent:
    """Pick the intent of ``text`` given the tickers found in it and the previous turn's ``context``."""
    context = context or {}
    low = text.lower()
    words = keywords(text)
    names = []
    if unknown_names and (words & _MARKET_WORDS or _data_fields(profile_fields(text))):
        names = names_to_report(list(unknown_names), bool(entities))  # "compare Tesla and Ford", "price of gold"
    period = period_parse(text, today=today)
    symbols = [e.symbol for e in entities]
    previous = [s for s in context.get("symbols", []) if isinstance(s, str)]
    pronoun = bool(_PRONOUNS.search(low)) and not (not symbols and _FRESH_DEFINITION.match(low)
                                                    and not re.search(r"\b(its|their|it's)\b", low))
    follow_up = bool(_FOLLOW_UP.search(low))
    inherit = False
    if previous and pronoun:
        symbols = previous + [s for s in symbols if s not in previous]
    elif previous and follow_up:
        inherit = True
        symbols = symbols or previous
    intent = Intent("unknown", symbols, period, unknown=list(unknown), names=names,
                    from_context=symbols != [e.symbol for e in entities], fields=profile_fields(text))
    if not symbols:
        return _classify_without_symbols(text, intent, words, unknown)
    if (inherit or intent.from_context) and not (words & _STRONG_WORDS or _data_fields(intent.fields)
                                                  or "portfolio" in words or "advice" in words):
        return _inherit(intent, context)
    percents = percents_parse(text)
    amounts = amounts_parse(text)
    if "portfolio" in words or (len(symbols) >= 2 and len(percents) == len(symbols)):
        intent.kind = "portfolio"
        intent.period = period if period and period.code not in ("1d", "5d") and not period.days else None
        intent.weights = weights_pair(entities, percents) or weights_pair(entities, amounts)
        return intent
    if amounts and "invest" in words and (period or re.search(r"\b(ago|would|worth|now|today|have)\b", low)):
        intent.kind, intent.amount = "growth", amounts[0][0]
        intent.period = period or period_named("1y")
        return intent
    if "advice" in words:
        intent.kind = "advice"
        return intent
    if "ticker" in words and not re.search(r"\b(price|quote|worth|trading|cost)\b", low):
        intent.kind = "ticker"
        return intent
    if len(symbols) == 1 and "compare" in words and period is None and not _data_fields(intent.fields) \
            and not _SIZE.search(low) and re.search(r"\b(compare|vs\.?|versus|against)\b", low):
        intent.kind, intent.period = "change", period_named("1y")  # the other one was not found
        return intent
    if len(symbols) >= 2:
        intent.kind = "compare"
        if _SIZE.search(low) and "market_cap" not in intent.fields:
            intent.fields.append("market_cap")
        if period is None and not _data_fields(intent.fields) and "quote" in words and "change" not in words:
            intent.period = period_named("1d")
        else:
            intent.period = period or period_named("1y")
        return intent
    return _classify_single(intent, words, period, low)


def _data_fields(fields: list[str]) -> list[str]:
    return [f for f in fields if f not in ("description", "name", "country", "unsupported")]


def _inherit(intent: Intent, context: dict) -> Intent:
    """A follow-up without a question of its own ("and MSFT?", "what about over 5 years?") repeats the last one."""
    kind = context.get("intent") or "quote"
    if kind in ("define", "knowledge", "no_match", "help", "greeting", "thanks", "unknown", "unknown_symbol",
                "ticker"):
        kind = "quote"
    if len(intent.symbols) > 1 and kind not in ("portfolio", "compare"):
        kind = "compare"
    intent.kind = kind
    intent.fields = intent.fields or [f for f in context.get("fields", []) if isinstance(f, str)]
    if intent.period is None and context.get("period"):
        intent.period = period_named(context["period"])
    if kind in ("change", "history", "compare", "risk", "extreme") and intent.period is None:
        intent.period = period_named("1y")
    return intent


def _classify_single(intent: Intent, words: set[str], period: Period | None, low: str) -> Intent:
    data_fields = _data_fields(intent.fields)
    if "risk" in words and not data_fields:
        intent.kind, intent.period = "risk", period or period_named("1y")
    elif data_fields or "unsupported" in intent.fields:
        intent.kind = "profile"
    elif "extreme" in words and period and period.code != "1d" and not re.search(r"\bday'?s? (high|low)\b", low):
        intent.kind = "extreme"
    elif "history" in words:
        intent.kind, intent.period = "history", period or period_named("1y")
    elif period and period.code != "1d":
        intent.kind = "change"
    elif "change" in words and "quote" not in words and period is None and not intent.fields:
        intent.kind, intent.period = "change", period_named("1y")
    elif intent.fields or ("define" in words and not words & {"quote", "change"}):
        intent.kind = "profile"
        intent.fields = intent.fields or ["description"]
    else:
        intent.kind = "quote"
    return intent


def _classify_without_symbols(text: str, intent: Intent, words: set[str], unknown: list[str]) -> Intent:
    low = text.lower().strip()
    n_words = len(low.split())
    if _OFF_TOPIC.search(low):
        intent.kind = "unknown"
    elif "help" in words:
        intent.kind = "help"
    elif "thanks" in words and n_words <= 6:
        intent.kind = "thanks"
    elif "greeting" in words and n_words <= 5:
        intent.kind = "greeting"
    elif "advice" in words:
        intent.kind = "advice"
    elif "portfolio" in words and re.search(r"\b(analy[sz]e|assess|evaluate|review|risk)\b", low):
        intent.kind = "portfolio"
    elif unknown and (words & {"quote", "change", "history", "compare", "ticker"} or n_words <= 2
                      or _data_fields(intent.fields)):
        intent.kind = "unknown_symbol"
    elif "ticker" in words:
        intent.kind = "ticker"
    else:
        intent.kind = "define"
        intent.term = term_of(text)
    return intent
