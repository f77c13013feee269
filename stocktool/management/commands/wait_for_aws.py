import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import emulator
from stocktool.aws.sqs import exists


class Command(BaseCommand):
    help = "Wait until the AWS endpoint answers (and, with --resources, until bootstrap_aws has run)."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60)
        parser.add_argument("--resources", action="store_true", help="also wait for the analysis queue")

    def handle(self, *args, timeout, resources, **options):
        deadline = time.monotonic() + timeout
        endpoint = settings.AWS_ENDPOINT_URL
        while time.monotonic() < deadline:
            try:
                if endpoint and not emulator.port_open(endpoint):
                    raise ConnectionError(endpoint)
                if not resources or not settings.SQS_ENABLED or exists(settings.SQS_QUEUE_ANALYSIS):
                    return
            except Exception:
                pass
            time.sleep(0.25)
        what = "AWS resources" if resources else "the AWS endpoint"
        raise CommandError(f"gave up waiting {timeout:.0f} s for {what} at {endpoint or 'AWS'}")
