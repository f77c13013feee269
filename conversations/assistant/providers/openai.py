"""Any OpenAI-compatible chat-completions endpoint, with function calling over the assistant's tools.

Standard library HTTP (``urllib``): one streaming POST per round, Server-Sent Events read line by line. A request
that fails before anything was streamed (connection refused, timeout, 429, 5xx) is retried with back-off; after
the first token it is not, so no text is ever repeated. History is trimmed, newest kept, to fit the context.
"""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from monitoring import metrics

from ..cards import cards_from_result, sources_from_result, sources_merge
from ..tools import ToolResult, tool_schemas
from ..provider import Provider, ProviderError, Turn

SYSTEM_PROMPT = (
    "You are StockTool's financial assistant. Use the tools for every price, change, comparison, company fact, "
    "financial term and portfolio analysis; never invent figures. Cite your sources: name the knowledge base "
    "documents you used by title, and give the data source and as-of time of market data; say so when the data "
    "is demo data (not real prices). Do not give personal investment advice or predictions. Answer briefly in "
    "Markdown."
)
RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
MAX_TOOL_ROUNDS = 4
TOOL_RESULT_CHARS = 12_000


def estimate_tokens(text: str) -> int:
    """About four characters a token in English (OpenAI's rule of thumb); good enough to budget a context."""
    return len(text) // 4 + 1


def history_trim(history: list[dict], budget: int) -> list[dict]:
    """The newest user/assistant messages that fit ``budget`` tokens, oldest first; an oversized one is cut."""
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
class Reply:
    content: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    tokens: int = 0


class OpenAIProvider(Provider):
    name = "openai"
    history_limit = 20

    def __init__(self, *, api_key: str, base_url: str, model: str, timeout: float = 30, max_retries: int = 2,
                 context_tokens: int = 16_000, max_tokens: int = 800, backoff: float = 0.5):
        self.api_key, self.base_url, self.model = api_key, base_url.rstrip("/"), model
        self.timeout, self.max_retries, self.backoff = timeout, max_retries, backoff
        self.context_tokens, self.max_tokens = context_tokens, max_tokens

    def model_name(self) -> str:
        return self.model

    def messages_for(self, turn: Turn) -> list[dict]:
        schemas = estimate_tokens(json.dumps(tool_schemas()))
        budget = self.context_tokens - self.max_tokens - schemas - estimate_tokens(SYSTEM_PROMPT + turn.message) - 16
        return ([{"role": "system", "content": SYSTEM_PROMPT}] + history_trim(turn.history, max(budget, 0))
                + [{"role": "user", "content": turn.message}])

    def run(self, turn: Turn):
        started = time.perf_counter()
        messages = self.messages_for(turn)
        calls, sources, cards, parts, tokens = [], [], [], [], 0
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            reply = yield from self._complete(messages, tools=round_ < MAX_TOOL_ROUNDS)
            tokens += reply.tokens
            parts.append(reply.content)
            if not reply.tool_calls:
                break
            messages.append({"role": "assistant", "content": reply.content or None, "tool_calls": [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                for c in reply.tool_calls]})
            for call in reply.tool_calls:
                result = yield from self._call(call, turn, calls)
                if result.ok:
                    sources_merge(sources, sources_from_result(call["name"], result.data))
                    cards += cards_from_result(call["name"], result.data)
                content = json.dumps(result.data if result.ok else {"error": result.error}, default=str)
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": content[:TOOL_RESULT_CHARS]})
        answer = "".join(parts).strip()
        if not answer:
            raise ProviderError("the model returned an empty answer")
        metrics.track_model(self.model, tokens, (time.perf_counter() - started) * 1000)
        yield {"type": "done", "answer": answer, "sources": sources, "cards": cards, "tokens": tokens,
               "tool_calls": [c.record() for c in calls], "model": self.model,
               "metadata": {"intent": "model", "symbols": _symbols(calls), "period": None, "fields": [],
                            "provider": self.name}}

    def _call(self, call: dict, turn: Turn, calls: list[ToolResult]):
        try:
            arguments = json.loads(call["arguments"] or "{}")
        except json.JSONDecodeError:
            arguments = None
        if isinstance(arguments, dict):
            return (yield from self.call_tool(call["name"], arguments, turn, calls))
        result = ToolResult(call["name"], {}, False, error="the arguments were not a JSON object")
        calls.append(result)
        yield {"type": "tool_start", "name": call["name"], "arguments": {}}
        yield {"type": "tool_end", **result.record()}
        return result

    # --- HTTP -----------------------------------------------------------------------------------------------
    def _complete(self, messages: list[dict], *, tools: bool):
        """One streamed completion: yields token events, returns the Reply."""
        body = {"model": self.model, "messages": messages, "stream": True, "max_tokens": self.max_tokens,
                "stream_options": {"include_usage": True}}
        if tools:
            body["tools"] = tool_schemas()
        response = self._open(body)
        try:
            reply = yield from self._read(response, body)
        finally:
            response.close()
        return reply

    def _open(self, body: dict):
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream",
                   "Authorization": f"Bearer {self.api_key}"}
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(f"{self.base_url}/chat/completions", data=data, headers=headers,
                                             method="POST")
            try:
                return urllib.request.urlopen(request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                error = ProviderError(f"the model endpoint answered {exc.code}: {_error_text(exc)}")
                retry = exc.code in RETRY_STATUSES
                wait = _retry_after(exc)
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                error = ProviderError(f"the model endpoint could not be reached: {reason}")
                retry, wait = True, None
            if not retry or attempt == self.max_retries:
                raise error
            time.sleep(min(wait if wait is not None else self.backoff * 2**attempt, 10))
        raise AssertionError("unreachable")

    def _read(self, response, body: dict):
        reply, calls, deadline = Reply(), {}, time.monotonic() + self.timeout * 4
        if "text/event-stream" not in (response.headers.get("Content-Type") or ""):
            return _whole(response, reply)  # a server that ignores "stream": one JSON body
        try:
            for raw in response:
                if time.monotonic() > deadline:
                    raise ProviderError("the model took too long to answer")
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                chunk = _json(payload)
                if chunk.get("error"):
                    raise ProviderError(f"the model failed: {_message_of(chunk['error'])}")
                reply.tokens = (chunk.get("usage") or {}).get("total_tokens") or reply.tokens
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        reply.content += delta["content"]
                        yield {"type": "token", "text": delta["content"]}
                    for part in delta.get("tool_calls") or []:
                        _merge_call(calls, part)
        except TimeoutError as exc:
            raise ProviderError(f"the model stopped answering (no data for {self.timeout:g} s)") from exc
        reply.tool_calls = [calls[i] for i in sorted(calls) if calls[i]["name"]]
        reply.tokens = reply.tokens or estimate_tokens(json.dumps(body["messages"]) + reply.content)
        return reply


def _whole(response, reply: Reply) -> Reply:
    data = _json(response.read().decode("utf-8", "replace"))
    message = ((data.get("choices") or [{}])[0]).get("message") or {}
    reply.content = message.get("content") or ""
    reply.tool_calls = [{"id": c.get("id") or f"call_{i}", "name": c["function"]["name"],
                         "arguments": c["function"].get("arguments") or "{}"}
                        for i, c in enumerate(message.get("tool_calls") or [])]
    reply.tokens = (data.get("usage") or {}).get("total_tokens") or estimate_tokens(reply.content)
    return reply


def _merge_call(calls: dict, part: dict) -> None:
    call = calls.setdefault(part.get("index", 0), {"id": "", "name": "", "arguments": ""})
    call["id"] = part.get("id") or call["id"] or f"call_{part.get('index', 0)}"
    function = part.get("function") or {}
    call["name"] += function.get("name") or ""
    call["arguments"] += function.get("arguments") or ""


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProviderError("the model endpoint sent malformed JSON") from exc
    if not isinstance(value, dict):
        raise ProviderError("the model endpoint sent an unexpected reply")
    return value


def _message_of(error) -> str:
    return str(error.get("message") if isinstance(error, dict) else error)[:300]


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read().decode("utf-8", "replace") or "{}")
        return _message_of(body.get("error") or body) if isinstance(body, dict) else str(exc.reason)
    except (ValueError, OSError):
        return str(exc.reason)


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    try:
        return float(exc.headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


def _symbols(calls) -> list[str]:
    out = []
    for call in calls:
        args = call.arguments
        out += [args["symbol"]] if isinstance(args.get("symbol"), str) else []
        out += [s for s in args.get("symbols", []) if isinstance(s, str)] if isinstance(args.get("symbols"), list) else []
    return list(dict.fromkeys(s.upper() for s in out))
