"""The production Celery app plus one no-op task that reports when it starts (for bench_queue.py)."""

import os
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stocktool.celery import app  # noqa: E402  (the real configuration: SQS, predefined queues, long polling)

if os.environ.get("BENCH_BROKER") == "redis":
    app.conf.broker_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    app.conf.broker_transport_options = {}

_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


@app.task(name="bench.stamp", ignore_result=True)
def stamp(token: str, port: int) -> None:
    _sock.sendto(f"{token} {time.time()}".encode(), ("127.0.0.1", port))
