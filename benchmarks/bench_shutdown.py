"""Metrics at a process's edge: N requests to a real uvicorn, then SIGTERM (the normal stop on any platform), then
CloudWatch read back. Prints, per run, the requests sent, the data points CloudWatch counted and how long the
stop took.

    .venv/bin/python benchmarks/bench_shutdown.py            # 3 runs of 10,000 requests (BENCH_RUNS, BENCH_N)

The flush interval is the longest there is (60 s), so what CloudWatch counts is what the shutdown sent. Exits 1
when a run counted fewer than it sent.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import ROOT, setup

os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-shutdown.sqlite3'}")
os.environ.setdefault("LOG_LEVEL", "WARNING")
THREADS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _send(port: int, count: int) -> int:
    """``count`` requests on one keep-alive connection; return how many were answered."""
    connection, answered = http.client.HTTPConnection("127.0.0.1", port, timeout=30), 0
    for i in range(count):
        connection.request("GET", f"/no-such-page-{i}")
        response = connection.getresponse()
        response.read()
        answered += response.status == 404
    connection.close()
    return answered


def one_run(n: int) -> dict:
    from monitoring.middleware import UNMATCHED
    from stocktool.aws.cloudwatch import API_LATENCY
    from stocktool.aws.session import client

    namespace, port = f"BenchShutdown{uuid.uuid4().hex[:8]}", _free_port()
    env = {**os.environ, "CLOUDWATCH_ENABLED": "true", "CLOUDWATCH_NAMESPACE": namespace, "DEBUG": "false", "SECRET_KEY": uuid.uuid4().hex * 2,
           "MONITORING_FLUSH_INTERVAL": "60", "MONITORING_QUEUE_DEPTH_INTERVAL": "0", "EVENTS_LISTENER": "off",
           "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "stocktool.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "on", "--no-access-log"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                log.seek(0)
                raise RuntimeError(f"uvicorn did not start: {log.read().decode()[-2000:]}")
            time.sleep(0.1)
        started = time.monotonic()
        shares = [n // THREADS + (1 if i < n % THREADS else 0) for i in range(THREADS)]
        with ThreadPoolExecutor(THREADS) as pool:
            answered = sum(pool.map(lambda share: _send(port, share), shares))
        sent_in = time.monotonic() - started
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        stop_s = time.monotonic() - stopping
    finally:
        if server.poll() is None:
            server.kill()
    now = datetime.now(UTC)
    points = client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=API_LATENCY, StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1), Period=3600, Statistics=["SampleCount"],
        Dimensions=[{"Name": "Method", "Value": "GET"}, {"Name": "Route", "Value": UNMATCHED},
                    {"Name": "StatusClass", "Value": "4xx"}])["Datapoints"]
    counted = int(sum(p["SampleCount"] for p in points))
    return {"answered": answered, "counted": counted, "rps": answered / sent_in, "stop_s": stop_s, "code": code}


def main() -> int:
    runs, n = int(os.environ.get("BENCH_RUNS", "3")), int(os.environ.get("BENCH_N", "10000"))
    try:
        emulator, label = setup("bench-shutdown-")
    except Exception as exc:  # noqa: BLE001 the stack failed to start
        print(f"bench_shutdown: the stack did not start: {exc}", file=sys.stderr)
        return 1
    lost = 0
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"endpoint: {label}; {runs} runs of {n} requests to uvicorn, then SIGTERM")
        print(f"  {'run':>3} {'answered':>9} {'in CloudWatch':>14} {'lost':>5} {'req/s':>7} {'stop s':>7} {'exit':>5}")
        for run in range(1, runs + 1):
            r = one_run(n)
            lost += r["answered"] - r["counted"]
            print(f"  {run:>3} {r['answered']:>9} {r['counted']:>14} {r['answered'] - r['counted']:>5} "
                  f"{r['rps']:>7.0f} {r['stop_s']:>7.2f} {r['code']:>5}")
    finally:
        if emulator:
            emulator.stop()
    print("nothing lost" if lost == 0 else f"{lost} data points lost")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
