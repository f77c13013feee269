"""Amazon Bedrock's Converse API, with tool use over the assistant's tools.

ConverseStream (the default) streams the answer as the model writes it; Converse (``streaming=False``) answers
whole, for models that use tools only without streaming (Bedrock's "supported models and model features"
table). The AWS layer makes the calls with the app's credentials: botocore signs them and retries throttling
and 5xx before the answer starts. Bedrock wants a conversation that starts with the user and alternates, and
a tool configuration in every request that carries tool blocks.
"""

from stocktool.aws import AWSError, bedrock

from ..provider import ProviderError, Turn
from ..tools import tool_schemas
from .model import SYSTEM_PROMPT, Completion, ModelProvider, Reply, ToolCall, estimate_tokens, history_trim


def tool_specs() -> list[dict]:
    """The assistant's tools in Converse's ``toolConfig`` form."""
    functions = [schema["function"] for schema in tool_schemas()]
    return [{"toolSpec": {"name": f["name"], "description": f["description"],
                          "inputSchema": {"json": f["parameters"]}}} for f in functions]


def alternating(messages: list[dict]) -> list[dict]:
    """``messages`` (role, content) as Converse takes them: from the first user message on, one per turn."""
    out = []
    for message in messages:
        if not out and message["role"] != "user":
            continue
        if out and out[-1]["role"] == message["role"]:
            out[-1]["content"][0]["text"] += "\n\n" + message["content"]
        else:
            out.append({"role": message["role"], "content": [{"text": message["content"]}]})
    return out


class BedrockProvider(ModelProvider):
    name = "bedrock"

    def __init__(self, *, model: str, streaming: bool = True, context_tokens: int = 16_000,
                 max_tokens: int = 800):
        super().__init__(model=model, context_tokens=context_tokens, max_tokens=max_tokens)
        self.streaming = streaming

    def conversation_start(self, turn: Turn) -> list[dict]:
        history = history_trim(turn.history, self.history_budget(turn))
        return alternating([*history, {"role": "user", "content": turn.message}])

    def conversation_extend(self, messages: list[dict], reply: Reply,
                            results: list[tuple[ToolCall, str]]) -> None:
        text = [{"text": reply.content}] if reply.content.strip() else []  # Bedrock refuses a blank block
        messages.append({"role": "assistant", "content": text + [
            {"toolUse": {"toolUseId": c.id, "name": c.name, "input": c.arguments_object() or {}}}
            for c in reply.tool_calls]})
        messages.append({"role": "user", "content": [
            {"toolResult": {"toolUseId": c.id, "content": [{"text": content}]}} for c, content in results]})

    def complete(self, messages: list[dict], *, last: bool) -> Completion:
        # The tools go with every request (Bedrock refuses tool blocks without them); a call in the last round
        # is not run.
        request = {"model_id": self.model, "messages": messages, "system": SYSTEM_PROMPT,
                   "tools": tool_specs(), "max_tokens": self.max_tokens}
        try:
            if not self.streaming:
                reply = _whole(bedrock.converse(**request), messages)
                if reply.content:
                    yield {"type": "token", "text": reply.content}
                return reply
            return (yield from _read(bedrock.converse_stream(**request), messages))
        except AWSError as exc:
            raise ProviderError(f"Bedrock: {exc}") from exc


def _read(events, messages: list[dict]) -> Completion:
    reply, calls = Reply(), {}
    for event in events:
        if "contentBlockStart" in event:
            block = event["contentBlockStart"]
            tool = block.get("start", {}).get("toolUse")
            if tool:
                calls[block["contentBlockIndex"]] = ToolCall(tool["toolUseId"], tool["name"], "")
        elif "contentBlockDelta" in event:
            block = event["contentBlockDelta"]
            delta = block.get("delta", {})
            if delta.get("text"):
                reply.content += delta["text"]
                yield {"type": "token", "text": delta["text"]}
            elif "toolUse" in delta and block["contentBlockIndex"] in calls:
                calls[block["contentBlockIndex"]].arguments += delta["toolUse"].get("input", "")
        elif "metadata" in event:
            reply.tokens = event["metadata"].get("usage", {}).get("totalTokens") or reply.tokens
    reply.tool_calls = [calls[i] for i in sorted(calls)]
    reply.tokens = reply.tokens or _estimate(messages, reply.content)
    return reply


def _whole(response: dict, messages: list[dict]) -> Reply:
    reply = Reply()
    for block in response.get("output", {}).get("message", {}).get("content", []):
        if "text" in block:
            reply.content += block["text"]
        elif "toolUse" in block:
            tool = block["toolUse"]
            reply.tool_calls.append(ToolCall(tool["toolUseId"], tool["name"], tool.get("input", {})))
    reply.tokens = response.get("usage", {}).get("totalTokens") or _estimate(messages, reply.content)
    return reply


def _estimate(messages: list[dict], content: str) -> int:
    return estimate_tokens(str(messages) + content)
