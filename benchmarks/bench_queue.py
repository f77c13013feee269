"""Celery on SQS (embedded moto) against Celery on Redis, in the same run (send_task -> task start).

    .venv/bin/python benchmarks/bench_queue.py

Prints: queue latency (apply_async -> task start) median/p95/p99 and the no-op throughput of one solo
worker. Targets: latency < 15 ms median and < 50 ms p99 (a task sent to an idle worker). The analysis of 20
symbols over 5 years is benchmarks/bench_analysis.py.

Each latency sample is sent SAMPLE_GAP after the previous task started, so it meets an idle worker: with
acks_late the worker still acknowledges the previous task (a blocking DeleteMessage, 4 to 9 ms on moto)
before it polls again, and a task sent at once waits for that. That case is measured apart ("back to back").
"""

import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from harness import ROOT, report, setup


def start_worker(queue: str, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bench_app", "worker", "--pool", "solo", "-Q", queue, "-l", "WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=Path(__file__).parent, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return proc


SAMPLE_GAP = 0.05  # seconds from one task's start to the next send: the worker has acknowledged and polls again


def run_case(label: str, env: dict, queue: str, n: int = 200, n_back_to_back: int = 100,
             burst: int = 300) -> tuple[list[float], list[float], float]:
    if env.get("BENCH_BROKER") == "redis":
        from celery import Celery

        producer = Celery("bench-redis", broker="redis://127.0.0.1:6379/15")
    else:
        import bench_app

        producer = bench_app.app

    def send(*args):
        producer.send_task("bench.stamp", args=list(args), queue=queue)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(30)
    port = sock.getsockname()[1]
    worker = start_worker(queue, env)
    try:
        send("warm", port)
        sock.recvfrom(256)  # the worker is up and polling
        time.sleep(1.0)  # let it settle into its long poll

        def sample() -> float:
            token = uuid.uuid4().hex
            sent = time.time()
            send(token, port)
            got, started = sock.recvfrom(256)[0].decode().split()
            assert got == token
            return (float(started) - sent) * 1000

        latencies = []
        for i in range(n):
            latencies.append(sample())
            # every 50th, an idle spell: the next task must not wait for a poll to end
            time.sleep(2.0 if i % 50 == 49 else SAMPLE_GAP)
        back_to_back = [sample() for _ in range(n_back_to_back)]
        start = time.perf_counter()
        for _ in range(burst):
            send("b", port)
        for _ in range(burst):
            sock.recvfrom(256)
        throughput = burst / (time.perf_counter() - start)
    finally:
        worker.terminate()
        worker.wait(20)
        sock.close()
    return latencies, back_to_back, throughput


def main():
    server, label = setup()
    try:
        from django.conf import settings

        print(f"endpoint: {label}")
        sqs_lat, sqs_b2b, sqs_tp = run_case("sqs", {}, settings.SQS_QUEUE_ANALYSIS)
        rows = [("Celery on SQS (moto), apply_async -> start", sqs_lat),
                ("  SQS, back to back (previous task acking)", sqs_b2b)]
        redis_tp = None
        try:
            with socket.create_connection(("127.0.0.1", 6379), timeout=1):
                pass
            redis_lat, redis_b2b, redis_tp = run_case("redis", {"BENCH_BROKER": "redis"}, "bench")
            rows += [("Celery on Redis, apply_async -> start", redis_lat),
                     ("  Redis, back to back", redis_b2b)]
        except OSError:
            print("(no Redis on 127.0.0.1:6379: the Redis comparison is left out)")
        baseline = "Celery on Redis, apply_async -> start" if redis_tp else None
        stats = report(f"Queue latency (tasks sent {SAMPLE_GAP * 1000:.0f} ms after the previous one started; "
                       "back to back: at once)", rows, baseline=baseline)
        for name, samples in rows:
            ordered = sorted(samples)
            print(f"  {name:<44} p99 {ordered[int(0.99 * (len(ordered) - 1))]:.2f} ms, max {ordered[-1]:.2f} ms")
        print("\nThroughput of one solo worker, no-op tasks sent back to back")
        print(f"  SQS (moto)  {sqs_tp:8.1f} tasks/s")
        if redis_tp:
            print(f"  Redis       {redis_tp:8.1f} tasks/s")
        del stats
        print("\n(the analysis of 20 symbols over 5 years: benchmarks/bench_analysis.py)")
        print(f"\nmedian of medians check: SQS latency {statistics.median(sqs_lat):.2f} ms")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
