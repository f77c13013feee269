"""What every model provider takes and yields.

A provider's ``run(turn)`` is a generator of events (plain dicts, JSON-ready), in the order they happen:

    {"type": "tool_start", "name", "arguments"}
    {"type": "tool_end", "name", "arguments", "ok", "elapsed_ms", "error"?, "source"?, "as_of"?}
    {"type": "token", "text"}                      a piece of the answer, as produced
    {"type": "done", "answer", "sources", "cards", "tool_calls", "metadata", "tokens", "model"}

It raises ``ProviderError`` (one readable line) when it cannot answer at all.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .tools import ToolContext, ToolResult, tool_run


class ProviderError(Exception):
    """The model could not answer (unreachable, refused, timed out, malformed reply)."""


@dataclass
class Turn:
    message: str
    history: list[dict] = field(default_factory=list)  # earlier messages, oldest first: role, content, metadata
    user: Any = None

    @property
    def context(self) -> dict:
        """The metadata of the last assistant message: its intent, symbols, period and fields."""
        for message in reversed(self.history):
            if message.get("role") == "assistant":
                return message.get("metadata") or {}
        return {}

    @property
    def last_question(self) -> str:
        """The user's previous message, which a follow-up ("and when is it paid?") leans on."""
        for message in reversed(self.history):
            if message.get("role") == "user":
                return message.get("content") or ""
        return ""


class Provider:
    name = "base"
    history_limit = 2  # earlier messages the provider reads: the turn's only read of the store fetches these

    def model_name(self) -> str:
        return self.name

    def run(self, turn: Turn) -> Iterator[dict]:
        raise NotImplementedError

    @staticmethod
    def call_tool(name: str, arguments: dict, turn: Turn, calls: list[ToolResult]):
        """Run a tool between a tool_start and a tool_end event; return its ToolResult (``yield from`` it)."""
        yield {"type": "tool_start", "name": name, "arguments": arguments}
        result = tool_run(name, arguments, context=ToolContext(user=turn.user))
        calls.append(result)
        yield {"type": "tool_end", **result.record()}
        return result
