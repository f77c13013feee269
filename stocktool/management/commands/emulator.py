import signal
import sys
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import emulator


class Command(BaseCommand):
    help = "Run the embedded AWS emulator (moto in server mode) in the foreground until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="default: the host of AWS_ENDPOINT_URL (127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="default: the port of AWS_ENDPOINT_URL (4566)")

    def handle(self, *args, host, port, **options):
        endpoint = urlsplit(settings.AWS_ENDPOINT_URL or settings.EMBEDDED_EMULATOR_URL)
        host = host or endpoint.hostname
        port = port or endpoint.port or 4566
        if host not in ("127.0.0.1", "localhost", "0.0.0.0"):
            raise CommandError(f"AWS_ENDPOINT_URL points at {host}, not this machine: nothing to start")
        log_path = settings.BASE_DIR / "var" / "emulator.log"
        log_path.parent.mkdir(exist_ok=True)
        server = emulator.Emulator(port, host=host, log_path=str(log_path))
        try:
            url = server.start()
        except emulator.EmulatorError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"AWS emulator (moto server) ready on {url}; its state lives in memory only; "
                          f"request log in {log_path}")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(0.5):
            if server.process is not None and server.process.poll() is not None:
                # Keep running so `make run` keeps serving: the web app's /health now reports AWS as down.
                self.stderr.write(
                    f"AWS emulator exited (code {server.process.returncode}); web and worker keep running. "
                    f"Start a new one with `python manage.py emulator` and `python manage.py bootstrap_aws`, "
                    f"or stop everything with Ctrl-C."
                )
                server.process = None
        server.stop()
        sys.exit(0)
