"""What a load run recorded, read back and checked (benchmarks/load_test.py): latency and status tables, the
outage window, and the verification that every analysis and conversation came through once."""

from __future__ import annotations

import base64
import collections
import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (load_test imports this module: the type only)
    from load_test import Stack

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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
