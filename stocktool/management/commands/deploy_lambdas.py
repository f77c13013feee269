from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import AWSError
from stocktool.provisioning.deploy import functions_deploy
from stocktool.provisioning.functions import FUNCTIONS
from stocktool.provisioning.packaging import PackagingError


class Command(BaseCommand):
    help = ("Package the Lambda functions (code and dependencies), create or update them and their "
            "EventBridge schedules. Idempotent: a second run changes nothing. --dry-run only reads.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="print what would change; write nothing to AWS")
        parser.add_argument("--skip-deps", action="store_true",
                            help="zip the code without requirements.txt (emulators that never run it)")
        parser.add_argument("--function", action="append", dest="only", choices=[f.key for f in FUNCTIONS],
                            help="deploy only this function (repeatable)")
        parser.add_argument("--build-dir", help="where packages are built and cached (var/lambda-build)")

    def handle(self, *args, dry_run, skip_deps, only, build_dir, **options):
        target = settings.AWS_ENDPOINT_URL or f"AWS ({settings.AWS_DEFAULT_REGION})"
        try:
            deployments = functions_deploy(dry_run=dry_run, with_dependencies=not skip_deps,
                                           build_dir=build_dir, only=tuple(only or ()))
        except (AWSError, PackagingError) as exc:
            raise CommandError(str(exc).splitlines()[0]) from None
        changed = unchanged = 0
        for deployment in deployments:
            package = deployment.package
            contents = "code and dependencies" if package.with_dependencies else "code only"
            self.stdout.write(f"{'package':<10} {package.path.name:<40} {package.size / 2**20:.1f} MB, "
                              f"{contents}, {'cached' if package.cached else 'built'}")
            for step in deployment.steps:
                self.stdout.write(str(step))
            changed += deployment.changed
            unchanged += len(deployment.steps) - deployment.changed
        if dry_run:
            self.stdout.write(self.style.WARNING(
                f"dry run on {target}: {changed} would change, {unchanged} unchanged; nothing was written"))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"Lambda functions ready on {target}: {changed} changed, {unchanged} unchanged"))
