"""A local HTTP server that answers like Amazon Bedrock's runtime: Converse and ConverseStream, from a script.

``POST /model/{modelId}/converse`` answers one JSON body; ``POST /model/{modelId}/converse-stream`` answers
``application/vnd.amazon.eventstream`` frames (chunked), which botocore decodes as it does AWS's. Each
scripted reply is a dict:

- ``events``: ``(event_type, payload)`` pairs (``text_events``, ``tool_use_events``), streamed as frames; the
  Converse route answers the message they add up to, so one script serves both routes;
- ``error``: ``(status, code, message)``, an AWS error answer (``x-amzn-ErrorType``), e.g.
  ``(429, "ThrottlingException", ...)``;
- ``exception_after``: ``(n, exception_type, message)``, an exception frame after ``n`` events;
- ``stall_after`` / ``stall``: stop sending after that many events and hang ``stall`` seconds;
- ``delay``: seconds before answering.

Requests are recorded (``requests``: the JSON body with ``modelId`` and ``operation`` added).
"""

import binascii
import json
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

_STRING = 7  # header value type: https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event stream message: prelude (total and headers length, CRC32), headers, payload, CRC32."""
    head = b""
    for name, value in headers.items():
        head += struct.pack(">B", len(name)) + name.encode()
        head += struct.pack(">BH", _STRING, len(value.encode())) + value.encode()
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + head + payload
    return message + struct.pack(">I", binascii.crc32(message))


def encode_event(event_type: str, payload: dict) -> bytes:
    # Bedrock pads each event with "p" so its size does not give away the text; clients ignore it.
    body = json.dumps({**payload, "p": "abcdefghijklmn"}).encode()
    return encode_message({":event-type": event_type, ":content-type": "application/json",
                           ":message-type": "event"}, body)


def encode_exception(exception_type: str, message: str) -> bytes:
    return encode_message({":exception-type": exception_type, ":content-type": "application/json",
                           ":message-type": "exception"}, json.dumps({"message": message}).encode())


def text_events(*pieces, usage: int | None = 42) -> list[tuple[str, dict]]:
    events = [("messageStart", {"role": "assistant"})]
    events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}}) for p in pieces]
    events += [("contentBlockStop", {"contentBlockIndex": 0}), ("messageStop", {"stopReason": "end_turn"})]
    if usage is not None:
        usage_ = {"inputTokens": usage - 10, "outputTokens": 10, "totalTokens": usage}
        events.append(("metadata", {"usage": usage_, "metrics": {"latencyMs": 12}}))
    return events


def tool_use_events(calls: list[tuple[str, str, str]], text: str = "") -> list[tuple[str, dict]]:
    """Tool use streamed as Bedrock does: a block per call, id and name first, the input JSON in pieces."""
    events = [("messageStart", {"role": "assistant"})]
    if text:
        events += [("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}}),
                   ("contentBlockStop", {"contentBlockIndex": 0})]
    for index, (tool_use_id, name, arguments) in enumerate(calls, start=1 if text else 0):
        events.append(("contentBlockStart", {"contentBlockIndex": index,
                                             "start": {"toolUse": {"toolUseId": tool_use_id, "name": name}}}))
        events += [("contentBlockDelta", {"contentBlockIndex": index,
                                          "delta": {"toolUse": {"input": arguments[i:i + 7]}}})
                   for i in range(0, len(arguments), 7)]
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
    events += [("messageStop", {"stopReason": "tool_use"}),
               ("metadata", {"usage": {"inputTokens": 20, "outputTokens": 10, "totalTokens": 30},
                             "metrics": {"latencyMs": 9}})]
    return events


def converse_body(events: list[tuple[str, dict]]) -> dict:
    """The Converse answer that a stream of events adds up to."""
    blocks: dict[int, dict] = {}
    body = {"output": {"message": {"role": "assistant", "content": []}}, "stopReason": "end_turn",
            "usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0}, "metrics": {"latencyMs": 1}}
    for kind, payload in events:
        index = payload.get("contentBlockIndex")
        if kind == "contentBlockStart" and "toolUse" in payload["start"]:
            blocks[index] = {"toolUse": {**payload["start"]["toolUse"], "input": ""}}
        elif kind == "contentBlockDelta" and "text" in payload["delta"]:
            blocks.setdefault(index, {"text": ""})["text"] += payload["delta"]["text"]
        elif kind == "contentBlockDelta" and "toolUse" in payload["delta"]:
            blocks[index]["toolUse"]["input"] += payload["delta"]["toolUse"]["input"]
        elif kind == "messageStop":
            body["stopReason"] = payload["stopReason"]
        elif kind == "metadata":
            body["usage"], body["metrics"] = payload["usage"], payload["metrics"]
    for block in blocks.values():
        if "toolUse" in block:
            try:  # a document; what a model wrote that is not JSON stays a string
                block["toolUse"]["input"] = json.loads(block["toolUse"]["input"] or "{}")
            except json.JSONDecodeError:
                pass
    body["output"]["message"]["content"] = [blocks[i] for i in sorted(blocks)]
    return body


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that timed out and left is expected
            super().handle_error(request, client_address)


class FakeBedrock:
    def __init__(self):
        self.script: list[dict] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                parts = self.path.split("/")
                if len(parts) != 4 or parts[1] != "model" or parts[3] not in ("converse", "converse-stream"):
                    return self._error(404, "UnknownOperationException", f"no route {self.path}")
                fake.requests.append({**body, "modelId": unquote(parts[2]), "operation": parts[3]})
                fake.headers.append(dict(self.headers))
                empty = {"error": (500, "InternalServerException", "script empty")}
                reply = fake.script.pop(0) if fake.script else empty
                time.sleep(reply.get("delay", 0))
                if "error" in reply:
                    return self._error(*reply["error"])
                if parts[3] == "converse":
                    return self._json(200, converse_body(reply["events"]))
                self._stream(reply)

            def _stream(self, reply):
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.amazon.eventstream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("x-amzn-RequestId", "fake-request")
                self.end_headers()
                failure = reply.get("exception_after")
                for i, (kind, payload) in enumerate(reply["events"]):
                    if reply.get("stall_after") == i:
                        time.sleep(reply.get("stall", 5))
                        self.close_connection = True
                        return
                    if failure and failure[0] == i:
                        self._chunk(encode_exception(failure[1], failure[2]))
                        break
                    self._chunk(encode_event(kind, payload))
                self._chunk(b"")

            def _chunk(self, data: bytes):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _error(self, status, code, message):
                error_type = f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
                self._json(status, {"message": message}, {"x-amzn-ErrorType": error_type})

            def _json(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", "fake-request")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = _Server(("127.0.0.1", 0), Handler)
        # A short poll, so that shutting the server down at the end of each test takes no half second.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
