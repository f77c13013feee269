"""A real Celery worker given what no producer of ours sends: raw bodies and ids of no job."""

import base64
import json
import uuid

import pytest

from analysis.models import AnalysisJob
from stocktool.aws.session import client
from tests.workers import WorkerProcess, make_queues, producer, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TASK = "analysis.tasks.analysis_run_task"
RAW = {
    "not JSON": "hello, worker",
    "JSON without Celery's envelope": json.dumps({"job_id": "x"}),
    "base64 of garbage": base64.b64encode(b"\x00\xffgarbage").decode(),
    "a Celery envelope with a body that is not base64": json.dumps(
        {"body": "%%%", "content-encoding": "utf-8", "content-type": "application/json", "headers": {},
         "properties": {"delivery_info": {}, "body_encoding": "base64"}}),
}


def counts(url):
    attrs = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_raw_and_unknown_messages_neither_stop_the_worker_nor_loop(aws, tmp_path):
    queues = make_queues(visibility=2, max_receive=2)
    for body in RAW.values():
        client("sqs").send_message(QueueUrl=queues["url"], MessageBody=body)
    app = producer(queues)
    app.send_task(TASK, args=[str(uuid.uuid4())])  # a job that does not exist
    app.send_task(TASK, args=["not-a-uuid"])
    job = AnalysisJob.objects.create(symbols=["AAPL"], analysis_type="performance", period="3mo")
    worker = WorkerProcess(queues, tmp_path / "worker.log").start()
    try:
        app.send_task(TASK, args=[str(job.id)])
        wait_for(lambda: AnalysisJob.objects.get(pk=job.pk).status == "succeeded", timeout=60)
        # Celery rejects a body it cannot read ("Received and deleted unknown message", though on SQS a reject
        # only makes it visible again): after max_receive deliveries the redrive policy moves it to the DLQ,
        # where the dead-letter alarm shows it. Ids of no job are acknowledged with one line each.
        wait_for(lambda: counts(queues["dlq_url"]) == len(RAW), timeout=30)
        assert counts(queues["url"]) == 0
        assert worker.process.poll() is None, worker.output()[-3000:]
        log = worker.output()
        assert log.count("message dropped") == 2 and "is not an analysis id" in log
        assert "Traceback" not in log
    finally:
        worker.stop()
