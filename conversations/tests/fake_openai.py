"""A local OpenAI-compatible HTTP server for tests: POST /v1/chat/completions answers from a script.

Each scripted reply is a dict: ``status`` (200), ``chunks`` (streamed as Server-Sent Events, then [DONE]),
``json`` (one plain JSON body instead), ``delay`` (seconds before answering), ``stall_after`` (stop sending after
that many chunks and hang for ``stall`` seconds), ``headers``. Requests are recorded (``requests``).
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def text_chunks(*pieces, usage: int | None = 42) -> list[dict]:
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        chunks.append({"choices": [], "usage": {"prompt_tokens": usage - 10, "completion_tokens": 10,
                                                "total_tokens": usage}})
    return chunks


def tool_call_chunks(calls: list[tuple[str, str, str]]) -> list[dict]:
    """Tool calls streamed the way OpenAI does: id and name first, the arguments in several pieces."""
    chunks = []
    for index, (call_id, name, arguments) in enumerate(calls):
        chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}}]})
        for start in range(0, len(arguments), 7):
            chunks.append({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": index, "function": {"arguments": arguments[start:start + 7]}}]}}]})
    chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    chunks.append({"choices": [], "usage": {"total_tokens": 30}})
    return chunks


class FakeOpenAI:
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
                fake.requests.append(body)
                fake.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": "no such route"}})
                reply = fake.script.pop(0) if fake.script else {"status": 500, "json": {"error": "script empty"}}
                time.sleep(reply.get("delay", 0))
                if "chunks" not in reply:
                    return self._send(reply.get("status", 200), reply.get("json", {}), reply.get("headers"))
                self.send_response(reply.get("status", 200))
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for i, chunk in enumerate(reply["chunks"]):
                    if reply.get("stall_after") == i:
                        time.sleep(reply.get("stall", 5))
                        return
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll, so that shutting the server down at the end of each test takes no half second.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
