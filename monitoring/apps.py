from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self):
        from stocktool.aws import cloudwatch

        from . import logs, metrics

        cloudwatch.install_recorder(metrics.record)
        logs.connect_celery()
        _flush_when_worker_processes_stop(metrics)


def _flush_when_worker_processes_stop(metrics) -> None:
    # Celery's pool processes leave through os._exit, which skips atexit: flush on its own signal.
    from celery import signals

    signals.worker_process_shutdown.connect(
        lambda **kwargs: metrics.shutdown(), weak=False, dispatch_uid="stocktool-metrics-flush"
    )
