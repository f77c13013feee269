"""A TCP proxy in front of the AWS endpoint that a test can take down and bring back on the same port.

``refuse`` closes the listening socket (connections are refused at once); ``hang`` keeps accepting but forwards
nothing (calls wait for their read timeout). The endpoint's state survives, as it would in a network outage.
"""

import socket
import threading


class FaultProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.mode = "up"
        self.connections = 0  # accepted while up or hanging: the calls that reached the "network"
        self._listener = None
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._active: list[socket.socket] = []  # forwarded connections, cut when the proxy goes down

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultProxy":
        self._listen()
        return self

    def down(self, mode: str = "refuse") -> None:
        self.mode = mode
        if mode == "refuse":
            self._close_listener()
        self._drop_held()
        active, self._active = self._active, []
        for conn in active:  # kept-alive connections must not carry calls through the outage
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def up(self) -> None:
        self._drop_held()
        self.mode = "up"
        if self._listener is None:
            self._listen()

    def stop(self) -> None:
        self._stop.set()
        self._close_listener()
        self._drop_held()

    def _listen(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _close_listener(self) -> None:
        sock, self._listener = self._listener, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _drop_held(self) -> None:
        held, self._held = self._held, []
        for conn in held:
            conn.close()

    def _accept(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.mode == "hang":
                self._held.append(conn)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                conn.close()
                continue
            self._active += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrottlingProxy:
    """An HTTP proxy in front of the AWS endpoint that answers the calls ``fail`` picks as AWS does when it
    throttles (DynamoDB's ProvisionedThroughputExceededException, ThrottlingException for the other JSON
    services) and forwards the rest. It records when each call arrived, so a test can read the back-off.

    It can also hold calls: those ``hold`` picks reach AWS, which acts on them, but their answer never comes
    back (the caller waits for its read timeout), as when a process is cut off after its request left.
    """

    def __init__(self, target_host: str, target_port: int):
        import http.server

        self.target = (target_host, target_port)
        self.fail = None  # fail(target, body) -> True answers that call as AWS does when it throttles
        self.hold = None  # hold(target, body) -> True forwards that call and never answers it
        self.held = 0  # calls forwarded and held so far
        self._released = threading.Event()
        self.arrivals: list[float] = []
        self.calls: list[tuple[float, str]] = []  # (arrival, X-Amz-Target): other threads' calls come through too
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                proxy._handle(self)

            do_GET = do_PUT = do_DELETE = do_HEAD = do_POST

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ThrottlingProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler) -> None:
        import http.client
        import json
        import time

        target = handler.headers.get("X-Amz-Target", "")
        self.arrivals.append(time.monotonic())
        self.calls.append((self.arrivals[-1], target))
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        if self.fail is not None and self.fail(target, body):
            code = ("ProvisionedThroughputExceededException" if target.startswith("DynamoDB")
                    else "ThrottlingException")
            payload = json.dumps({"__type": f"com.amazonaws#{code}", "message": "Rate exceeded"}).encode()
            handler.send_response(400)
            handler.send_header("Content-Type", "application/x-amz-json-1.0")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection(*self.target, timeout=10)
        upstream.request(handler.command, handler.path, body=body,
                         headers={k: v for k, v in handler.headers.items() if k.lower() != "host"})
        resp = upstream.getresponse()
        data = resp.read()
        if self.hold is not None and self.hold(target, body):
            self.held += 1
            upstream.close()
            self._released.wait()  # until the proxy stops; the caller gives up first
            handler.close_connection = True
            return
        handler.send_response(resp.status)
        for key, value in resp.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
        upstream.close()
