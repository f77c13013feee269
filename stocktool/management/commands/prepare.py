import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Get a local StockTool ready: wait for AWS, create resources, migrate, create the demo user and "
            "sync the starter knowledge base. `make run` runs it before the web server.")

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the AWS endpoint")
        parser.add_argument("--no-knowledge", action="store_true", help="skip syncing the starter knowledge")

    def handle(self, *args, wait, no_knowledge, **options):
        if settings.AWS_ENDPOINT_URL:
            call_command("wait_for_aws", timeout=wait)
        call_command("bootstrap_aws", stdout=self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        if not no_knowledge and "sync_kb" in get_commands():
            call_command("sync_kb", stdout=self.stdout)
        username, password = self._demo_user()
        site = settings.SITE_URL
        self.stdout.write(self.style.SUCCESS(
            "\nStockTool is ready:\n"
            f"  chat        {site}/\n"
            f"  admin       {site}/admin/\n"
            f"  API docs    {site}/api/docs/\n"
            f"  health      {site}/health\n"
            f"  AWS         {settings.AWS_ENDPOINT_URL or 'real AWS (' + settings.AWS_DEFAULT_REGION + ')'}\n"
            f"  log in as   {username} / {password}\n"
        ))

    def _demo_user(self) -> tuple[str, str]:
        """Create or refresh the demo superuser; its password comes from DEMO_PASSWORD or is made now."""
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=settings.DEMO_USERNAME)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        shown = password if not settings.DEMO_PASSWORD else "(the DEMO_PASSWORD you set)"
        return settings.DEMO_USERNAME, shown
