"""Start, wait for and stop the embedded AWS emulator: moto in server mode, over real HTTP."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit


class EmulatorError(RuntimeError):
    pass


def is_up(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=timeout):
            return True
    except OSError:
        return False


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "stocktool.aws.emulator_server", "-H", host, "-p", str(port)]


class Emulator:
    """A moto server in a child process, for tests and scripts: ``with Emulator(port) as url: ...``."""

    def __init__(self, port: int, host: str = "127.0.0.1", log_path: str | None = None, quiet: bool = True):
        self.host, self.port, self.log_path, self.quiet = host, port, log_path, quiet
        self.url = f"http://{host}:{port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> str:
        if port_in_use(self.host, self.port):
            raise EmulatorError(f"port {self.port} on {self.host} is already in use")
        log = None if not self.quiet else open(self.log_path or os.devnull, "ab")
        self.process = subprocess.Popen(
            command(self.host, self.port), stdout=log, stderr=subprocess.STDOUT if log else None,
            start_new_session=True,
        )
        if log:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError(f"moto server exited with code {self.process.returncode}")
            if is_up(self.url):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise EmulatorError(f"moto server did not answer on {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def port_open(url: str) -> bool:
    """Return whether something accepts connections at ``url``'s host and port."""
    parts = urlsplit(url)
    return port_in_use(parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80))
