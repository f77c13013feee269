"""A TCP proxy on 127.0.0.1 that can make an endpoint go away: ``FaultProxy(upstream_port).start()``.

Put it between the app and the emulator (AWS_ENDPOINT_URL = the proxy's URL) and the emulator keeps its
in-memory state through an outage:

- ``refuse()``: every open connection is reset and every new one is accepted and reset at once (RST), the
  way a dead host's port or a load balancer with no healthy targets answers; each attempt is counted, so
  the count shows whether the app keeps hammering the dead endpoint or a circuit breaker holds off.
- ``restore()``: connections are forwarded again.

It also counts the HTTP requests it forwards (request lines in the client-to-upstream stream), per second,
so a hang-type outage (the emulator SIGSTOPped behind the proxy) shows its retries too.
"""

import asyncio
import collections
import re
import socket
import struct
import threading
import time

REQUEST_LINE = re.compile(rb"(?:GET|POST|PUT|HEAD|DELETE|PATCH|OPTIONS) /\S* HTTP/1\.[01]\r\n")


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", port: int = 0):
        self.upstream = (upstream_host, upstream_port)
        self.port = port
        self.refusing = False
        self.connections = collections.Counter()  # second -> connections accepted
        self.resets = collections.Counter()  # second -> connections reset while refusing
        self.requests = collections.Counter()  # second -> HTTP requests forwarded upstream
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control (from any thread) ----------------------------------------------------------------------
    def start(self) -> str:
        self._thread = threading.Thread(target=self._run, name="faultproxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self.url

    def refuse(self) -> None:
        """Reset every open connection and every new one until ``restore()``."""
        self.refusing = True
        if self._loop:
            self._loop.call_soon_threadsafe(self._reset_all)

    def restore(self) -> None:
        self.refusing = False

    def stop(self) -> None:
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)

    def count_between(self, counter: collections.Counter, start: float, end: float) -> int:
        return sum(n for second, n in list(counter.items()) if start <= second < end)

    # --- the proxy (its own event loop, in its own thread) -------------------------------------------------
    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=512))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for writer in list(self._writers):
                _abort(writer)
            self._loop.set_exception_handler(lambda loop, context: None)  # cancelled pipes are expected here
            pending = asyncio.all_tasks(self._loop)
            for pending_task in pending:
                pending_task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def _reset_all(self) -> None:
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        second = int(time.time())
        self.connections[second] += 1
        if self.refusing:
            self.resets[second] += 1
            _abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _abort(writer)
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer, count=True), self._pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                _abort(w) if self.refusing else w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool = False) -> None:
        tail = b""
        try:
            while not self.refusing:
                data = await reader.read(65536)
                if not data:
                    break
                if count:
                    window = tail + data
                    found = len(REQUEST_LINE.findall(window)) - len(REQUEST_LINE.findall(tail))
                    if found:
                        self.requests[int(time.time())] += found
                    tail = window[-2048:]
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if not writer.is_closing():
                try:
                    writer.write_eof()
                except OSError:
                    pass


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with an RST (SO_LINGER 0), as a refusing endpoint does, not a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
