from django.core.management.base import BaseCommand, CommandError

from stocktool.aws import AWSError, get_sqs_service


class Command(BaseCommand):
    help = "Move messages from the analysis dead-letter queue back to the analysis queue."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="move at most this many")
        parser.add_argument("--peek", action="store_true", help="only show what is in the dead-letter queue")

    def handle(self, *args, limit, peek, **options):
        sqs = get_sqs_service()
        try:
            if peek:
                letters = sqs.dead_letters_peek()
                for letter in letters:
                    self.stdout.write(f"{letter['message_id']}  received {letter['receive_count']}x  "
                                      f"{letter['body'][:80]}")
                self.stdout.write(f"{sqs.depth(dead_letter=True)} message(s) in {sqs.dlq_name}")
                return
            moved = sqs.redrive(limit=limit)
        except AWSError as exc:
            raise CommandError(str(exc).splitlines()[0]) from None
        self.stdout.write(self.style.SUCCESS(f"moved {moved} message(s) from {sqs.dlq_name} to {sqs.queue_name}"))
