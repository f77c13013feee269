import os
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import emulator


class Command(BaseCommand):
    help = "Run the embedded AWS emulator (moto in server mode) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=None, help="default: the host of AWS_ENDPOINT_URL (127.0.0.1)")
        parser.add_argument("--port", type=int, default=None, help="default: the port of AWS_ENDPOINT_URL (4566)")

    def handle(self, *args, host, port, **options):
        endpoint = urlsplit(settings.AWS_ENDPOINT_URL or settings.EMBEDDED_EMULATOR_URL)
        host = host or endpoint.hostname
        port = port or endpoint.port or 4566
        if host not in ("127.0.0.1", "localhost", "0.0.0.0"):
            raise CommandError(f"AWS_ENDPOINT_URL points at {host}, not this machine: nothing to start")
        if emulator.port_in_use(host, port):
            raise CommandError(f"port {port} is in use: is an emulator (or LocalStack) already running there?")
        self.stdout.write(f"AWS emulator (moto server) on http://{host}:{port}", ending="\n")
        self.stdout.flush()
        # Replace this process, so Ctrl-C and honcho's signals reach moto directly.
        cmd = emulator.command(host, port)
        os.execv(sys.executable, cmd)
