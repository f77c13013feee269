"""Amazon Bedrock's runtime: a chat model's Converse and ConverseStream calls.

The client (``session.client("bedrock-runtime")``) has its own region, endpoint, timeout and attempts
(``BEDROCK_*``). botocore retries throttling, 5xx and connection failures before the answer starts; an error
inside a stream is not retried, so no text is repeated. Errors come out as ``AWSError`` / ``AWSUnavailable``.
API: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
"""

from collections.abc import Iterator

from urllib3.exceptions import HTTPError as URLLib3Error

from .errors import AWSUnavailable, translated
from .session import BEDROCK, client


def _request(model_id: str, messages: list[dict], system: str, tools: list[dict], max_tokens: int) -> dict:
    request = {"modelId": model_id, "messages": messages, "system": [{"text": system}],
               "inferenceConfig": {"maxTokens": max_tokens}}
    if tools:
        request["toolConfig"] = {"tools": tools}
    return request


def converse(*, model_id: str, messages: list[dict], system: str, tools: list[dict], max_tokens: int) -> dict:
    """One whole answer: ``{"output": {"message": ...}, "stopReason", "usage"}``."""
    with translated(f"Converse {model_id}"):
        response = client(BEDROCK).converse(**_request(model_id, messages, system, tools, max_tokens))
    response.pop("ResponseMetadata", None)
    return response


def converse_stream(*, model_id: str, messages: list[dict], system: str, tools: list[dict],
                    max_tokens: int) -> Iterator[dict]:
    """The answer's events as they arrive: ``{"contentBlockDelta": {...}}``, ``{"metadata": {...}}``..."""
    what = f"ConverseStream {model_id}"
    request = _request(model_id, messages, system, tools, max_tokens)
    with translated(what):
        stream = client(BEDROCK).converse_stream(**request)["stream"]
    try:
        with translated(what):
            yield from stream
    except URLLib3Error as exc:
        # An event stream reads urllib3's response itself: botocore does not wrap a read timeout there.
        raise AWSUnavailable(f"{what}: the stream stopped ({type(exc).__name__})") from exc
    finally:
        stream.close()
