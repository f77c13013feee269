from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import AWSError
from stocktool.provisioning.bootstrap import bootstrap


class Command(BaseCommand):
    help = "Create every AWS resource StockTool needs (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        target = settings.AWS_ENDPOINT_URL or f"AWS ({settings.AWS_DEFAULT_REGION})"
        try:
            steps = bootstrap()
        except AWSError as exc:
            raise CommandError(str(exc).splitlines()[0]) from None
        for step in steps:
            self.stdout.write(str(step))
        changed = sum(step.status != "exists" for step in steps)
        self.stdout.write(self.style.SUCCESS(f"AWS resources ready on {target}: {changed} changed, "
                                             f"{len(steps) - changed} unchanged"))
