"""Companies, tickers and numbers in a question (pure: the caller hands in the resolver).

``mention_candidates`` finds what may name a listing: words written like tickers ($aapl, AAPL) and runs of
ordinary words ("coca-cola", "bank of america"); ``resolve_mentions`` asks the resolver about them, longest
phrase first; ``percents_parse``, ``amounts_parse`` and ``weights_pair`` read "50% AAPL" and "$1,000".
"""

import re
from dataclasses import dataclass

HARD_STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can cannot could did do does doing done down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my myself no nor not of off on once only or
other our ours out over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself hi hello hey thanks thank please tell show give get got let lets know
want wanted like need help okay ok yes yeah sure cool great good bad nice well also now today yesterday tomorrow
ago last past next previous prior since again much many lot lots way thing things something anything everything
one two three four five six seven eight nine ten eleven twelve twenty thirty hundred thousand million billion
dollar dollars usd bucks cents percent per cent half quarter quarters day days week weeks month months year years
decade decades time times long short recent recently currently current right whats what's how's whos who's
it's that's there's i'm i've i'd you're can't don't doesn't didn't isn't wasn't won't versus vs via etc
""".split())

# Vocabulary of the domain: never looked up as a company name on its own ("price", "beta", "bank", "home").
SOFT_WORDS = frozenset("""
stock stocks share shares equity equities ticker tickers symbol symbols company companies corporation corp inc
ltd co group holdings market markets price prices priced pricing quote quotes trading trade trades traded worth
value valued cost costs close closed closing open opened opening high higher highest low lower lowest peak bottom
range volume volumes average avg cap capitalisation capitalization sector sectors industry industries exchange
listed listing description business profile overview summary info information detail details fact facts
compare compared comparing comparison against better worse best worst winner loser outperform outperformed
performance perform performed performing return returns returned gain gains gained lose loss losses lost change
changes changed move moved moves moving grow grew growth rise rose fall fell drop dropped up down rally crash
history historical chart charts graph plot trend trends analyse analyze analysis analyses analysing analyzing
portfolio portfolios weight weights weighted allocation assess assessment evaluate review risk risks risky
volatile volatility drawdown drawdowns sharpe sortino beta alpha ratio ratios dividend dividends yield yields
earnings revenue income profit profits margin eps pe p/e valuation valuations book fund funds etf etfs index
indices indexes bond bonds option options order orders limit stop buy buying sell selling hold holding invest
invested investing investment investments investor investors money cash capital return-on mean means meaning
define definition explain explanation difference differences calculate calculated computed compute measure
measured work works working formula example examples term terms concept glossary question questions answer
doing done perform today's daily weekly monthly yearly annual annualised annualized total overall current
latest recent real demo data source sources currency rate rates risk-free free inflation interest
correlation correlated diversification diversify diversified concentration herfindahl hhi var cvar shortfall
expected value-at-risk tail tails split splits short selling leverage margin liquidity bull bear correction
spread bid ask ipo nasdaq nyse s&p dow main big small large mid bank banks home united international general
advanced micro walt global new old energy tech technology technologies
health healthcare financial financials consumer communication communications industrial industrials utilities
materials real-estate estate goods services service software hardware semiconductor semiconductors retail
cloud ai internet car cars oil gas chips chip apps app products product make makes made sells sold own owns
name named called full big biggest largest smallest cheapest expensive cheap level levels fifty-two week-high
ceo founder founded headquarters headquartered employees staff based located hq
""".split())
_SOFT_PREFIXES = ("perform", "compar", "analy", "volatil", "chang", "invest", "diversif", "capitali", "annuali",
                  "correlat", "calculat", "comput", "measur", "explain", "defin", "recommend", "predict", "forecast")

# Upper-case words that are finance abbreviations, not tickers (unless written with a $).
ACRONYMS = frozenset("""
I A AN AM AS AT BE BY DO GO HE IF IN IS IT ME MY NO OF OK ON OR SO TO UP US WE USA USD EUR GBP JPY CEO CFO CTO
COO ETF ETFS EPS PE P/E PB P/B PS ROE ROA ROI ROIC IPO VAR CVAR ES EV EBIT EBITDA HHI NAV GTC ATR FCF DCF CAGR
YTD YOY QOQ TTM MAX MIN AI API LLM GPT FAQ SEC FED GDP CPI NYSE NASDAQ AMEX OTC SPX DJIA MDD DD BPS BP PM AM
NOT AND THE WHAT HOW WHY WHO WHEN FOR ARE WAS YES IPOS REIT REITS LLC INC LTD CO CORP PLC ADR ESG EU UK
""".split())

_TOKEN = re.compile(r"\$?[A-Za-z][A-Za-z0-9&\-]*(?:\.[A-Za-z]{1,2}\b)?(?:['’]s)?")
_SLASHED = re.compile(r"\b[A-Za-z]{1,8}\s?/\s?[A-Za-z]{1,8}\b")
BENCHMARK = "SPY"
_MARKET = re.compile(r"\b(s&p\s*500|s&p|sp500|sp 500|spx)\b|^\s*how('s| is| was| did| has)( the)? (overall |stock )?market\b",
                     re.IGNORECASE)
_ARTICLE = re.compile(r"\b(a|an)\s+$", re.IGNORECASE)
_CONNECTORS = frozenset({"of", "and", "&"})
_NAME_SLOT = re.compile(r"\b(of|for|on|in|about|is|are)\s+(the\s+)?$", re.IGNORECASE)  # "the price of gold"


@dataclass(frozen=True)
class Mention:
    text: str  # as the resolver should see it: "AAPL", "coca-cola", "bank of america"
    start: int
    end: int
    strong: bool  # written like a ticker ($aapl, AAPL): report it when it resolves to nothing
    proper: bool = False  # Capitalised inside a sentence ("Ford"): likely a name, worth reporting if unknown


def _clean_token(raw: str) -> str:
    return re.sub(r"['’]s$", "", raw)


def _is_soft(word: str) -> bool:
    return word in SOFT_WORDS or word.startswith(_SOFT_PREFIXES)


def mention_candidates(text: str) -> tuple[list[Mention], list[list[Mention]]]:
    """Return (strong mentions, runs of weak words) for the resolver, in text order."""
    shouting = not re.search(r"[a-z]", text) and len(text.split()) > 3
    strong, runs, run = [], [], []
    for match in _MARKET.finditer(text):
        strong.append(Mention(BENCHMARK, match.start(), match.end(), False))
    text = _MARKET.sub(lambda m: " " * len(m.group(0)), text)
    # "P/E", "EV/EBITDA", "N/A" are terms; blank them out (same length, so positions still hold).
    text = _SLASHED.sub(lambda m: " " * len(m.group(0)), text)
    for match in _TOKEN.finditer(text):
        raw = _clean_token(match.group(0))
        bare = raw.removeprefix("$")
        is_ticker_like = raw.startswith("$") or (
            not shouting and bare.isupper() and len(bare) <= 6 and bare not in ACRONYMS and bare.upper() == bare
        )
        if is_ticker_like and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,9}", bare):
            strong.append(Mention(bare.upper(), match.start(), match.end(), True))
            if run:
                runs.append(run)
                run = []
            continue
        word = bare.lower()
        if word in _CONNECTORS and run:
            run.append(Mention(word, match.start(), match.end(), False))
            continue
        if word in HARD_STOPWORDS or word.isdigit():
            if run:
                runs.append(run)
                run = []
            continue
        proper = bare[:1].isupper() and bool(text[:match.start()].strip()) and \
            not re.search(r"[.!?:]\s*$", text[:match.start()])
        run.append(Mention(word, match.start(), match.end(), False, proper))
    if run:
        runs.append(run)
    return strong, [_trim_connectors(r) for r in runs if _trim_connectors(r)]


def _trim_connectors(run: list[Mention]) -> list[Mention]:
    while run and run[-1].text in _CONNECTORS:
        run = run[:-1]
    return run


def _phrases_at(run: list[Mention], i: int):
    for n in (3, 2, 1):
        words = run[i:i + n]
        if len(words) < n or words[0].text in _CONNECTORS or words[-1].text in _CONNECTORS:
            continue
        texts = [w.text for w in words]
        if n == 1 and (len(texts[0]) < 3 or _is_soft(texts[0])):
            continue
        if n > 1 and all(_is_soft(t) or t in _CONNECTORS for t in texts):
            continue
        yield n, Mention(" ".join(texts), words[0].start, words[-1].end, False)


@dataclass(frozen=True)
class Entity:
    symbol: str
    text: str
    start: int


def resolve_mentions(text: str, resolver, name_resolver=None) -> tuple[list[Entity], list[str], list[str]]:
    """Return the tickers the text names (in order, each once), the ticker-like words that named none, and the
    capitalised words that named none ("Ford"). ``name_resolver`` (default: ``resolver``) resolves plain words."""
    name_resolver = name_resolver or resolver
    strong, runs = mention_candidates(text)
    found: list[Entity] = []
    unknown: list[str] = []
    names: list[str] = []
    for mention in strong:
        symbol = resolver(mention.text)
        if symbol:
            found.append(Entity(symbol, mention.text, mention.start))
        else:
            unknown.append(mention.text)
    for run in runs:
        i = 0
        while i < len(run):
            taken = 0
            if _ARTICLE.search(text[:run[i].start]) and text[run[i].start:run[i].end].islower():
                i += 1  # "an apple a day", "a meta question": a word after "a" is a thing, not a company
                continue
            for n, mention in _phrases_at(run, i):
                symbol = name_resolver(mention.text)
                if symbol:
                    found.append(Entity(symbol, mention.text, mention.start))
                    taken = n
                    break
            if not taken and not _is_soft(run[i].text) and len(run[i].text) >= 3 and (
                    run[i].proper or _NAME_SLOT.search(text[:run[i].start])):
                names.append(("" if run[i].proper else "~") + text[run[i].start:run[i].end])
            i += taken or 1
    found.sort(key=lambda e: e.start)
    seen, unique = set(), []
    for entity in found:
        if entity.symbol not in seen:
            seen.add(entity.symbol)
            unique.append(entity)
    return unique, unknown, names


def names_to_report(names: list[str], any_symbol: bool) -> list[str]:
    """Words that named no listing, worth reporting: capitalised ones ("Ford") always, plain ones ("gold")
    only when nothing else was found. ``resolve_mentions`` marks plain ones with a leading "~"."""
    return [n.lstrip("~") for n in names if not n.startswith("~") or not any_symbol]


# --- numbers --------------------------------------------------------------------------------------------------

_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s*(%|percent\b|per cent\b|pct\b)")
_MONEY = re.compile(r"(?:\$|usd\s?)\s?(\d[\d,]*(?:\.\d+)?)\s*(k|m|mn|bn|b|thousand|million|billion)?\b"
                    r"|(?<![\w.$])(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|million)?\s*(?:dollars|usd|bucks)\b", re.IGNORECASE)
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}


def percents_parse(text: str) -> list[tuple[float, int]]:
    return [(float(m.group(1)), m.start()) for m in _PERCENT.finditer(text)]


def amounts_parse(text: str) -> list[tuple[float, int]]:
    out = []
    for m in _MONEY.finditer(text):
        number, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = float(number.replace(",", "")) * _MULTIPLIERS.get((unit or "").lower(), 1)
        out.append((value, m.start()))
    return out


def weights_pair(entities: list[Entity], numbers: list[tuple[float, int]]) -> list[float] | None:
    """Pair each ticker with its number ("50% AAPL 30% MSFT" or "AAPL 50%, MSFT 30%"); None if they don't pair."""
    if not numbers or len(numbers) != len(entities):
        return None
    before = all(n[1] < e.start for n, e in zip(numbers, entities, strict=True))
    after = all(n[1] > e.start for n, e in zip(numbers, entities, strict=True))
    if not (before or after):
        return None
    return [n[0] for n in numbers]
