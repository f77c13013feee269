"""Load test of the whole stack, optionally with an AWS outage in the middle: one command.

    python benchmarks/load_test.py                              # 50 users, 2 minutes
    python benchmarks/load_test.py --users 20 --duration 60
    python benchmarks/load_test.py --outage 30 --outage-mode refuse   # or stop (SIGSTOP the emulator)

It starts everything itself on free ports on 127.0.0.1: the embedded moto server, a fault proxy in front of it
(benchmarks/faultproxy.py; with --outage or --proxy), the AWS resources, a fresh SQLite database under
var/load/<run>/ (or DATABASE_URL), the users, uvicorn with the events consumer, one Celery worker, and locust
headless (benchmarks/load/locustfile.py). It prints throughput and p50/p95/p99 per endpoint, the error rate,
and then checks against the emulator that every acknowledged chat message is in DynamoDB, every uploaded
document in S3 and every accepted analysis finished or dead-lettered. Everything it started is stopped at the
end, also on Ctrl-C or failure. Logs stay in var/load/<run>/.

Exit status: non-zero when a plain run had any error, or when an outage run lost anything, answered a 500 or
kept a request open past --hang-limit.
"""

import argparse
import base64
import collections
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from faultproxy import FaultProxy  # noqa: E402 (found through the sys.path entry just above)

BIN = Path(sys.executable).parent
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


class Stack:
    """Every process of the run; ``stop()`` ends them all, whatever state they are in."""

    def __init__(self, run_dir: Path, args):
        self.run_dir, self.args = run_dir, args
        self.emulator = None
        self.proxy: FaultProxy | None = None
        self.processes: dict[str, subprocess.Popen] = {}
        self.env: dict[str, str] = {}
        self.web_url = ""

    # --- start ------------------------------------------------------------------------------------------
    def start(self) -> None:
        from stocktool.aws.emulator import Emulator

        self.emulator = Emulator(free_port(), log_path=str(self.run_dir / "emulator.log"))
        moto_url = self.emulator.start()
        endpoint = moto_url
        if self.args.proxy or self.args.outage:
            self.proxy = FaultProxy(self.emulator.port)
            endpoint = self.proxy.start()
        log(f"emulator {moto_url} (pid {self.emulator.process.pid})"
            + (f", fault proxy {endpoint}" if self.proxy else ""))
        web_port = free_port()
        self.web_url = f"http://127.0.0.1:{web_port}"
        database = os.environ.get("DATABASE_URL") or f"sqlite:///{self.run_dir / 'db.sqlite3'}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "stocktool.settings.base",
            "AWS_ENDPOINT_URL": endpoint, "USE_LOCALSTACK": "true",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": str(self.run_dir / "no-aws-config"),
            "DATABASE_URL": database,
            "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(40), "SECURE_COOKIES": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "SITE_URL": self.web_url,
            "LOG_FORMAT": "plain", "PYTHONUNBUFFERED": "1",
        }
        os.environ.update(self.env)  # this process: set-up and verification through the same settings
        self._prepare()
        self._spawn("web", [str(BIN / "uvicorn"), "stocktool.asgi:application", "--host", "127.0.0.1",
                            "--port", str(web_port), "--lifespan", "on", "--no-access-log",
                            "--timeout-keep-alive", "30"])
        self._spawn("worker", [str(BIN / "celery"), "-A", "stocktool", "worker", "--loglevel", "INFO",
                               "--concurrency", str(self.args.worker_concurrency), "--without-heartbeat",
                               "--without-gossip", "--without-mingle", "-n", f"load-{web_port}@%h"])
        self._wait_web()

    def _prepare(self) -> None:
        import django

        django.setup()
        from django.core.management import call_command

        with open(self.run_dir / "setup.log", "a") as out:
            call_command("bootstrap_aws", stdout=out)
            call_command("migrate", interactive=False, verbosity=0)
            call_command("sync_kb", stdout=out)
        self.users_file = self.run_dir / "users.json"
        self.users_file.write_text(json.dumps(make_users(self.args.users)))
        log(f"resources, database ({self.env['DATABASE_URL']}), starter knowledge and {self.args.users} users ready")

    def _spawn(self, name: str, argv: list[str]) -> None:
        with open(self.run_dir / f"{name}.log", "ab") as out:
            self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.run_dir / (name + '.log')}")
            try:
                with urllib.request.urlopen(f"{self.web_url}/accounts/login/", timeout=2) as resp:
                    if resp.status == 200:
                        log(f"web {self.web_url} (pid {self.processes['web'].pid}), "
                            f"worker (pid {self.processes['worker'].pid})")
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the web server did not answer within {timeout:.0f} s")

    # --- outage -----------------------------------------------------------------------------------------
    def outage_begin(self) -> None:
        if self.args.outage_mode == "stop":
            os.killpg(self.emulator.process.pid, signal.SIGSTOP)
        else:
            self.proxy.refuse()

    def outage_end(self) -> None:
        if self.emulator and self.emulator.process:
            try:
                os.killpg(self.emulator.process.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if self.proxy:
            self.proxy.restore()

    # --- stop -------------------------------------------------------------------------------------------
    def stop(self) -> None:
        self.outage_end()  # a stopped emulator cannot even die politely
        for name in ("locust", "web", "worker"):
            proc = self.processes.get(name)
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass
        if self.proxy:
            self.proxy.stop()
        if self.emulator:
            self.emulator.stop()
        log("stopped everything this run started")


def make_users(n: int) -> list[dict]:
    """N users with a session each (every tenth one staff, for document uploads)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore

    out = []
    model = get_user_model()
    password = secrets.token_urlsafe(12)
    hashed = make_password(password)  # one PBKDF2 run (~0.5 s here) for all of them
    for i in range(n):
        user, _ = model.objects.get_or_create(username=f"load{i:03d}")
        user.is_staff = user.is_superuser = i % 10 == 0
        user.password = hashed
        user.save()
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append({"username": user.username, "password": password, "sessionid": session.session_key,
                    "staff": user.is_staff})
    return out


# --- the run --------------------------------------------------------------------------------------------
def run_locust(stack: Stack, args, record: Path) -> dict:
    env = {**stack.env, "LOAD_USERS_FILE": str(stack.users_file), "LOAD_RECORD_FILE": str(record),
           "LOAD_TIMEOUT": str(args.request_timeout), "LOAD_WAIT": args.wait, "LOAD_LOGIN": args.login}
    argv = [str(BIN / "locust"), "-f", str(ROOT / "benchmarks" / "load" / "locustfile.py"), "--headless",
            "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
            "--host", stack.web_url, "--only-summary", "--stop-timeout", str(args.request_timeout),
            "--csv", str(stack.run_dir / "locust"), "--loglevel", "WARNING"]
    started = time.time()
    with open(stack.run_dir / "locust.log", "ab") as out:
        stack.processes["locust"] = proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out,
                                                            stderr=subprocess.STDOUT, start_new_session=True)
    log(f"locust: {args.users} users at {args.spawn_rate}/s for {args.duration} s against {stack.web_url}")
    window = {}
    if args.outage:
        begin = started + args.outage_at
        while time.time() < begin and proc.poll() is None:
            time.sleep(0.1)
        counts0 = _proxy_snapshot(stack)
        window["start"] = time.time()
        stack.outage_begin()
        log(f"OUTAGE begins ({args.outage_mode}): the AWS endpoint is gone for {args.outage} s")
        while time.time() < window["start"] + args.outage and proc.poll() is None:
            time.sleep(0.1)
        window["end"] = time.time()
        stack.outage_end()
        log("OUTAGE ends: the endpoint is back")
        window["proxy_before"] = counts0
    proc.wait()
    stack.processes.pop("locust", None)
    window["locust_start"], window["locust_end"] = started, time.time()
    return window


def _proxy_snapshot(stack: Stack) -> dict:
    return {"requests": sum(stack.proxy.requests.values()), "connections": sum(stack.proxy.connections.values())}


def read_records(record: Path) -> tuple[list[dict], list[dict]]:
    requests, items = [], []
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        (items if "kind" in entry else requests).append(entry)
    return requests, items


def failed(r: dict) -> bool:
    return r["error"] is not None or not (200 <= r["status"] < 400)


def report_latency(requests: list[dict], seconds: float, title: str) -> dict:
    by_name = collections.defaultdict(list)
    for r in requests:
        by_name[r["name"]].append(r)
    print(f"\n{title}")
    print(f"  {'endpoint':<36} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'errors':>7}")
    rows = sorted(by_name.items()) + [("ALL", requests)]
    summary = {}
    for name, rs in rows:
        ms = sorted(r["ms"] for r in rs)
        errors = sum(failed(r) for r in rs)
        summary[name] = {"n": len(rs), "rps": len(rs) / seconds, "p50": percentile(ms, .5), "p95": percentile(ms, .95),
                         "p99": percentile(ms, .99), "max": ms[-1] if ms else 0, "errors": errors}
        s = summary[name]
        print(f"  {name:<36} {s['n']:>8} {s['rps']:>7.1f} {s['p50']:>8.0f} {s['p95']:>8.0f} {s['p99']:>8.0f} "
              f"{s['max']:>8.0f} {errors:>7}")
    total = summary["ALL"]
    rate = total["errors"] / total["n"] if total["n"] else 1.0
    print(f"  throughput {total['rps']:.1f} req/s over {seconds:.0f} s; error rate {rate:.2%} "
          f"({total['errors']} of {total['n']})")
    return summary


def status_table(requests: list[dict], title: str) -> None:
    by_name = collections.defaultdict(collections.Counter)
    for r in requests:
        key = r["error"] if r["status"] == 0 else r["status"]
        by_name[r["name"]][key] += 1
        by_name["ALL"][key] += 1
    print(f"  {title}:")
    for name in sorted(by_name, key=lambda n: (n == "ALL", n)):
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(by_name[name].items(), key=lambda kv: str(kv[0])))
        print(f"    {name:<36} {counts}")


def outage_report(requests: list[dict], window: dict, stack: Stack, args) -> dict:
    start, end = window["start"], window["end"]
    during = [r for r in requests if start <= r["t0"] < end]
    after = [r for r in requests if r["t0"] >= end]
    overlapping = [r for r in requests if r["t0"] < end and r["t1"] > start]
    print(f"\nOutage ({args.outage_mode}, {end - start:.1f} s, from {start - window['locust_start']:.1f} s into the run)")
    status_table(during, "requests started during the outage, by status")
    status_table(after, "requests started after it")
    settled = min(15.0, args.outage_at / 2)  # past the ramp-up
    before = sorted(r["ms"] for r in requests if window["locust_start"] + settled <= r["t0"] and r["t1"] < start)
    print(f"  before it (from {settled:.0f} s in): p50 {percentile(before, .5):.0f} ms, p99 {percentile(before, .99):.0f} ms, "
          f"max {before[-1] if before else 0:.0f} ms over {len(before)} requests")
    slowest = max(overlapping, key=lambda r: r["ms"], default=None)
    if slowest:
        print(f"  max latency of a request open during the outage: {slowest['ms'] / 1000:.1f} s ({slowest['name']})")
    hung = [r for r in overlapping + after
            if r["ms"] >= args.hang_limit * 1000 or r["error"] in ("ReadTimeout", "Timeout")]
    print(f"  requests open during or after it for longer than {args.hang_limit:.0f} s: {len(hung)}")
    unclean = [r for r in during + after if failed(r) and not clean_failure(r)]
    print(f"  unclean failures (not a 503 with a JSON error / a degraded page): {len(unclean)}")
    for r in unclean[:8]:
        print(f"    {r['name']} {r['status']} {r['error'] or ''} {r.get('body', '')[:100]!r} after {r['ms']:.0f} ms")
    print("  time to recover: the first 2xx after the endpoint came back (its end), the first request started after"
          " it that succeeded (its start), failures started later than that:")
    names = sorted({r["name"] for r in after})
    for name in names + ["ALL"]:
        mine = [r for r in overlapping + after if name in ("ALL", r["name"])]
        first_ok = min((r["t1"] for r in mine if not failed(r) and r["t1"] >= end), default=None)
        started_ok = min((r["t0"] for r in after if name in ("ALL", r["name"]) and not failed(r)), default=None)
        later = sum(1 for r in after if name in ("ALL", r["name"]) and failed(r) and started_ok and r["t0"] > started_ok)
        shown = (f"+{first_ok - end:5.1f} s" if first_ok else "  never") + "  " + \
                (f"+{started_ok - end:5.1f} s" if started_ok else "  never")
        print(f"    {name:<36} {shown}   later failures: {later}")
    if stack.proxy:
        proxy = stack.proxy
        base = window["locust_start"] + 10
        before_rate = proxy.count_between(proxy.requests, base, start) / max(1.0, start - base)
        print(f"  AWS calls at the proxy: {before_rate:.0f} requests/s before the outage")
        buckets = []
        for s in range(int(start), int(end) + 1, 5):
            req = proxy.count_between(proxy.requests, s, s + 5)
            rst = proxy.count_between(proxy.resets, s, s + 5)
            buckets.append(f"{s - int(start):>3}-{s - int(start) + 5:<3}s: {req} forwarded, {rst} reset")
        print("  during the outage, per 5 s:\n    " + "\n    ".join(buckets))
        total_req = proxy.count_between(proxy.requests, start, end)
        total_rst = proxy.count_between(proxy.resets, start, end)
        print(f"  total during the outage: {total_req} requests forwarded, {total_rst} connection attempts reset")
    return {"hung": len(hung), "unclean": len(unclean)}


def clean_failure(r: dict) -> bool:
    """A failure the app meant: a 503 (JSON error for the API, a page otherwise)."""
    if r["status"] != 503:
        return False
    return r.get("json_error", False) if r["name"].startswith("POST /api") else True


# --- verification ---------------------------------------------------------------------------------------
def verify(items: list[dict], args) -> dict:
    from django.conf import settings

    from analysis.models import AnalysisJob
    from conversations.dynamodb_store import ConversationStore
    from stocktool.aws import get_s3_service
    from stocktool.aws.dynamodb import batch_get

    chats = [i for i in items if i["kind"] == "chat"]
    docs = [i for i in items if i["kind"] == "document"]
    jobs = {i["job_id"] for i in items if i["kind"] == "analysis"}
    print(f"\nVerification: {len(chats)} acknowledged chat turns, {len(docs)} documents, {len(jobs)} analyses")

    # Analyses: wait for the worker to drain the queue.
    done_states = (AnalysisJob.Status.SUCCEEDED, AnalysisJob.Status.FAILED)
    deadline = time.monotonic() + args.drain_timeout
    while True:
        pending = {str(j) for j in AnalysisJob.objects.filter(pk__in=jobs).exclude(status__in=done_states)
                   .values_list("pk", flat=True)}
        known = {str(j) for j in AnalysisJob.objects.filter(pk__in=jobs).values_list("pk", flat=True)}
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(2)
    dead = dead_lettered_jobs()
    states = collections.Counter(AnalysisJob.objects.filter(pk__in=jobs).values_list("status", flat=True))
    missing_rows = jobs - known
    lost_jobs = sorted((pending - dead) | missing_rows)
    print(f"  analyses: {dict(states)}; {len(pending)} unfinished after the drain, "
          f"{len(pending & dead)} of those in the dead-letter queue ({len(dead)} dead letters in all)")

    # Chat messages: the acknowledged assistant message of every turn, and each header's count.
    store = ConversationStore(settings.DYNAMODB_TABLE_CONVERSATIONS)
    keys = [{"conversation_id": {"S": c["conversation_id"]}, "timestamp": {"S": c["message_id"]}} for c in chats]
    found = set()
    for i in range(0, len(keys), 100):
        for item in batch_get(settings.DYNAMODB_TABLE_CONVERSATIONS, keys[i:i + 100]):
            found.add((item["conversation_id"]["S"], item["timestamp"]["S"]))
    lost_messages = [c for c in chats if (c["conversation_id"], c["message_id"]) not in found]
    turns = collections.Counter(c["conversation_id"] for c in chats)
    short = []
    for cid, n in turns.items():
        header = store.get_header(cid)
        if header is None or int(header.get("message_count", 0)) < 2 * n:
            short.append(cid)
    print(f"  chat: {len(lost_messages)} acknowledged messages missing; {len(short)} of {len(turns)} "
          "conversations with fewer messages than acknowledged")

    # Documents: each acknowledged key is a current object in the bucket.
    s3 = get_s3_service()
    lost_docs = [d["key"] for d in docs if s3.head(d["key"]) is None]
    print(f"  documents: {len(lost_docs)} of {len(docs)} missing from S3")
    lost = {"messages": len(lost_messages), "conversations": len(short), "documents": len(lost_docs),
            "jobs": len(lost_jobs)}
    print(f"  LOST: {lost}")
    for job in lost_jobs[:5]:
        row = AnalysisJob.objects.filter(pk=job).values("status", "attempts", "error", "created_at").first()
        print(f"    job {job}: {row}")
    return lost


def dead_lettered_jobs() -> set[str]:
    """Job ids in the dead-letter queue (read with a visibility timeout, then made visible again)."""
    from django.conf import settings

    from stocktool.aws.session import client
    from stocktool.aws.sqs import queue_url

    sqs, url, ids, handles = client("sqs"), queue_url(settings.SQS_QUEUE_ANALYSIS_DLQ), set(), []
    for _ in range(100):
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                    WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for m in batch:
            handles.append(m["ReceiptHandle"])
            ids |= set(UUID.findall(_celery_text(m["Body"])))
    for i in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": str(j), "ReceiptHandle": h, "VisibilityTimeout": 0} for j, h in enumerate(handles[i:i + 10])])
    return ids


def _celery_text(body: str) -> str:
    """A kombu SQS message is base64 JSON whose body is base64 JSON again: return all of it as text."""
    text = body
    try:
        outer = base64.b64decode(body).decode()
        text += outer
        text += base64.b64decode(json.loads(outer)["body"]).decode()
    except (ValueError, KeyError, TypeError):
        pass
    return text


def server_errors(stack: Stack) -> None:
    """Summarise what the web and worker logged: 500s by path, exceptions by their last line, warnings."""
    for name in ("web", "worker"):
        path = stack.run_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        five = collections.Counter(re.sub(r"/[0-9a-f-]{32,36}/", "/[id]/", m)
                                   for m in re.findall(r"Internal Server Error: (\S+)", text))
        exceptions = collections.Counter(
            re.sub(r"[0-9a-f]{32}|[0-9a-f-]{36}", "[id]", m)[:160]
            for m in re.findall(r"\n((?:[a-z_]+\.)*[A-Z]\w*(?:Error|Exception|Unavailable|Open|Timeout)\b[^\n]*)", text))
        warnings = collections.Counter(re.findall(r" (WARNING|ERROR|CRITICAL) ([\w.]+)", text))
        print(f"  {name}.log: 500s by path {dict(five) or 'none'}; log lines by level and logger "
              f"{dict(warnings) or 'none'}")
        for line, n in exceptions.most_common(8):
            print(f"    {n:>5} x {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", type=int, default=120, help="seconds of load")
    parser.add_argument("--wait", default="1,4", help="think time between a user's requests: min,max seconds")
    parser.add_argument("--login", choices=("session", "form"), default="session",
                        help="session: sessions made up front; form: each user logs in through the form")
    parser.add_argument("--outage", type=int, default=0, help="seconds without the AWS endpoint (0: none)")
    parser.add_argument("--outage-at", type=int, default=40, help="seconds into the run the outage begins")
    parser.add_argument("--outage-mode", choices=("stop", "refuse"), default="refuse",
                        help="stop: SIGSTOP the emulator (hangs); refuse: the proxy resets connections")
    parser.add_argument("--proxy", action="store_true", help="route AWS calls through the fault proxy anyway")
    parser.add_argument("--hang-limit", type=float, default=20, help="seconds; a request open longer is hung")
    parser.add_argument("--request-timeout", type=float, default=60, help="client-side timeout, seconds")
    parser.add_argument("--drain-timeout", type=float, default=60, help="seconds to wait for the worker after the run")
    parser.add_argument("--worker-concurrency", type=int, default=1)
    args = parser.parse_args(argv)
    if args.outage and args.outage_at + args.outage >= args.duration:
        parser.error("the outage must end before the run does (--outage-at + --outage < --duration)")

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = ROOT / "var" / "load" / f"{stamp}-{'outage-' + args.outage_mode if args.outage else 'plain'}"
    run_dir.mkdir(parents=True, exist_ok=True)
    record = run_dir / "records.jsonl"
    # Ctrl-C and SIGTERM both stop everything (SIGINT too when a non-interactive shell started us ignoring it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"({os.cpu_count()} cores); logs in {run_dir}", flush=True)
    stack = Stack(run_dir, args)
    try:
        stack.start()
        window = run_locust(stack, args, record)
        load = os.getloadavg()
        requests, items = read_records(record)
        seconds = window["locust_end"] - window["locust_start"]
        summary = report_latency(requests, seconds, f"Load: {args.users} users, {args.duration} s "
                                                    f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
        status_table(requests, "all requests by status")
        outcome = outage_report(requests, window, stack, args) if args.outage else {}
        lost = verify(items, args)
        print("\nServer logs")
        server_errors(stack)
        errors500 = sum(1 for r in requests if r["status"] >= 500 and r["status"] != 503)
        (run_dir / "summary.json").write_text(json.dumps(
            {"args": vars(args), "summary": summary, "outage": outcome, "lost": lost, "window": window,
             "server_errors": errors500, "loadavg": load}, indent=1, default=str))
        if args.outage:
            bad = sum(lost.values()) or errors500 or outcome["hung"]
            print(f"\nRESULT: {'FAIL' if bad else 'PASS'} (lost {sum(lost.values())}, 5xx other than 503: "
                  f"{errors500}, hung: {outcome['hung']})")
        else:
            bad = summary["ALL"]["errors"] or sum(lost.values())
            print(f"\nRESULT: {'FAIL' if bad else 'PASS'} (errors {summary['ALL']['errors']}, lost {sum(lost.values())})")
        return 1 if bad else 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
