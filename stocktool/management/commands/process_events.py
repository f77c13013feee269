import asyncio
import logging
import signal

from django.core.management.base import BaseCommand

from stocktool.events import events_batch, events_run


class Command(BaseCommand):
    help = ("Consume the events queue: S3 object events (index or unindex knowledge documents) and app events "
            "(push to users' pages). The web process runs this itself; use the command for a separate consumer.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="handle one batch, then exit")
        parser.add_argument("--wait", type=int, default=20, help="long-poll seconds per receive (0-20)")

    def handle(self, *args, once, wait, **options):
        wait = max(0, min(wait, 20))
        if once:
            stats = asyncio.run(events_batch(wait_seconds=wait))
            self.stdout.write(f"process_events: {stats}")
            return
        logging.getLogger("stocktool.events").setLevel(logging.INFO)
        self.stdout.write("process_events: listening (Ctrl-C stops)")
        asyncio.run(self._listen(wait))

    async def _listen(self, wait: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await events_run(stop, wait_seconds=wait)
