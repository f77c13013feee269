"""The offline engine (``LLM_PROVIDER=local``): rules over market data and the knowledge base, not a language model.

A turn goes through, in order:

    entities.py   what the question names: tickers ($AAPL, AAPL), company names, amounts, weights
    periods.py    the period it asks about ("since March", "over 5 years")
    intents.py    what it asks for (quote, change, compare, define...), follow-ups from the last turn
    resolve.py    which listing a word names (tickers, company names; everyday words are neither)
    question.py   what the question asks for and how much each of its words weighs
    units.py      a document read as sentences and list items
    grounding.py  the document that answers and the units that answer it
    writers.py    the writer of each intent; market.py (market data) and knowledge.py (the knowledge base)
    replies.py    what writers share: the turn's State, the Answer, greetings, help, "I don't know"

Every figure and every sentence of an answer comes from a tool result, and the answer cites it. The answer
streams out in small pieces, like a model's, so the pages behave the same with any provider.
"""

import logging
import re
import time

from monitoring import metrics

from ..provider import Provider, Turn
from . import intents, routing
from . import writers as answers
from .entities import resolve_mentions
from .resolve import name_resolve, symbol_resolve

logger = logging.getLogger(__name__)
MODEL = "local-rules"
_CHUNK = re.compile(r"\S+\s*|\s+")
_TAG = re.compile(r"<[^>]{0,200}>")


def token_count(text: str) -> int:
    """Roughly what a tokenizer would count: words and punctuation."""
    return len(re.findall(r"\w+|[^\w\s]", text))


class LocalProvider(Provider):
    name = "local"
    history_limit = 2

    def model_name(self) -> str:
        return MODEL

    def run(self, turn: Turn):
        started = time.perf_counter()
        text = _TAG.sub(" ", turn.message)  # markup in a question is not part of the question
        entities, unknown, names = resolve_mentions(text, symbol_resolve, name_resolve)
        things = routing.everyday_things(text, entities)
        entities = [e for e in entities if e not in things]
        intent = intents.classify(text, entities, unknown, unknown_names=names, context=turn.context)
        state = answers.State(turn=turn, intent=intent)
        try:
            writer = yield from routing.route(state, text, entities)
            answer = yield from writer(state)
        except Exception:  # a bug must not cost the user an answer: say so and carry on
            logger.exception("local provider failed on %r", turn.message[:200])
            answer = answers.answer_failure(state)
        for piece in _pieces(answer.text):
            yield {"type": "token", "text": piece}
        tokens = token_count(turn.message) + token_count(answer.text)
        metrics.track_model(MODEL, tokens, (time.perf_counter() - started) * 1000)
        yield {
            "type": "done", "answer": answer.text, "sources": answer.sources, "cards": answer.cards,
            "tool_calls": [call.record() for call in state.calls], "tokens": tokens, "model": MODEL,
            "metadata": {"intent": intent.kind, "symbols": answer.symbols if answer.symbols is not None
                         else intent.symbols, "period": intent.period.code if intent.period else None,
                         "fields": intent.fields, "documents": list(dict.fromkeys(state.documents)),
                         "units": state.units,
                         "provider": self.name},
        }


def _pieces(text: str, words: int = 6):
    """The answer in pieces of a few words (whitespace kept), as a model streams it."""
    parts = _CHUNK.findall(text)
    for i in range(0, len(parts), words):
        yield "".join(parts[i:i + words])
