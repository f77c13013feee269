"""Tokenising and BM25 ranking over passages: pure functions and an in-memory index, no database here."""

import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import snowballstemmer

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 2  # title terms count this many times in every passage of the document
HEADING_WEIGHT = 2
DOC_WEIGHT = 0.35  # share of the whole document's BM25 score added to each of its passages
EXPANSION_WEIGHT = 0.5  # query terms added by synonyms weigh this much

STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "can't", "cannot", "could", "couldn't", "did", "didn't", "do", "does", "doesn't", "doing", "don't", "down", "during", "each", "few", "for", "from", "further", "had", "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "isn't", "it", "it's", "its", "itself", "just", "let's", "me", "more", "most", "mustn't", "my", "myself", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own", "same", "shan't", "she", "should", "shouldn't", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "wasn't", "we", "were", "weren't", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "won't", "would", "wouldn't", "you", "your", "yours", "yourself", "yourselves", "im", "ive", "id", "ill", "youre", "youve", "theyre", "dont", "doesnt", "didnt", "cant", "wont", "isnt", "arent", "wasnt", "werent", "hasnt", "havent", "wouldnt", "shouldnt", "couldnt", "also", "get", "gets", "got", "does", "tell", "explain", "mean", "means", "meaning", "please", "want", "know"])

# Abbreviations and their spelled-out forms. Both sides of the index see the expansion, so a question that
# writes "value at risk" finds a passage that writes "VaR", and the other way round.
ABBREVIATIONS = {
    "var": "value at risk", "cvar": "conditional value at risk expected shortfall", "es": "expected shortfall",
    "pe": "price earnings", "pb": "price book", "ps": "price sales", "peg": "price earnings growth",
    "eps": "earnings per share", "roe": "return on equity", "roa": "return on assets", "ev": "enterprise value",
    "ebitda": "earnings before interest taxes depreciation amortization", "etf": "exchange traded fund",
    "ipo": "initial public offering", "mdd": "maximum drawdown", "dd": "drawdown", "hhi": "herfindahl index",
    "cagr": "compound annual growth rate", "stdev": "standard deviation", "std": "standard deviation",
    "vol": "volatility", "spx": "s&p 500", "spy": "s&p 500 etf", "capm": "capital asset pricing model",
    "fcf": "free cash flow", "dcf": "discounted cash flow", "yoy": "year over year", "ttm": "trailing twelve months",
    "bps": "basis points", "capex": "capital expenditure", "opex": "operating expenditure",
    "fed": "federal reserve", "ytm": "yield to maturity", "cpi": "consumer price index",
    "pce": "personal consumption expenditures", "rmd": "required minimum distribution",
    "agm": "annual general meeting", "esg": "environmental social governance", "apr": "annual percentage rate", "nav": "net asset value", "gtc": "good til cancelled", "atr": "average true range",
}

# Everyday words for the same idea; added to a question with a lower weight, never to the index.
SYNONYMS = [
    {"loss", "lose", "losing", "lost"},
    {"stock", "share", "equity"},
    {"company", "firm", "business", "corporation"},
    {"cheap", "undervalued", "inexpensive", "bargain"},
    {"expensive", "overvalued", "pricey"},
    {"fluctuation", "fluctuate", "swing", "volatility", "volatile", "jumpy", "choppy", "erratic", "turbulent"},
    {"profit", "earnings", "income"},
    {"buy", "bought", "purchase", "acquire", "takeover"},
    {"sell", "sold", "sale", "dispose"},
    {"pay", "paid", "payment", "payable"},
    {"quit", "leave", "resign", "depart"},
    {"expire", "expiry", "lapse"},
    {"redeem", "redemption", "use", "swap"},
    {"worst", "extreme", "tail"},
    {"spread", "diversify", "diversification"},
    {"yearly", "annual", "annualised", "annualized", "annually"},
    {"fall", "decline", "drop", "drawdown", "plunge", "slump", "tumble", "crash", "sink"},
    {"payout", "dividend", "distribution"},
    # Everyday words people type for the words policies and explainers use.
    {"loan", "debt", "borrowing", "borrowed"},
    {"boss", "manager", "supervisor", "executive"},
    {"late", "overdue", "delay", "delayed"},
    {"stop", "halt", "suspend", "suspension", "pause", "freeze"},
    {"fast", "quick", "rapid", "sharp", "swift", "prompt"},
    {"landlord", "property", "rental", "estate"},
    {"fix", "repair", "mend"},
    {"broken", "faulty", "fault", "defect", "defective", "damaged", "damage"},
    {"refund", "reimburse", "reimbursement", "return"},
    {"staff", "employee", "worker", "personnel"},
    {"shareholder", "stockholder", "investor", "owner"},
    {"vote", "ballot", "poll"},
    {"meeting", "assembly", "agm"},
    {"fee", "charge", "commission", "cost"},
    {"deadline", "cutoff", "due"},
    {"cancel", "cancellation", "terminate", "termination"},
    {"tax", "taxation", "taxable"},
    {"interest", "coupon"},
    {"invert", "inverted", "inversion"},
    {"swap", "exchange", "convert", "conversion"},
    {"write", "writer", "wrote", "written"},
    {"rule", "regulation", "requirement"},
    {"limit", "cap", "ceiling", "maximum"},
    {"minimum", "least", "smallest", "lowest"},
    {"salary", "wage", "wages"},
    {"pension", "retirement", "retire"},
    {"holiday", "vacation"},
    {"trip", "travel", "journey"},
    {"hotel", "accommodation", "lodging"},
    {"meal", "food", "dining"},
    {"flight", "airfare"},
    {"guarantee", "warranty", "cover", "coverage"},
    {"point", "reward"},
    {"free", "complimentary"},
    {"discount", "reduction", "saving"},
    {"dodgy", "shady", "suspicious", "wrongdoing", "misconduct", "fraud"},
    {"flag", "report"},
    {"sack", "sacked", "dismiss", "dismissal", "fired"},
    {"revenge", "retaliation", "retaliate", "victimise", "victimize", "punish"},
    {"bankrupt", "bankruptcy", "insolvent", "insolvency"},
    {"buyback", "repurchase"},
    {"merger", "acquisition", "takeover", "buyout"},
    {"risky", "risk", "dangerous"},
    {"safe", "safest", "secure", "safety"},
    {"big", "large", "huge"},
    {"small", "little", "tiny"},
    {"rise", "increase", "climb", "jump", "surge", "soar"},
    {"cut", "reduce", "decrease"},
    {"start", "begin", "commence", "launch"},
    {"choose", "pick", "select", "elect"},
    {"scheme", "plan", "programme", "program"},
    {"company", "employer"},
    {"shop", "store", "retailer", "outlet"},
    {"join", "enrol", "enroll", "enrolment", "enrollment", "register", "registration", "membership"},
    {"car", "vehicle"},
    {"phone", "mobile"},
    {"fridge", "refrigerator"},
    {"tv", "television"},
    {"gauge", "measure", "indicator", "metric"},
    {"aim", "aiming", "target", "goal", "objective"},
    {"wander", "drift", "stray"},
    {"town", "city", "municipal", "municipality"},
    {"stagger", "staggered", "ladder"},
]

_WORD = re.compile(r"[a-z0-9]+")
_JOINED = re.compile(r"\b([a-z])\s*[/&]\s*([a-z])\b")  # P/E, P/B, S&P -> pe, pb, sp
_stemmer = snowballstemmer.stemmer("english")
_stemmer_lock = threading.Lock()  # a stemmer keeps the word in hand in its own state: one thread at a time


# Irregular forms the stemmer leaves apart: "paid" and "pay" are one term, as "payed" and "pay" already are.
IRREGULAR = {
    "paid": "pay", "bought": "buy", "sold": "sell", "held": "hold", "made": "make", "grew": "grow",
    "grown": "grow", "rose": "rise", "risen": "rise", "fell": "fall", "fallen": "fall", "lost": "lose",
    "spent": "spend", "lent": "lend", "owed": "owe", "kept": "keep", "left": "leave", "went": "go", "gone": "go",
    "took": "take", "taken": "take", "gave": "give", "given": "give", "chose": "choose", "chosen": "choose",
    "began": "begin", "begun": "begin", "wrote": "write", "written": "write", "met": "meet", "sent": "send",
    "built": "build", "won": "win", "cost": "cost", "shut": "shut", "set": "set", "paying": "pay",
}


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    word = IRREGULAR.get(word, word)
    with _stemmer_lock:
        return _stemmer.stemWord(word)


_NOTATION = ((re.compile(r"β"), " beta "), (re.compile(r"<\s*0\b"), " below zero negative "),
             (re.compile(r">\s*0\b"), " above zero positive "))
# Everyday phrasal verbs and the words documents use for them: "when do my points run out?" asks when they
# expire. Both sides of the index see them, like the abbreviations.
PHRASAL = {
    "run out": "expire", "runs out": "expire", "ran out": "expire", "running out": "expire",
    "send back": "return", "sent back": "return", "give back": "refund", "pay back": "repay",
    "paid back": "repay", "cash out": "redeem", "hand out": "distribute",
    "handed out": "distribute", "pay out": "payout", "pays out": "payout", "paid out": "payout",
    "signs off": "approve", "signed off": "approve", "put forward": "nominate",
    "turn down": "reject", "turned down": "reject", "find out": "notify", "found out": "notify",
    "set up": "establish",
    "top up": "add", "topped up": "add", "pull out": "withdraw", "take out": "withdraw", "took out": "withdraw",
    "break down": "fail", "broke down": "fail", "packed up": "fail", "call off": "cancel", "called off": "cancel",
    "step down": "resign", "stepped down": "resign", "blow the whistle": "whistleblow",
    "get back to": "respond reply acknowledge", "gets back to": "respond reply acknowledge",
    "got back to": "respond reply acknowledge", "hear back": "respond reply", "upside down": "inverted",
    "money back": "refund", "buy back": "repurchase buyback", "buys back": "repurchase buyback",
    "bought back": "repurchase buyback", "buying back": "repurchase buyback",
    "sign up": "enrol register join", "signed up": "enrol register join", "signs up": "enrol register join",
    "go bust": "bankrupt insolvent", "goes bust": "bankrupt insolvent", "went bust": "bankrupt insolvent",
    "gone bust": "bankrupt insolvent default", "going bust": "bankrupt insolvent",
    "hand in": "submit", "handed in": "submit", "kick in": "start begin", "kicks in": "start begin",
    "laid off": "redundant dismiss", "lay off": "redundant dismiss", "opt out": "withdraw", "opt in": "enrol",
    "shut down": "halt close", "passed away": "death", "pass away": "death",
    "prices went up": "inflation", "prices go up": "inflation", "prices rose": "inflation",
    "prices rise": "inflation", "prices rising": "inflation", "cost of living": "inflation",
}
_PHRASAL = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PHRASAL), key=len, reverse=True)) + r")\b")
_PARTICLES = ("back", "out", "up", "in", "off", "down", "over")
# A verb and its particle with up to three words between ("send the bike back", "cash it in").
_SEPARABLE = {
    (verb, particle): reading for phrase, reading in PHRASAL.items()
    if len(phrase.split()) == 2 and (verb := phrase.split()[0]) and (particle := phrase.split()[1]) in _PARTICLES
} | {("cash", "in"): "redeem sell"}  # "cash it in", never "the cash in the bank"
_SEPARATED = re.compile(r"\b(" + "|".join(sorted({re.escape(v) for v, _ in _SEPARABLE})) + r")((?:\s+[a-z0-9']+){1,3}?)"
                        r"\s+(" + "|".join(_PARTICLES) + r")\b")


def _phrasal_matches(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, the phrase's words, its reading) of every phrasal verb in ``text`` (lower case), the
    separated ones ("send the bike back") too."""
    out = [(m.start(), m.end(), m.group(0), PHRASAL[m.group(0)]) for m in _PHRASAL.finditer(text)]
    taken = [(a, b) for a, b, _, _ in out]
    for m in _SEPARATED.finditer(text):
        reading = _SEPARABLE.get((m.group(1), m.group(3)))
        if reading and not any(a < m.end() and m.start() < b for a, b in taken):
            out.append((m.start(), m.end(), f"{m.group(1)} {m.group(3)}", reading))
    return sorted(out)


def _words(text: str, phrasal: bool = True) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    for pattern, words in _NOTATION:  # "β < 0" is how a document writes "negative beta"
        text = pattern.sub(words, text)
    if phrasal:
        for start, end, _, reading in reversed(_phrasal_matches(text)):
            text = f"{text[:end]} {reading}{text[end:]}"
    text = _JOINED.sub(r"\1\2", text)
    return _WORD.findall(text.replace("'", ""))


@lru_cache(maxsize=256)
def _expansion(abbr: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _words(ABBREVIATIONS[abbr]) if w not in STOPWORDS)


def tokenize(text: str, *, phrasal: bool = True) -> list[str]:
    """Stemmed terms of ``text``, stop words dropped, abbreviations followed by their spelled-out terms (and
    phrasal verbs by the word documents use, unless ``phrasal`` is false)."""
    out = []
    for word in _words(text, phrasal):
        if word in STOPWORDS:
            continue
        out.append(stem(word))
        if word in ABBREVIATIONS:
            out.extend(_expansion(word))
    return out


def phrasal_readings(text: str) -> dict[str, frozenset[str]]:
    """The terms of each phrasal verb's own words and the terms of its reading: "upside down" gives
    {"upsid": {"invert"}}, so a document that says "inverted" answers the question's "upside down"."""
    low = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    out: dict[str, set[str]] = defaultdict(set)
    for _, _, phrase, reading in _phrasal_matches(low):
        reading_terms = set(tokenize(reading, phrasal=False))
        for term in tokenize(phrase, phrasal=False):
            out[term] |= reading_terms
    return {term: frozenset(reading) for term, reading in out.items()}


@lru_cache(maxsize=1)
def _synonym_map() -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for group in SYNONYMS:
        stems = {stem(w) for w in group}
        for s in stems:
            out[s] |= stems - {s}
    return {k: frozenset(v) for k, v in out.items()}


def query_terms(query: str) -> dict[str, float]:
    """Weighted query terms: the question's own terms at 1, their synonyms at EXPANSION_WEIGHT."""
    weights: dict[str, float] = {}
    for term in tokenize(query):
        weights[term] = 1.0
    for term in list(weights):
        for other in _synonym_map().get(term, ()):
            weights.setdefault(other, EXPANSION_WEIGHT)
    return weights


def passage_terms(*, title: str, heading: str, text: str) -> dict[str, int]:
    """Term frequencies stored for a passage: body, heading and title, the latter two weighted."""
    counts = Counter(tokenize(text))
    for term in tokenize(heading):
        counts[term] += HEADING_WEIGHT
    for term in tokenize(title):
        counts[term] += TITLE_WEIGHT
    return dict(counts)


@dataclass(frozen=True)
class Entry:
    """One passage as the index sees it; ``ref`` is whatever the caller needs back (a row, an id)."""

    ref: Any
    doc: Any
    terms: dict


class BM25Index:
    """Okapi BM25 over passages plus a document-level BM25 that lifts passages of on-topic documents."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths = [sum(e.terms.values()) for e in entries]
        self.avg = (sum(self.lengths) / len(entries)) if entries else 1.0
        doc_terms: dict[object, Counter] = defaultdict(Counter)
        self.by_doc: dict[object, list[Entry]] = defaultdict(list)
        for i, entry in enumerate(entries):
            self.by_doc[entry.doc].append(entry)
            for term, tf in entry.terms.items():
                self.postings[term].append((i, tf))
            doc_terms[entry.doc].update(entry.terms)
        self.doc_postings: dict[str, list[tuple[object, int]]] = defaultdict(list)
        self.doc_lengths = {doc: sum(c.values()) for doc, c in doc_terms.items()}
        self.doc_avg = (sum(self.doc_lengths.values()) / len(doc_terms)) if doc_terms else 1.0
        for doc, counts in doc_terms.items():
            for term, tf in counts.items():
                self.doc_postings[term].append((doc, tf))

    def __len__(self) -> int:
        return len(self.entries)

    @staticmethod
    def idf(n: int, df: int) -> float:
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def _doc_scores(self, terms: dict[str, float]) -> dict[object, float]:
        n, scores = len(self.doc_lengths), defaultdict(float)
        for term, weight in terms.items():
            postings = self.doc_postings.get(term)
            if not postings:
                continue
            idf = self.idf(n, len(postings)) * weight
            for doc, tf in postings:
                norm = K1 * (1 - B + B * self.doc_lengths[doc] / self.doc_avg)
                scores[doc] += idf * tf * (K1 + 1) / (tf + norm)
        return scores

    def search(self, query: str, limit: int = 5, per_document: int = 1) -> list[tuple[Entry, float]]:
        """Best passages for ``query``, at most ``per_document`` from one document, best first."""
        terms = query_terms(query)
        n, scores = len(self.entries), defaultdict(float)
        for term, weight in terms.items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(n, len(postings)) * weight
            for i, tf in postings:
                norm = K1 * (1 - B + B * self.lengths[i] / self.avg)
                scores[i] += idf * tf * (K1 + 1) / (tf + norm)
        doc_scores = self._doc_scores(terms)
        ranked = sorted(((s + DOC_WEIGHT * doc_scores[self.entries[i].doc], i) for i, s in scores.items()),
                        reverse=True)
        out, taken = [], Counter()
        for score, i in ranked:
            entry = self.entries[i]
            if taken[entry.doc] >= per_document:
                continue
            taken[entry.doc] += 1
            out.append((entry, score))
            if len(out) >= limit:
                break
        return out


def snippet(text: str, query: str, width: int = 320) -> str:
    """The window of ``text`` (plain text) with the most query terms, cut at word boundaries."""
    words = text.split()
    if len(" ".join(words)) <= width:
        return " ".join(words)
    wanted = set(query_terms(query))
    stems = [_token_stem(w) for w in words]
    best, best_hits, size = 0, -1, max(10, width // 7)
    for start in range(0, max(1, len(words) - size + 1), 4):
        hits = sum(1 for s in stems[start:start + size] if s in wanted)
        if hits > best_hits:
            best, best_hits = start, hits
    piece = " ".join(words[best:best + size])
    if len(piece) > width:
        piece = piece[:width].rsplit(" ", 1)[0]
    return ("… " if best else "") + piece + (" …" if best + size < len(words) else "")


@lru_cache(maxsize=100_000)
def _token_stem(token: str) -> str:
    return stem(_first_word(token))


def _first_word(token: str) -> str:
    found = _words(token)
    return found[0] if found else ""
