import json

from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import AWSError
from stocktool.provisioning.functions import FUNCTIONS
from stocktool.provisioning.iam_policy import ROLES, policies, policy


class Command(BaseCommand):
    help = ("Print the least-privilege IAM policy (JSON) of a role, built from the configured resource "
            "names: web, worker, lambda (the functions' role), bootstrap (bootstrap_aws, deploy_lambdas).")

    def add_arguments(self, parser):
        parser.add_argument("--role", choices=[*ROLES, "all"], default="all",
                            help="one role's policy document, or all of them keyed by role (default)")
        parser.add_argument("--account-id", help="the AWS account id for the ARNs (default: asked from STS)")

    def handle(self, *args, role, account_id, **options):
        functions = tuple(f.key for f in FUNCTIONS)
        try:
            if role == "all":
                document = policies(account=account_id, functions=functions)
            else:
                document = policy(role, account=account_id, functions=functions)
        except AWSError as exc:
            raise CommandError(f"{str(exc).splitlines()[0]} (or pass --account-id)") from None
        self.stdout.write(json.dumps(document, indent=2))
