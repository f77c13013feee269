"""Which answer a question gets, from two signals: what the words ask for (``intents``) and what the knowledge
base holds (``grounding``).

- Market data when a ticker or a company name resolves to a listing and the question asks for market data.
- The knowledge base when it covers the question: a concept, a rule, a policy, a named thing in its documents.
- Both when both apply ("AAPL's dividend yield and what a dividend yield means").
- An "unknown symbol" reply only for what is written like a ticker (AAPL, $XYZ); otherwise, when nothing fits,
  a plain "I don't know" that offers the closest documents.
"""

import re

from knowledge.ranking import tokenize
from knowledge.selectors import knowledge_titles_mention

from .entities import Entity
from .intents import _FOLLOW_UP, _PRONOUNS, keywords
from .knowledge import answer_knowledge, answer_no_match, answer_tentative, evidence_gather, grounded_text
from .replies import answer_no_data
from .writers import WRITERS

CHAT = frozenset({"greeting", "thanks", "help"})
MARKET_WORDS = frozenset({"quote", "change", "history", "compare", "extreme", "risk", "ticker", "portfolio", "invest"})
MARKET = frozenset({"quote", "change", "history", "extreme", "risk", "compare", "profile", "growth", "portfolio",
                    "ticker", "advice"})
# A question that asks what something means, beside whatever else it asks.
_CONCEPT = re.compile(r"\b(mean|means|meaning|stand for|stands for|define|definition|explain|what (is|are) an? |"
                      r"what (is|are) the (difference|formula)|how (is|are) [\w\s/-]+ (calculated|computed|measured))\b")
# Words that say a company word is meant as a company ("apple stock", "price of meta").
_MARKET_VOCABULARY = re.compile(r"\b(stocks?|shares?|price[sd]?|quotes?|trading|traded|trades?|ticker|market cap\w*|"
                                r"valuation|volatil\w*|drawdown|returns?|performance|perform\w*|chart|history|"
                                r"compare|vs\.?|versus|earnings|beta|dividend yield|p/?e|worth|invest\w*|"
                                r"portfolio|holdings?|up|down|gain\w*|los[st]\w*)\b", re.IGNORECASE)


_WEAK_VERBS = re.compile(r"\b(do|does|did|doing|done|up|down)\b")

# Words that point back at what the conversation is about ("stretch that cover", "get back to me").
_REFERS = re.compile(r"\b(that|this|there|then|so|he|she|him|her|his|one|ones|me|my|i|we|us|our)\b")


def knowledge_follow_up(text: str, context: dict) -> bool | str:
    """Whether the question leans on the document of the last answer ("and when is it paid?"): True, "loose"
    when only a word such as "that" or "me" points back, or False."""
    if not context.get("documents"):
        return False
    low = text.lower()
    if _PRONOUNS.search(low) or _FOLLOW_UP.search(low) or len(low.split()) <= 5:
        return True
    return "loose" if _REFERS.search(low) else False


def _written(text: str, entity: Entity) -> str:
    """The entity as the question wrote it."""
    start = entity.start
    return text[start:start + len(entity.text) + (1 if text[start:start + 1] == "$" else 0)]


def _weak_entities(text: str, entities: list[Entity]) -> bool:
    """Every listing was found from an ordinary lower-case word ("meta", "visa") in a question that says nothing
    about markets: the word may well mean what it means in English."""
    return bool(entities) and all(_plain(text, e) for e in entities) and not _MARKET_VOCABULARY.search(text)


def _plain(text: str, entity: Entity) -> bool:
    """Written in lower case, or capitalised only because it opens a sentence of several words ("Visa rules for
    a trip to Japan?"); not "$V", not "Visa" inside a sentence."""
    written = _written(text, entity)
    if written.startswith("$"):
        return False
    if written.islower():
        return True
    opens = not text[:entity.start].strip() or re.search(r"[.!?]\s*$", text[:entity.start])
    return bool(opens) and written[1:].islower() and len(text.split()) >= 5


# "a can of coke", "an apple a day", "two bottles of corona": an ordinary word counted or measured is the thing
# itself, not a company's shares, whatever else the question asks ("has a can of coke gone up in price?").
_COUNTED = re.compile(r"\b(?:an?|(?:an?|one|two|three|four|five|six|\d+|half\s+a|some|few|lots?)\s+(?:cans?|bottles?|"
                      r"glass(?:es)?|cups?|mugs?|pints?|bags?|box(?:es)?|slices?|pieces?|bars?|tins?|packs?|packets?|"
                      r"jars?|litres?|liters?|gallons?|pounds?|kilos?|bunch(?:es)?|cartons?|loaf|loaves|dozen|"
                      r"bowls?|plates?|portions?|spoonfuls?)\s+of)\s+$", re.IGNORECASE)
_AS_SHARES = re.compile(r"^\W*(?:stocks?|shares?|share\s+price|ticker|options?)\b", re.IGNORECASE)


def everyday_things(text: str, entities: list[Entity]) -> list[Entity]:
    """The entities that name a thing, not a listing: a plain word (see ``_plain``) counted or measured ("a can
    of coke") and not followed by "shares" or "stock"."""
    return [e for e in entities if _plain(text, e) and _COUNTED.search(text[:e.start])
            and not _AS_SHARES.match(text[e.start + len(_written(text, e)):])]


def route(state, text: str, entities: list[Entity]):
    """Gather the knowledge base's evidence into ``state`` and return the writer for the turn (a generator)."""
    intent = state.intent
    if intent.kind in CHAT:
        return WRITERS[intent.kind]
    if intent.symbols and intent.kind in MARKET and not _weak_entities(text, entities) \
            and not any(knowledge_titles_mention(text=_written(text, e)) for e in entities):
        # No document is about a company the question names, so the knowledge base cannot change the market
        # answer, only add a definition the question asks for: skip the full lookup (a title-term check).
        return (yield from _market(state, text, entities))
    follow_up = not intent.symbols and knowledge_follow_up(text, state.turn.context)
    state.evidence = yield from evidence_gather(state, text, follow_up=follow_up)
    confident = state.evidence.confident
    if intent.symbols and not intent.from_context and _weak_entities(text, entities):
        if confident and _mentions(state.evidence, text, entities):
            intent.kind, intent.symbols = "knowledge", []
            return answer_knowledge
        asked = keywords(text) & MARKET_WORDS
        if not all(_written(text, e).islower() for e in entities):
            # Capitalised where the sentence opens ("Visa rules for a trip: do I need one?"): "do" and "up" alone
            # do not make it a market question, as they do for "how did meta do?"
            asked = keywords(_WEAK_VERBS.sub(" ", text.lower())) & MARKET_WORDS
        if not intent.fields and not asked:
            intent.symbols = []  # "is an apple a day enough?": nothing here asks for market data
    if intent.names and len(text.split()) > 8:
        intent.names = []  # a long question is not "the price of gold": offer the closest documents instead
    if intent.symbols and intent.kind in MARKET:
        market = WRITERS[intent.kind]
        if confident and intent.kind != "advice" and _about(state.evidence, text, entities):
            return _both(market, state.evidence)  # "Apple's dividend policy" and a document about it
        return (yield from _market(state, text, entities))
    if intent.kind == "portfolio" or (intent.kind == "advice" and not confident):
        return WRITERS[intent.kind]
    if confident and not (intent.names and len(intent.fields) + len(text.split()) <= 6
                          and not state.evidence.names_covered(intent.names)):
        intent.kind = "knowledge"
        return answer_knowledge
    if intent.unknown:
        intent.kind = "unknown_symbol"
        return WRITERS["unknown_symbol"]
    if intent.names and keywords(text) & {"quote", "change", "history", "compare", "extreme"}:
        intent.kind = "no_data"  # "the price of gold": a market question about something with no listing
        return answer_no_data
    if state.evidence.tentative and not intent.names and intent.kind not in MARKET:
        intent.kind = "knowledge"
        return answer_tentative
    if intent.kind == "unknown" or not (state.evidence.closest or state.evidence.names_missing
                                        or state.evidence.follow_up):
        return WRITERS["unknown"]
    intent.kind = "no_match"
    return answer_no_match


def _market(state, text: str, entities: list[Entity]):
    """The market writer, with what a concept means when the question also asks that."""
    market = WRITERS[state.intent.kind]
    if state.intent.kind != "advice" and _CONCEPT.search(text.lower()):
        evidence = yield from evidence_gather(state, _without(text, entities))
        if evidence.confident:
            return _both(market, evidence)
    return market


def _mentions(evidence, text: str, entities: list[Entity]) -> bool:
    """Whether the best document uses the words taken for companies ("a meta-analysis"): then they are its words."""
    best = evidence.best
    words = {t for e in entities for t in tokenize(_written(text, e))}
    return bool(best) and words.isdisjoint(best.missing)


def _about(evidence, text: str, entities: list[Entity]) -> bool:
    """Whether the best document is about a company the question names (its name or ticker in the title)."""
    title = set(tokenize(evidence.best.document["title"]))
    return any(set(tokenize(_written(text, e))) & title for e in entities)


def _without(text: str, entities: list[Entity]) -> str:
    """The question with its tickers and company names blanked out: what is left asks about the concept."""
    for entity in sorted(entities, key=lambda e: -e.start):
        end = entity.start + len(_written(text, entity))
        text = text[:entity.start] + " " + re.sub(r"^['’]s\b", "", text[end:])
    return text


def _both(market, evidence):
    """The market answer, then what the concept means from the knowledge base."""
    def writer(state):
        answer = yield from market(state)
        if any(s.get("key") == evidence.best.document["key"] for s in state.sources):
            return answer  # the market answer already explained it from that document
        yield from state.report(evidence.search)
        concept = grounded_text(state, evidence)
        answer.text = f"{answer.text}\n\n{concept}"
        answer.sources = state.sources
        return answer
    return writer
