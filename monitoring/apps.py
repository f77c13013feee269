from celery import signals
from django.apps import AppConfig
from django.conf import settings

from stocktool.aws import cloudwatch
from stocktool.lifecycle import on_process_stop

from . import logs, metrics


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self):
        cloudwatch.install_recorder(metrics.record)
        logs.connect_celery()
        on_process_stop(metrics.shutdown)  # the web server's lifespan shutdown, process_events
        _flush_when_worker_processes_stop()


def _flush_when_worker_processes_stop() -> None:
    # Celery's pool processes leave through os._exit, which skips atexit: flush on its own signal. The main
    # process (the solo pool's tasks, the queue-depth samples) flushes on the worker's shutdown signal, which a
    # warm shutdown (SIGTERM) or a cold one (SIGQUIT, a second SIGINT) sends before the process exits.
    def flush(**kwargs):
        metrics.shutdown(settings.MONITORING_SHUTDOWN_SECONDS)

    signals.worker_process_shutdown.connect(flush, weak=False, dispatch_uid="stocktool-metrics-flush")
    signals.worker_shutdown.connect(flush, weak=False, dispatch_uid="stocktool-metrics-flush-main")
