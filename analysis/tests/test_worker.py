"""A real Celery worker on SQS: delivery, a worker killed mid-task, the dead-letter queue and redrive."""

import signal
import threading
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from analysis.models import AnalysisJob
from analysis.tests.test_market_data_alphavantage import KEY, FakeAlphaVantage
from stocktool.aws.sqs import SQSService
from tests.workers import WorkerProcess, make_queues, producer, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TASK = "analysis.tasks.analysis_run_task"


class GatedAlphaVantage(FakeAlphaVantage):
    """Alpha Vantage's formats; daily history can be held (to kill a worker mid-task) or fail (HTTP 500)."""

    def __init__(self):
        super().__init__()
        self.hold = threading.Event()
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.failing = False

    def answer(self, params):
        if params.get("function") == "TIME_SERIES_DAILY":
            self.arrived.set()
            if self.hold.is_set():
                self.release.wait(20)
            if self.failing:
                return 500, b"<html>Internal Server Error</html>"
        return super().answer(params)


@pytest.fixture
def av():
    fake = GatedAlphaVantage()
    fake.thread.start()
    yield fake
    fake.release.set()
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def queues(aws, request):
    return make_queues(**{"visibility": 3, "max_receive": 2, **getattr(request, "param", {})})


@pytest.fixture
def workers(tmp_path, queues, av):
    started = []

    def start(**env):
        env = {"MARKET_DATA_PROVIDER": "alphavantage", "ALPHAVANTAGE_API_KEY": KEY, "ALPHAVANTAGE_BASE_URL": av.url,
               "MARKET_DATA_TIMEOUT": "30", "ANALYSIS_MAX_RETRIES": "1", "ANALYSIS_RETRY_BACKOFF": "1", **env}
        worker = WorkerProcess(queues, tmp_path / f"worker{len(started)}.log", **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _job(symbols=("IBM", "MSFT"), **kwargs):
    return AnalysisJob.objects.create(symbols=list(symbols), analysis_type="performance", period="3mo", **kwargs)


def _status(job):
    job.refresh_from_db()
    return job.status


def test_a_worker_runs_an_analysis_sent_through_sqs(queues, workers):
    workers()
    job = _job()
    producer(queues).send_task(TASK, args=[str(job.id)])
    wait_for(lambda: _status(job) in ("succeeded", "failed"), timeout=30)
    assert job.status == "succeeded", job.error
    assert job.result["source"] == "alphavantage" and job.attempts == 1


@pytest.mark.faults
def test_a_worker_killed_mid_task_loses_nothing_and_the_job_succeeds_once(queues, workers, av, figures):
    av.hold.set()
    first = workers()
    job = _job(symbols=("ORCL",))  # a symbol no other test fetched: not in the stock-data cache
    producer(queues).send_task(TASK, args=[str(job.id)])
    assert av.arrived.wait(30), "the task never reached the provider"
    assert _status(job) == "running"
    first.kill()  # SIGKILL: no chance to acknowledge or clean up
    killed = time.monotonic()
    av.hold.clear()
    av.release.set()
    workers()  # the message comes back after its visibility timeout (3 s here)
    wait_for(lambda: _status(job) == "succeeded", timeout=40)
    assert job.attempts == 2
    figures(f"succeeded {time.monotonic() - killed:.1f} s after the SIGKILL (visibility timeout 3 s), "
            f"attempts {job.attempts}, queue and DLQ empty afterwards")
    sqs = SQSService(queues["name"], queues["dlq_name"])
    wait_for(lambda: sqs.depth() == 0, timeout=10)
    assert sqs.depth(dead_letter=True) == 0


@pytest.mark.faults
def test_a_task_that_always_fails_ends_in_the_dlq_and_redrive_brings_it_back(queues, workers, av, settings, figures):
    av.failing = True
    workers()
    job = _job(symbols=("SAP",))
    producer(queues).send_task(TASK, args=[str(job.id)])
    sent = time.monotonic()
    sqs = SQSService(queues["name"], queues["dlq_name"])
    wait_for(lambda: sqs.depth(dead_letter=True) == 1, timeout=60, interval=0.5)
    figures(f"in the DLQ {time.monotonic() - sent:.1f} s after it was sent (2 receives, 3 s visibility)")
    assert _status(job) == "failed"
    assert "500" in job.error or "gave up" in job.error
    letters = sqs.dead_letters_peek()
    assert len(letters) == 1 and letters[0]["receive_count"] >= 2
    assert sqs.depth(dead_letter=True) == 1  # peeking consumed nothing

    figures(_assert_the_dlq_alarm_fires_on(queues, settings))

    av.failing = False  # the provider recovers; an operator redrives
    call_command("redrive_dlq")
    assert sqs.depth(dead_letter=True) == 0
    wait_for(lambda: _status(job) == "succeeded", timeout=40)


_OPERATORS = {"GreaterThanThreshold": lambda v, t: v > t, "GreaterThanOrEqualToThreshold": lambda v, t: v >= t}


def _assert_the_dlq_alarm_fires_on(queues, settings):
    """The app's queue-depth sample of the dead-letter queue is the datapoint its alarm watches, and breaches it.

    moto stores alarms but never evaluates them, so the test evaluates the stored alarm's own condition against
    the datapoints CloudWatch returns, as CloudWatch would over one period.
    """
    from datetime import UTC, datetime, timedelta

    from monitoring import metrics
    from stocktool.aws import get_cloudwatch_service
    from stocktool.aws.session import client
    from stocktool.provisioning.monitoring import alarm_names

    alarm_name = alarm_names()["dlq"]  # named after this run's resources, before the queues are switched
    settings.SQS_QUEUE_ANALYSIS, settings.SQS_QUEUE_ANALYSIS_DLQ = queues["name"], queues["dlq_name"]
    assert get_cloudwatch_service().track_queue_depth() == {"analysis": 0, "dlq": 1}
    assert metrics.flush() >= 2

    cloudwatch = client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
    assert alarm["ActionsEnabled"] and alarm["AlarmActions"] and alarm["AlarmActions"][0].endswith(
        settings.SNS_TOPIC_NOTIFICATIONS)
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=alarm["Namespace"], MetricName=alarm["MetricName"], Dimensions=alarm["Dimensions"],
        StartTime=now - timedelta(seconds=alarm["Period"] * alarm["EvaluationPeriods"]),
        EndTime=now + timedelta(minutes=1), Period=alarm["Period"], Statistics=[alarm["Statistic"]],
    )["Datapoints"]
    breaching = [p for p in points if _OPERATORS[alarm["ComparisonOperator"]](p[alarm["Statistic"]], alarm["Threshold"])]
    assert len(breaching) >= alarm["DatapointsToAlarm"], (alarm, points)
    return (f"alarm {alarm['AlarmName']}: {alarm['MetricName']} {alarm['Statistic']} "
            f"{max(p[alarm['Statistic']] for p in breaching):.0f} {alarm['ComparisonOperator']} {alarm['Threshold']:.0f}"
            f" -> would fire, action {alarm['AlarmActions'][0].rsplit(':', 1)[-1]}")


@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_worker_stopped_with_sigterm_sends_every_metric_it_recorded(queues, workers, av, settings, monkeypatch,
                                                                     pool):
    from analysis.market_data.cache import CACHE_NAME
    from analysis.services import analysis_compute
    from monitoring import metrics
    from monitoring.tests.helpers import statistics
    from stocktool.aws.cloudwatch import CACHE_HIT_RATE

    # How many stock-data cache lookups one analysis makes, counted here with the same provider.
    settings.MARKET_DATA_PROVIDER, settings.ALPHAVANTAGE_API_KEY, settings.ALPHAVANTAGE_BASE_URL = \
        "alphavantage", KEY, av.url
    lookups = []
    monkeypatch.setattr(metrics, "track_cache", lambda *args, **kwargs: lookups.append(args))
    analysis_compute(job=_job())
    assert lookups
    monkeypatch.undo()

    namespace = f"ShutdownTest{uuid.uuid4().hex[:8]}"
    worker = workers(pool=pool, CLOUDWATCH_ENABLED="true", CLOUDWATCH_NAMESPACE=namespace,
                     MONITORING_FLUSH_INTERVAL="60", MONITORING_QUEUE_DEPTH_INTERVAL="0")
    jobs = [_job() for _ in range(4)]
    app = producer(queues)
    for job in jobs:
        app.send_task(TASK, args=[str(job.id)])
    wait_for(lambda: all(_status(job) == "succeeded" for job in jobs), timeout=60)
    worker.process.send_signal(signal.SIGTERM)  # as a platform stops it: the main process only
    worker.process.wait(timeout=60)
    counted = statistics(namespace, CACHE_HIT_RATE, {"Cache": CACHE_NAME})
    assert counted["SampleCount"] == len(jobs) * len(lookups), worker.output()[-3000:]


@pytest.mark.faults
def test_a_task_longer_than_the_visibility_timeout_keeps_its_message_and_runs_once(queues, workers, av, figures):
    av.hold.set()
    first = workers(SQS_VISIBILITY_TIMEOUT="3")  # the queue's own timeout is 3 s too
    job = _job(symbols=("NVDA",))
    producer(queues).send_task(TASK, args=[str(job.id)])
    assert av.arrived.wait(30), "the task never reached the provider"
    second = workers(SQS_VISIBILITY_TIMEOUT="3")  # idle, polling the same queue
    time.sleep(10)  # three visibility timeouts with the task still running
    av.hold.clear()
    av.release.set()
    wait_for(lambda: _status(job) == "succeeded", timeout=40)
    assert job.attempts == 1
    assert "Received task" not in second.output(), "the message came back while its task ran"
    figures(f"a 10 s task on a queue with a 3 s visibility timeout: attempts {job.attempts}, "
            f"never delivered to the idle second worker")
    assert first.process.poll() is None


def _published(target: str, body: bytes) -> bool:
    return target.endswith(".Publish") or b"Action=Publish&" in body


@pytest.mark.faults
@pytest.mark.parametrize("queues", [{"max_receive": 10}], indirect=True, ids=["queue"])
def test_workers_killed_between_commit_and_publish_still_announce_every_analysis_once(
        queues, workers, av, settings, figures):
    """Workers are SIGKILLed after an analysis's result committed, while its "Analysis Ready" is in flight: SNS
    took the message but its answer never came back (held by a proxy), so the row stays unsent and the message
    unacknowledged. The next worker finds the job done, does not run it again, and publishes the event again;
    the events consumer and the page's socket push each event id once."""
    from urllib.parse import urlsplit

    from django.contrib.auth import get_user_model

    from analysis.tests.test_push import _connect
    from knowledge.handlers import events_process
    from stocktool.events import events_batch
    from stocktool.outbox import outbox_pending
    from tests.faultproxy import ThrottlingProxy

    n, kills = 20, 3
    while events_process(wait_seconds=0)["received"]:  # the shared events queue starts empty
        pass
    user = get_user_model().objects.create_user(f"killed-{uuid.uuid4().hex[:6]}", password="x-123456789")
    endpoint = urlsplit(settings.AWS_ENDPOINT_URL)
    sns = ThrottlingProxy(endpoint.hostname, endpoint.port).start()
    sns.hold = _published
    try:
        jobs = [_job(user=user) for _ in range(n)]
        app = producer(queues)
        for job in jobs:
            app.send_task(TASK, args=[str(job.id)])

        def succeeded() -> int:
            return AnalysisJob.objects.filter(pk__in=[j.pk for j in jobs], status="succeeded").count()

        for _ in range(kills):
            held = sns.held
            worker = workers(AWS_ENDPOINT_URL_SNS=sns.url, AWS_READ_TIMEOUT="30")
            wait_for(lambda: sns.held > held, timeout=60)  # a result committed, its publish reached SNS, held
            worker.kill()  # SIGKILL between the commit and marking the event sent
        unsent_after_kills, done_after_kills = outbox_pending(), succeeded()
        workers()  # SNS answers this one
        wait_for(lambda: succeeded() == n and outbox_pending() == 0, timeout=90, interval=0.5)
    finally:
        sns.stop()
    # Each kill landed while a publish was held: after a commit, or while a later worker re-sent the same event.
    assert unsent_after_kills >= 1 and done_after_kills >= unsent_after_kills
    assert [j.attempts for j in AnalysisJob.objects.filter(pk__in=[j.pk for j in jobs])] == [1] * n  # run once each
    sqs = SQSService(queues["name"], queues["dlq_name"])
    wait_for(lambda: sqs.depth() == 0, timeout=20)
    assert sqs.depth(dead_letter=True) == 0

    async def the_page_hears():
        socket, connected = await _connect(user)
        assert connected
        heard, totals = [], {"push": 0, "duplicate": 0}
        for _ in range(30):
            stats = await events_batch(wait_seconds=1)
            for kind in totals:
                totals[kind] += stats[kind]
            while not await socket.receive_nothing(timeout=0.05):
                heard.append(await socket.receive_json_from())
            if len(heard) >= n and not stats["received"]:
                break
        await socket.disconnect()
        return heard, totals

    heard, totals = async_to_sync(the_page_hears)()
    assert sorted(m["analysis_id"] for m in heard) == sorted(str(j.id) for j in jobs)  # every one, once
    assert len({m["event_id"] for m in heard}) == n
    assert totals["duplicate"] >= kills  # the held publishes reached SNS too: sent twice, pushed once
    figures(f"{n} analyses, {kills} workers SIGKILLed between commit and publish: {n} succeeded (attempts 1 each), "
            f"{unsent_after_kills} events unsent after the kills, all published by the next worker; "
            f"{totals['push']} pushed to the page, {totals['duplicate']} duplicates dropped; queue and DLQ empty")
