import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from knowledge.storage import uses_s3
from knowledge.sync import knowledge_sync
from stocktool.aws import AWSError
from stocktool.aws.s3 import normalise_prefix


class Command(BaseCommand):
    help = ("Sync a folder of knowledge documents to the bucket (only files whose checksum changed) and index "
            "them. `make run` runs it with no arguments on start.")
    # System checks import every URLconf and view (NumPy, DRF schema, ...): a second of start-up that a
    # routine sync does not need. `manage.py check` and the web server still run them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=None,
                            help=f"folder to sync (default: {Path(settings.KNOWLEDGE_DIR).name}/)")
        parser.add_argument("--prefix", default=settings.KNOWLEDGE_PREFIX, help="key prefix in the bucket")
        parser.add_argument("--delete", action="store_true", help="delete objects that have no local file")
        parser.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
        parser.add_argument("--reindex", action="store_true", help="then rebuild the search index from S3")

    def handle(self, *args, directory, prefix, delete, dry_run, reindex, **options):
        folder = Path(directory) if directory else Path(settings.KNOWLEDGE_DIR)
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a directory")
        try:
            prefix = normalise_prefix(prefix)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        tty = self.stdout.isatty()
        try:
            stats = knowledge_sync(directory=folder, prefix=prefix, delete=delete, dry_run=dry_run,
                                   reindex=reindex, progress=self._progress if tty else None)
        except (AWSError, ValueError) as exc:
            raise CommandError(f"sync_kb: {exc}") from None
        if tty:
            self.stdout.write("\r\033[K", ending="")
        for error in stats["errors"]:
            self.stderr.write(f"failed: {error['path']}: {error['error']}")
        self.stdout.write(self._summary(stats, folder, prefix, time.monotonic() - started))
        if stats["failed"]:
            raise CommandError(f"sync_kb: {stats['failed']} file(s) failed")

    def _progress(self, done: int, total: int, key: str, action: str) -> None:
        self.stdout.write(f"\r\033[K[{done}/{total}] {action} {key}"[:200], ending="")
        self.stdout.flush()

    @staticmethod
    def _target(prefix: str) -> str:
        return f"{settings.S3_BUCKET_NAME}/{prefix}" if uses_s3() else "the index only (S3_ENABLED=false)"

    def _summary(self, stats: dict, folder: Path, prefix: str, seconds: float) -> str:
        verb = "would upload" if stats["dry_run"] else "uploaded"
        gone = "would delete" if stats["dry_run"] else "deleted"
        line = (f"sync_kb: {stats['uploaded']} {verb}, {stats['unchanged']} unchanged, {stats['deleted']} {gone}, "
                f"{stats['failed']} failed ({folder} -> {self._target(prefix)}, {seconds:.2f} s)")
        if "reindexed" in stats:
            r = stats["reindexed"]
            line += f"; reindexed {r['indexed']}, {r['failed']} unreadable, {r['removed']} removed"
        return line
