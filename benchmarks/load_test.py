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
import json
import os
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
from load_results import (  # noqa: E402
    outage_report,
    read_records,
    report_latency,
    server_errors,
    status_table,
    verify,
)

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
