"""Real Celery workers for integration tests: their own short-visibility queues, a producer, a process."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from celery import Celery
from django.conf import settings
from django.db import connection

from stocktool.aws.session import client

ROOT = Path(__file__).resolve().parent.parent


def make_queues(*, visibility: int = 3, max_receive: int = 2) -> dict:
    """Create a fresh queue and dead-letter queue (moto's PurgeQueue has a 60 s limit: new queues instead)."""
    sqs = client("sqs")
    name = f"{settings.TEST_RUN_PREFIX}w{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility),
        "ReceiveMessageWaitTimeSeconds": "1",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
    })["QueueUrl"]
    return {"name": name, "url": url, "dlq_name": f"{name}-dlq", "dlq_url": dlq_url}


def producer(queues: dict) -> Celery:
    """A Celery app that publishes to ``queues`` over kombu's SQS transport, as the web process does."""
    app = Celery("test-producer", broker=settings.CELERY_BROKER_URL, set_as_current=False)  # tasks stay on ours
    app.conf.broker_transport_options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "predefined_queues": {queues["name"]: {"url": queues["url"]}},
    }
    app.conf.task_default_queue = queues["name"]
    app.conf.task_serializer = "json"
    return app


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**env) -> dict:
    """The environment of a real app process (worker, web server) on this test run's database and resources."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "stocktool.settings.base",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
        "SQS_QUEUE_ANALYSIS": settings.SQS_QUEUE_ANALYSIS,
        "SQS_QUEUE_ANALYSIS_DLQ": settings.SQS_QUEUE_ANALYSIS_DLQ,
        "SQS_QUEUE_EVENTS": settings.SQS_QUEUE_EVENTS,
        "SNS_TOPIC_NOTIFICATIONS": settings.SNS_TOPIC_NOTIFICATIONS,
        "DYNAMODB_TABLE_CONVERSATIONS": settings.DYNAMODB_TABLE_CONVERSATIONS,
        "DYNAMODB_TABLE_CACHE": settings.DYNAMODB_TABLE_CACHE,
        "DYNAMODB_TABLE_DJANGO_CACHE": settings.DYNAMODB_TABLE_DJANGO_CACHE,
        "S3_BUCKET_NAME": settings.S3_BUCKET_NAME,
        "CELERY_SQS_WAIT_TIME_SECONDS": "1",
        "CLOUDWATCH_ENABLED": "false",
        "LOG_FORMAT": "plain",
        **{k: str(v) for k, v in env.items()},
    }


class WorkerProcess:
    """``celery -A stocktool worker`` in a child process, consuming ``queues``."""

    def __init__(self, queues: dict, log_path: Path, pool: str = "solo", **env):
        self.queues, self.log_path, self.pool = queues, log_path, pool
        self.env = process_env(SQS_QUEUE_ANALYSIS=queues["name"], SQS_QUEUE_ANALYSIS_DLQ=queues["dlq_name"], **env)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "WorkerProcess":
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "stocktool", "worker", "--pool", self.pool, "--concurrency", "2",
             "--loglevel", "INFO",
             "-Q", self.queues["name"], "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            if " ready." in self.output():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready in {timeout} s:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM) if self.process and self.process.poll() is None else None
        if getattr(self, "log", None):
            self.log.close()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    """Whether something listens on ``port`` of this machine."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def listen_until(done, *, tries: int = 100) -> bool:
    """Run an events listener in this process (its knowledge reconcile off: the event path alone) until
    ``done()`` is true, for at most ``tries`` tenths of a second; whether it came true."""
    import asyncio

    from asgiref.sync import async_to_sync, sync_to_async

    from stocktool.events import EventsListener

    async def run() -> bool:
        listener = EventsListener(wait_seconds=1, every={"knowledge reconcile": 3600})
        listener.start()
        try:
            for _ in range(tries):
                if await sync_to_async(done)():
                    return True
                await asyncio.sleep(0.1)
            return False
        finally:
            await listener.close()

    return async_to_sync(run)()
