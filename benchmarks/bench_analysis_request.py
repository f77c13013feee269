"""Requesting an analysis (`analysis_request`: validate, check each symbol is listed, save the job, send it to
SQS through kombu) against the raw boto3 SendMessage it ends in, with and without the listing check.

    .venv/bin/python benchmarks/bench_analysis_request.py

The listing check reads each symbol's search result through the DynamoDB stock-data cache, side by side; a
symbol found listed is then known to the process for an hour.
"""

import json
import os
import tempfile
from pathlib import Path

from harness import measure, report, setup

os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-request.sqlite3'}")
os.environ.setdefault("MARKET_DATA_PROVIDER", "demo")
SYMBOLS = ["AAPL", "MSFT", "NVDA"]
N = int(os.environ.get("BENCH_N", "100"))


def main():
    server, label = setup("bench-request-")
    try:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        from analysis import services
        from stocktool.aws.session import client

        call_command("migrate", verbosity=0)
        print(f"endpoint: {label}; market data: {settings.MARKET_DATA_PROVIDER}; {len(SYMBOLS)} symbols, n={N}")
        user = get_user_model().objects.create(username="bench-request")
        sqs = client("sqs")
        url = sqs.get_queue_url(QueueName=settings.SQS_QUEUE_ANALYSIS)["QueueUrl"]
        body = json.dumps({"job_id": "x" * 36})

        def request():
            services.analysis_request(user=user, symbols=SYMBOLS, analysis_type="performance", period="1y")

        def request_cold():
            services._LISTED.clear()  # as for symbols this process has not checked in the last hour
            request()

        raw = measure(lambda: sqs.send_message(QueueUrl=url, MessageBody=body), n=N, warmup=10)
        cold = measure(request_cold, n=N, warmup=10)
        warm = measure(request, n=N, warmup=10)
        check = settings.ANALYSIS_SYMBOL_CHECK_SECONDS
        settings.ANALYSIS_SYMBOL_CHECK_SECONDS = 0  # the check turned off
        unchecked = measure(request, n=N, warmup=10)
        settings.ANALYSIS_SYMBOL_CHECK_SECONDS = check
        report("POST /api/analysis's service call", [
            ("raw boto3 SendMessage", raw),
            ("analysis_request, listing check off", unchecked),
            ("analysis_request, symbols checked (cache)", cold),
            ("analysis_request, symbols known listed", warm),
        ], baseline="raw boto3 SendMessage")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
