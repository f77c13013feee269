"""Benchmark the knowledge base's S3 and search paths on a fresh embedded moto server (or AWS_ENDPOINT_URL).

    .venv/bin/python benchmarks/bench_s3.py [--rounds 100]

(a) S3Service.upload_fileobj of a 10 KB Markdown file (PUT with SSE + HEAD for the version id) against a raw
    boto3 put_object of the same bytes; S3Service.download_fileobj against a raw get_object.
(b) document_upload of a 10 KB document: validation, django-storages PUT, HEAD, passages into the database
    (target: under 80 ms at the median). Its key is under knowledge/, so S3 also publishes the event.
(c) knowledge_search over 1,000 passages (target: under 20 ms at the median).
Calls are interleaved so that drift on a busy machine hits both sides alike. The database is a temporary
SQLite file. Figures come from moto's server over loopback HTTP, not from AWS.
"""

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import report, setup

DOC = ("# Benchmark document\n\n" + "Volatility is the standard deviation of returns, annualised with the square "
       "root of 252 trading days. ") * 60  # about 10 KB


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def bench_put_get(rounds: int) -> None:
    from django.conf import settings

    from stocktool.aws import get_s3_service
    from stocktool.aws.session import client

    s3, raw, bucket = get_s3_service(), client("s3"), settings.S3_BUCKET_NAME
    body = DOC.encode()[:10240]
    put_raw, put_svc, get_raw, get_svc = [], [], [], []
    for i in range(rounds):
        key = f"bench/put-{i % 10}.md"
        put_raw.append(timed(lambda k=key: raw.put_object(Bucket=bucket, Key=k, Body=body, ContentType="text/markdown",
                                                          ServerSideEncryption="AES256")))
        put_svc.append(timed(lambda k=key: s3.upload_fileobj(io.BytesIO(body), k)))
        get_raw.append(timed(lambda k=key: raw.get_object(Bucket=bucket, Key=k)["Body"].read()))
        get_svc.append(timed(lambda k=key: s3.download_fileobj(k)))
    report("S3 PUT of 10 KB, encrypted, text/markdown (the service answers the version id too)",
           [("raw boto3 put_object", put_raw), ("S3Service.upload_fileobj", put_svc)], baseline="raw boto3 put_object")
    report("S3 GET of 10 KB", [("raw boto3 get_object", get_raw), ("S3Service.download_fileobj", get_svc)],
           baseline="raw boto3 get_object")


def bench_document_upload(rounds: int) -> None:
    from knowledge.services import document_upload

    body = DOC.encode()[:10240]
    samples = [timed(lambda i=i: document_upload(name=f"bench-{i % 10}.md", content=body)) for i in range(rounds)]
    s = report("Knowledge document upload, 10 KB (validate, store, HEAD, index)",
               [("document_upload", samples)])
    print(f"  target: median under 80 ms -> {'met' if s['document_upload']['median'] < 80 else 'NOT met'}")


def bench_search(rounds: int) -> None:
    from django.db import transaction

    from knowledge.selectors import knowledge_search
    from knowledge.tests.test_search_speed import QUERIES, build_corpus

    with transaction.atomic():
        build_corpus(1000)
        knowledge_search(query="warm up")
        samples = [timed(lambda q=q: knowledge_search(query=q)) for _ in range(max(1, rounds // 10)) for q in QUERIES]
        cold = []
        from knowledge.services import index_touch

        for _ in range(5):
            index_touch()  # as after any write: the next search reloads the index from the database
            cold.append(timed(lambda: knowledge_search(query="sharpe ratio")))
        transaction.set_rollback(True)
    s = report("knowledge_search over 1,000 passages", [("search (index in memory)", samples),
                                                        ("search right after an index write (reload)", cold)])
    print(f"  target: median under 20 ms -> {'met' if s['search (index in memory)']['median'] < 20 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    server, label = setup("bench-kb-")
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"Knowledge base benchmarks on {label}")
        bench_put_get(args.rounds)
        bench_document_upload(args.rounds)
        bench_search(args.rounds)
    finally:
        if server:
            server.stop()
        db.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
