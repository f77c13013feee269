"""What the language-model providers share: the system prompt, the context budget and the tool loop.

A provider turns the turn into its own message format, runs one completion per round (yielding token events
as text arrives) and says how tool calls and results go back into the conversation; ``ModelProvider.run``
does the rest the same way for every model: the tools, sources, cards, metrics and the ``done`` event.
"""

import json
import time
from collections.abc import Generator
from dataclasses import dataclass, field

from monitoring import metrics

from ..cards import cards_from_result, sources_from_result, sources_merge
from ..provider import Provider, ProviderError, Turn
from ..tools import ToolResult, tool_schemas

SYSTEM_PROMPT = (
    "You are StockTool's financial assistant. Use the tools for every price, change, comparison, company "
    "fact and portfolio analysis; never invent figures. Use search_knowledge for financial terms, rules, "
    "policies, methods and named things (a ratio, an order type, how StockTool computes something) before "
    "you answer, and answer from the documents it returns. Cite your sources: name the knowledge base "
    "documents you used by title, and give the data source and as-of time of market data; say so when the "
    "data is demo data (not real prices). Do not give personal investment advice or predictions. Answer "
    "briefly in Markdown."
)
MAX_TOOL_ROUNDS = 4
TOOL_RESULT_CHARS = 12_000


def estimate_tokens(text: str) -> int:
    """About four characters a token in English (OpenAI's rule of thumb); good enough to budget a context."""
    return len(text) // 4 + 1


def history_trim(history: list[dict], budget: int) -> list[dict]:
    """The newest user/assistant messages that fit ``budget`` tokens, oldest first; a long one is cut."""
    kept, used = [], 0
    for message in reversed(history):
        if message.get("role") not in ("user", "assistant") or not message.get("content"):
            continue
        content = message["content"]
        cost = estimate_tokens(content) + 4
        if used + cost > budget:
            room = (budget - used - 4) * 4
            if room >= 200 and not kept:
                kept.append({"role": message["role"], "content": content[:room] + " […]"})
            break
        kept.append({"role": message["role"], "content": content})
        used += cost
    return list(reversed(kept))


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str | dict = ""  # as the model sent them: JSON text (streamed), or an object

    def arguments_object(self) -> dict | None:
        """The arguments as an object, or None when the model wrote something else."""
        value = self.arguments
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except json.JSONDecodeError:
                return None
        return value if isinstance(value, dict) else None

    def arguments_text(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Reply:
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tokens: int = 0


Completion = Generator[dict, None, Reply]


class ModelProvider(Provider):
    history_limit = 20

    def __init__(self, *, model: str, context_tokens: int = 16_000, max_tokens: int = 800):
        self.model, self.context_tokens, self.max_tokens = model, context_tokens, max_tokens

    def model_name(self) -> str:
        return self.model

    # --- What each provider says in its own format ------------------------------------------------------
    def conversation_start(self, turn: Turn) -> list[dict]:
        """The messages of the first request: the trimmed history and the question."""
        raise NotImplementedError

    def complete(self, messages: list[dict], *, last: bool) -> Completion:
        """One completion: yield token events as text arrives; return the Reply (``last``: no more tools)."""
        raise NotImplementedError

    def conversation_extend(self, messages: list[dict], reply: Reply,
                            results: list[tuple[ToolCall, str]]) -> None:
        """Add the model's tool calls and our results (JSON text) to the messages."""
        raise NotImplementedError

    # --- The same for every model ----------------------------------------------------------------------
    def history_budget(self, turn: Turn) -> int:
        schemas = estimate_tokens(json.dumps(tool_schemas()))
        prompt = estimate_tokens(SYSTEM_PROMPT + turn.message)
        return max(self.context_tokens - self.max_tokens - schemas - prompt - 16, 0)

    def run(self, turn: Turn):
        started = time.perf_counter()
        messages = self.conversation_start(turn)
        calls, sources, cards, parts, tokens = [], [], [], [], 0
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            last = round_ == MAX_TOOL_ROUNDS
            reply = yield from self.complete(messages, last=last)
            tokens += reply.tokens
            parts.append(reply.content)
            if not reply.tool_calls or last:  # a call in the last round would never get its result read
                break
            results = []
            for call in reply.tool_calls:
                result = yield from self._call(call, turn, calls)
                if result.ok:
                    sources_merge(sources, sources_from_result(call.name, result.data))
                    cards += cards_from_result(call.name, result.data)
                content = json.dumps(result.data if result.ok else {"error": result.error}, default=str)
                results.append((call, content[:TOOL_RESULT_CHARS]))
            self.conversation_extend(messages, reply, results)
        answer = "".join(parts).strip()
        if not answer:
            raise ProviderError("the model returned an empty answer")
        metrics.track_model(self.model, tokens, (time.perf_counter() - started) * 1000)
        yield {"type": "done", "answer": answer, "sources": sources, "cards": cards, "tokens": tokens,
               "tool_calls": [c.record() for c in calls], "model": self.model,
               "metadata": {"intent": "model", "symbols": _symbols(calls), "period": None, "fields": [],
                            "provider": self.name}}

    def _call(self, call: ToolCall, turn: Turn, calls: list[ToolResult]):
        arguments = call.arguments_object()
        if arguments is not None:
            return (yield from self.call_tool(call.name, arguments, turn, calls))
        result = ToolResult(call.name, {}, False, error="the arguments were not a JSON object")
        calls.append(result)
        yield {"type": "tool_start", "name": call.name, "arguments": {}}
        yield {"type": "tool_end", **result.record()}
        return result


def _symbols(calls) -> list[str]:
    out = []
    for call in calls:
        args = call.arguments
        out += [args["symbol"]] if isinstance(args.get("symbol"), str) else []
        symbols = args.get("symbols")
        out += [s for s in symbols if isinstance(s, str)] if isinstance(symbols, list) else []
    return list(dict.fromkeys(s.upper() for s in out))
