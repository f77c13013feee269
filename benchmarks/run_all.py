"""The seed's benchmark table, measured: each backend beside the seed's figure and the raw boto3 floor.

    .venv/bin/python benchmarks/run_all.py [--quick] [--n N] [--backends local,emulator,localstack]
                                           [--localstack-endpoint URL] [--json]

Backends are configured when Django sets up, so each one is measured in its own child process
(``run_all.py --backend emulator --json``) and this process assembles the table:

- ``local``: "without AWS", every ``*_ENABLED=false``: the in-memory conversation store, documents on the file
  system, Django's LocMemCache and the in-process stock-data cache, Celery eager (no queue at all).
- ``emulator``: a fresh embedded moto server on a free port (harness.setup).
- ``localstack``: when one answers on LOCALSTACK_ENDPOINT or --localstack-endpoint (default
  http://127.0.0.1:4566); cells that need a service it lacks (DynamoDB, without Docker) say so.

Each AWS cell also times the raw boto3 request underneath (the floor) on the same endpoint, interleaved with
the project's operation so that load on the machine hits both alike; ratio = operation median / floor median.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import ROOT, setup  # noqa: E402 (found through the sys.path entry just above)
from seed_cells import measure_cells  # noqa: E402

DEFAULT_LOCALSTACK = "http://127.0.0.1:4566"
BACKENDS = ("local", "emulator", "localstack")
BACKEND_LABELS = {"local": "without AWS", "emulator": "embedded moto", "localstack": "LocalStack"}
METRICS = (  # key, title, the seed's column it is compared with per backend
    ("retrieval", "Conversation retrieval"),
    ("upload", "Document upload"),
    ("cache_django", "Cache hit: Django cache.get"),
    ("cache_stock", "Cache hit: stock-data cache"),
    ("queue", "Queue latency"),
)
SEED = {  # the seed README's table: without AWS, with LocalStack, with production AWS
    "retrieval": ("50ms (memory)", "5ms (DynamoDB)", "3ms (DynamoDB)"),
    "upload": ("100ms (filesystem)", "80ms (S3)", "150ms (S3 multi-region)"),
    "cache_django": ("1ms (memory)", "3ms (DynamoDB)", "2ms (DynamoDB + DAX)"),
    "cache_stock": ("1ms (memory)", "3ms (DynamoDB)", "2ms (DynamoDB + DAX)"),
    "queue": ("N/A", "10ms (LocalStack)", "5ms (Production SQS)"),
}
NOTES = {
    "retrieval": "the last 50 messages of a 60-message conversation through the selector the app uses "
                 "(conversation_messages_for_user: owner check + get_recent, one GetItem of the header's "
                 "window on DynamoDB); floor: the same GetItem (whole header item, ConsistentRead) in raw "
                 "boto3.",
    "upload": "knowledge.services.document_upload of a 10 KB Markdown file: validate, parse, storage.save "
              "(S3 PUT with SSE and metadata, or a file write), HEAD for the version id, passages into "
              "SQLite (the S3 event to SNS/SQS is the server's work); floor: one raw put_object of the same "
              "bytes under the same prefix (so the same event fires).",
    "cache_django": "django.core.cache.caches['default'].get of a small dict that is present (DynamoDBCache, "
                    "or LocMemCache without AWS); floor: the GetItem cache.get sends, in raw boto3.",
    "cache_stock": "analysis.market_data.cache.cached() hit on a quote (StockCache.get_cache_item on "
                   "DynamoDB, or the in-process LocalCache), metrics hook included; floor: the same GetItem "
                   "in raw boto3.",
    "queue": "Celery apply_async -> the moment a solo worker starts the task (bench_queue.run_case: an idle "
             "worker on long polling, the production app's settings); without AWS, CELERY_TASK_ALWAYS_EAGER "
             "runs the task in the caller, so there is no queue; floor: raw SendMessage -> a waiting "
             "long-poll ReceiveMessage returns it (another thread).",
}
RATIO_NOTE = ("- ratio: the operation's median over the floor's median, both timed alternately in one loop "
              "on the same endpoint. The seed's figures are its README's claims (no code measured them); its "
              "\"With LocalStack\" column sits beside the LocalStack row, \"Without AWS\" beside the local "
              "stand-ins.")
RUN_NOTE = ("- CloudWatch metric shipping is off in every run (its background flush would compete for the "
            "CPU); resources are created fresh under a per-run prefix.")
COLUMNS = ("Metric", "Backend", "What ran", "median ms", "p95 ms", "raw boto3 floor median / p95 ms", "ratio",
           "seed's figure")
HEADER = "| " + " | ".join(COLUMNS) + " |"
DOC_NAME = "bench-{}.md"


# --- child: measure one backend ----------------------------------------------------------------------------
def configure(backend: str, endpoint: str | None, dynamodb: bool, workdir: Path) -> tuple[object, str]:
    """Set the environment for ``backend``, set Django up and create resources; return (emulator, label)."""
    db = workdir / "db.sqlite3"
    os.environ.update({"DATABASE_URL": f"sqlite:///{db}", "DJANGO_SETTINGS_MODULE": "stocktool.settings.base",
                       "DEBUG": "true", "CLOUDWATCH_ENABLED": "false", "EVENTS_LISTENER": "off",
                       "AWS_CONFIG_FILE": "/nonexistent/aws-config",
                       "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    prefix = f"bench-{uuid.uuid4().hex[:6]}-"
    if backend == "local":
        for name in ("S3", "DYNAMODB", "SQS", "SNS"):
            os.environ[f"{name}_ENABLED"] = "false"
        os.environ["USE_LOCALSTACK"] = "false"
        import django

        django.setup()
        from django.conf import settings

        settings.MEDIA_ROOT = str(db.parent / "media")  # the file-system storage writes here, not in the tree
        server, label = None, "local stand-ins (S3, DynamoDB, SQS, SNS _ENABLED=false), no AWS endpoint"
    else:
        if backend == "localstack":
            os.environ["AWS_ENDPOINT_URL"] = endpoint
            os.environ["DYNAMODB_ENABLED"] = "true" if dynamodb else "false"
        server, label = setup(prefix)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return server, label


def measure_backend(backend: str, n: int, n_slow: int, endpoint: str | None, dynamodb: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-all-") as workdir:
        server, label = configure(backend, endpoint, dynamodb, Path(workdir))
        try:
            cells = measure_cells(n, n_slow, backend == "local", dynamodb)
        finally:
            if server:
                server.stop()
    return {"backend": backend, "label": label, "cells": cells}


# --- parent: find LocalStack, run the children, print the table --------------------------------------------
def localstack_base(url: str) -> str:
    return url.split("/_localstack", 1)[0].rstrip("/")


def probe_localstack(candidates: list[str]) -> dict | None:
    """The first LocalStack that answers its health check: endpoint, version, and whether DynamoDB works."""
    for base in dict.fromkeys(localstack_base(c) for c in candidates if c):  # in order, once each
        try:
            with urllib.request.urlopen(f"{base}/_localstack/health", timeout=2) as resp:
                health = json.load(resp)
        except (OSError, ValueError):
            continue
        services = health.get("services", {})
        dynamodb = services.get("dynamodb") in ("available", "running") and dynamodb_answers(base)
        return {"endpoint": base, "version": health.get("version", "?"), "dynamodb": dynamodb,
                "services": sorted(s for s, state in services.items() if state in ("available", "running"))}
    return None


def dynamodb_answers(endpoint: str) -> bool:
    """LocalStack may list DynamoDB and still fail on first use (no Java / DynamoDB Local): ask it."""
    import boto3
    from botocore.config import Config

    ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                       aws_secret_access_key="test",
                       config=Config(connect_timeout=2, read_timeout=20, retries={"max_attempts": 1}))
    try:
        ddb.list_tables(Limit=1)
        return True
    except Exception:  # noqa: BLE001  any failure means no usable DynamoDB
        return False


def run_child(backend: str, n: int, n_slow: int, localstack: dict | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--backend", backend, "--n", str(n),
           "--n-slow", str(n_slow), "--json"]
    if localstack:
        cmd += ["--localstack-endpoint", localstack["endpoint"]]
        cmd += [] if localstack["dynamodb"] else ["--no-dynamodb"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_ENDPOINT_URL", "DJANGO_SETTINGS_MODULE")) and not k.endswith("_ENABLED")}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{backend} benchmark failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def collect(backends: list[str], n: int, n_slow: int, localstack_endpoints: list[str],
            progress=lambda msg: None) -> dict:
    """Measure each backend in a child process; return everything render() needs."""
    meta = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
            "machine": f"{platform.machine()}, Python {platform.python_version()}", "n": n, "n_slow": n_slow,
            "load_before": os.getloadavg(), "versions": versions()}
    localstack = probe_localstack(localstack_endpoints) if "localstack" in backends else None
    meta["localstack"] = localstack
    results = {}
    for backend in backends:
        if backend == "localstack" and not localstack:
            continue
        progress(f"measuring {BACKEND_LABELS[backend]} ...")
        started = time.monotonic()
        results[backend] = run_child(backend, n, n_slow, localstack if backend == "localstack" else None)
        results[backend]["seconds"] = round(time.monotonic() - started, 1)
    meta["load_after"] = os.getloadavg()
    return {"meta": meta, "results": results,
            "tried_localstack": localstack_endpoints if "localstack" in backends else []}


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("moto", "boto3", "celery", "kombu", "Django"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def fmt(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def row_cells(backend: str, key: str, result: dict | None) -> list[str]:
    seed = SEED[key][1] if backend == "localstack" else SEED[key][0] if backend == "local" else "-"
    if result is None:
        return ["not measured", "", "", "", "", seed]
    c = result["cells"][key]
    if "na" in c:
        return [c["na"], "", "", "", "", seed]
    op, floor = c["op"], c["floor"]
    if floor is None:
        floor_text, ratio = "n/a (no AWS call)", "-"
    else:
        floor_text = f"{fmt(floor['median'])} / {fmt(floor['p95'])}"
        ratio = f"{op['median'] / floor['median']:.2f}x"
    return [c["what"], fmt(op["median"]), fmt(op["p95"]), floor_text, ratio, seed]


def render(data: dict) -> str:
    meta, results = data["meta"], data["results"]
    ls = meta.get("localstack")
    names = {"local": "without AWS", "emulator": "embedded moto server",
             "localstack": f"LocalStack {ls['version']}" if ls else "LocalStack"}
    lines = [
        "The seed's benchmark table, measured",
        (f"{meta['date']}; {meta['cores']} cores ({meta['machine']}); load average "
         f"{_load(meta['load_before'])} before, {_load(meta['load_after'])} after; {meta['versions']}"),
        f"samples: {meta['n']} per cell ({meta['n_slow']} for document upload and queue latency)",
        "",
        HEADER,
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for key, title in METRICS:
        for i, backend in enumerate(BACKENDS):
            if backend == "localstack" and backend not in results:
                tried = ", ".join(dict.fromkeys(localstack_base(e) for e in data["tried_localstack"]))
                why = f"not reachable ({tried})" if tried else "not tried (--backends)"
                cells = [why, "", "", "", "", SEED[key][1]]
            else:
                cells = row_cells(backend, key, results.get(backend))
            lines.append(f"| {title if i == 0 else ''} | {names[backend]} | " + " | ".join(cells) + " |")
        lines.append(f"| | production AWS | not measured here | | | | | {SEED[key][2]} |")
    lines += ["", "What each row measured:"]
    lines += [f"- {title}: {NOTES[key]}" for key, title in METRICS]
    lines += [RATIO_NOTE, RUN_NOTE]
    if ls:
        lines.append(f"- LocalStack {ls['version']} at {ls['endpoint']}: services "
                     f"{', '.join(ls['services'])}; "
                     f"DynamoDB {'answered' if ls['dynamodb'] else 'absent or not answering'}.")
    for backend, r in results.items():
        lines.append(f"- {names[backend]}: {r['label']}, {r['seconds']} s")
        lines += [f"  - {c['note']}" for c in r["cells"].values() if c.get("note")]
    return "\n".join(lines)


def _load(avg) -> str:
    return " ".join(f"{x:.2f}" for x in avg)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (30 per cell, 20 for slow ones)")
    parser.add_argument("--n", type=int, help="samples per cell")
    parser.add_argument("--n-slow", type=int, help="samples for document upload and queue latency")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help="comma-separated subset of " + ",".join(BACKENDS))
    parser.add_argument("--localstack-endpoint", action="append", default=[],
                        help=f"LocalStack to try first; then LOCALSTACK_ENDPOINT ({DEFAULT_LOCALSTACK})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--backend", choices=BACKENDS, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--no-dynamodb", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (30 if args.quick else 200)
    n_slow = args.n_slow or min(n, 20 if args.quick else 100)
    if args.backend:
        endpoint = (args.localstack_endpoint or [None])[-1]
        print(json.dumps(measure_backend(args.backend, n, n_slow, endpoint, not args.no_dynamodb)))
        return 0
    backends = [b for b in args.backends.split(",") if b]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    endpoints = args.localstack_endpoint + [os.environ.get("LOCALSTACK_ENDPOINT") or DEFAULT_LOCALSTACK]
    data = collect(backends, n, n_slow, endpoints,
                   progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(json.dumps(data, indent=1) if args.json else render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
