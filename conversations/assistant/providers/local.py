"""The local provider: offline, no key. Rules, not a language model.

It extracts the intent and entities of the message (``intents``), calls the tools the intent needs, and writes
a grounded answer from their results (``local_answers``), citing its sources. The answer streams out in small
pieces, like a model's, so the pages behave the same with either provider.
"""

import logging
import re
import time

from monitoring import metrics

from .. import intents
from ..entities import resolve_mentions
from ..tools import name_resolve, symbol_resolve
from . import answers
from .base import Provider, Turn

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
        intent = intents.classify(text, entities, unknown, unknown_names=names, context=turn.context)
        writer = answers.WRITERS.get(intent.kind, answers.answer_unknown)
        state = answers.State(turn=turn, intent=intent)
        try:
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
                         "fields": intent.fields, "provider": self.name},
        }


def _pieces(text: str, words: int = 6):
    """The answer in pieces of a few words (whitespace kept), as a model streams it."""
    parts = _CHUNK.findall(text)
    for i in range(0, len(parts), words):
        yield "".join(parts[i:i + words])
