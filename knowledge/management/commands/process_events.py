import logging
import signal

from django.core.management.base import BaseCommand

from knowledge.events import events_listen


class Command(BaseCommand):
    help = ("Consume the events queue: S3 object created/removed under the knowledge prefix -> index or "
            "unindex that document. Also compares the bucket with the index every few seconds.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="handle one batch (and one comparison), then exit")
        parser.add_argument("--wait", type=int, default=20, help="long-poll seconds per receive (0-20)")

    def handle(self, *args, once, wait, **options):
        stopping = []
        if not once:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stopping.append(True))
            logging.getLogger("knowledge").setLevel(logging.INFO)
            self.stdout.write("process_events: listening (Ctrl-C stops)")
        events_listen(once=once, wait_seconds=max(0, min(wait, 20)), stop=lambda: bool(stopping))
