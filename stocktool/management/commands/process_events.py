import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from stocktool.events import events_batch, events_run
from stocktool.lifecycle import process_stop

STOP_GRACE_SECONDS = 5  # on SIGTERM/SIGINT: how long the batch in hand may take before the consumer stops


class Command(BaseCommand):
    help = ("Consume the events queue: S3 object events (index or unindex knowledge documents) and app events "
            "(push to users' pages). The web process runs this itself; use the command for a separate consumer.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="handle one batch, then exit")
        parser.add_argument("--wait", type=int, default=20,
                            help=f"long-poll seconds per receive (0-20; at most {STOP_GRACE_SECONDS} when listening)")

    def handle(self, *args, once, wait, **options):
        wait = max(0, min(wait, 20))
        if once:
            stats = asyncio.run(events_batch(wait_seconds=wait))
            self.stdout.write(f"process_events: {stats}")
            return
        logging.getLogger("stocktool.events").setLevel(logging.INFO)
        self.stdout.write("process_events: listening (Ctrl-C stops)")
        try:
            asyncio.run(self._listen(wait))
        finally:  # whatever stopped it: what this process recorded goes to CloudWatch before it exits
            process_stop(settings.MONITORING_SHUTDOWN_SECONDS)

    async def _listen(self, wait: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        # A receive cannot be interrupted, and the process waits for it at exit: long polls of at most the stop
        # grace keep a SIGTERM's stop within seconds (an idle queue costs one request per 5 s instead of 20 s).
        consumer = asyncio.create_task(events_run(stop, wait_seconds=min(wait, STOP_GRACE_SECONDS)))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({consumer, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        try:  # the batch in hand is handled; a long poll still waiting is given up (its messages come back)
            await asyncio.wait_for(consumer, timeout=STOP_GRACE_SECONDS)
        except TimeoutError:
            pass
