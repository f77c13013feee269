"""Any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM...), through the ``openai`` SDK.

One streamed completion per round, with function calling over the assistant's tools; tool-call deltas are
assembled by index, and ``stream_options.include_usage`` gives the token count. The SDK retries a request
that fails before answering (connection refused, timeout, 408/409/429/5xx, honouring Retry-After) up to
``max_retries`` times; once the stream has started nothing is retried, so no text is ever repeated.
``timeout`` bounds connecting and each wait for data. History is trimmed, newest kept, to fit the context.
"""

import json
import os
import time
from functools import lru_cache

import openai

from ..provider import ProviderError, Turn
from ..tools import tool_schemas
from .model import SYSTEM_PROMPT, Completion, ModelProvider, Reply, ToolCall, estimate_tokens, history_trim

STREAM_TIMEOUTS = 4  # a whole answer may take this many timeouts (a server that trickles data forever)


@lru_cache(maxsize=8)
def _client(api_key: str, base_url: str, timeout: float, max_retries: int) -> openai.OpenAI:
    """One SDK client (and connection pool) per configuration, shared by the process's threads."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)


os.register_at_fork(after_in_child=_client.cache_clear)  # a forked worker opens its own connections


class OpenAIProvider(ModelProvider):
    name = "openai"

    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float = 30, max_retries: int = 2,
                 context_tokens: int = 16_000, max_tokens: int = 800):
        super().__init__(model=model, context_tokens=context_tokens, max_tokens=max_tokens)
        self.timeout = timeout
        self.options = (api_key, base_url.rstrip("/"), float(timeout), max_retries)

    def conversation_start(self, turn: Turn) -> list[dict]:
        history = history_trim(turn.history, self.history_budget(turn))
        return [{"role": "system", "content": SYSTEM_PROMPT}, *history,
                {"role": "user", "content": turn.message}]

    def conversation_extend(self, messages: list[dict], reply: Reply,
                            results: list[tuple[ToolCall, str]]) -> None:
        messages.append({"role": "assistant", "content": reply.content or None, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_text()}}
            for c in reply.tool_calls]})
        messages += [{"role": "tool", "tool_call_id": c.id, "content": content} for c, content in results]

    def complete(self, messages: list[dict], *, last: bool) -> Completion:
        params = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens, "stream": True,
                  "stream_options": {"include_usage": True}}
        if not last:
            params["tools"] = tool_schemas()
        try:  # the client is built here: without a key the SDK refuses to build one
            raw = _client(*self.options).chat.completions.with_raw_response.create(**params)
        except openai.OpenAIError as exc:
            raise self._error(exc, streaming=False) from exc
        if "text/event-stream" not in raw.headers.get("content-type", ""):
            return _whole(raw.http_response)  # a server that ignores "stream": one JSON body
        stream = raw.parse()
        try:
            return (yield from self._read(stream, messages))
        finally:
            stream.close()

    def _read(self, stream, messages: list[dict]) -> Completion:
        reply, calls, deadline = Reply(), {}, time.monotonic() + self.timeout * STREAM_TIMEOUTS
        try:
            for chunk in stream:
                if time.monotonic() > deadline:
                    raise ProviderError("the model took too long to answer")
                if chunk.usage and chunk.usage.total_tokens:
                    reply.tokens = chunk.usage.total_tokens
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta and delta.content:
                        reply.content += delta.content
                        yield {"type": "token", "text": delta.content}
                    for part in (delta.tool_calls if delta else None) or []:
                        _merge_call(calls, part)
        except openai.OpenAIError as exc:
            raise self._error(exc, streaming=True) from exc
        except json.JSONDecodeError as exc:
            raise ProviderError("the model endpoint sent malformed JSON") from exc
        reply.tool_calls = [calls[i] for i in sorted(calls) if calls[i].name]
        reply.tokens = reply.tokens or estimate_tokens(json.dumps(messages) + reply.content)
        return reply

    def _error(self, exc: openai.OpenAIError, *, streaming: bool) -> ProviderError:
        """One readable line for what the SDK raised."""
        if isinstance(exc, openai.APIStatusError):
            message = _message_of(exc.body, exc)
            return ProviderError(f"the model endpoint answered {exc.status_code}: {message}")
        if isinstance(exc, openai.APITimeoutError):
            if streaming:
                return ProviderError(f"the model stopped answering (no data for {self.timeout:g} s)")
            return ProviderError(f"the model endpoint could not be reached: no answer in {self.timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):
            if streaming:
                return ProviderError("the model stopped answering: the connection was lost")
            reason = _one_line(exc.__cause__ or exc)
            return ProviderError(f"the model endpoint could not be reached: {reason}")
        if isinstance(exc, openai.APIError):  # an error event inside the stream
            return ProviderError(f"the model failed: {_message_of(exc.body, exc)}")
        return ProviderError(f"the model endpoint failed: {_one_line(exc)}")


def _whole(response) -> Reply:
    try:
        response.read()
        data = response.json()
        message = data["choices"][0]["message"]
    except (ValueError, LookupError, TypeError) as exc:
        raise ProviderError("the model endpoint sent an unexpected reply") from exc
    finally:
        response.close()
    calls = [ToolCall(c.get("id") or f"call_{i}", c["function"]["name"], c["function"].get("arguments") or "")
             for i, c in enumerate(message.get("tool_calls") or [])]
    content = message.get("content") or ""
    tokens = (data.get("usage") or {}).get("total_tokens") or estimate_tokens(content)
    return Reply(content, calls, tokens)


def _merge_call(calls: dict[int, ToolCall], part) -> None:
    index = part.index or 0
    call = calls.setdefault(index, ToolCall(f"call_{index}", "", ""))
    call.id = part.id or call.id
    if part.function:
        call.name += part.function.name or ""
        call.arguments += part.function.arguments or ""


def _message_of(body, exc: Exception) -> str:
    message = body.get("message") if isinstance(body, dict) else body
    return _one_line(message or getattr(exc, "message", exc))


def _one_line(value) -> str:
    return " ".join(str(value).split())[:300]
