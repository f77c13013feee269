"""Sync a local folder of documents to the bucket and keep the index in step (`sync_kb`, the admin button)."""

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from stocktool.aws import get_s3_service
from stocktool.aws.s3 import normalise_prefix, scan_directory

from .models import KnowledgeDocument
from .parsing import DocumentError, parse_document
from .services import document_forget, document_index_bytes, index_rebuild, max_bytes
from .storage import uses_s3

Status = KnowledgeDocument.Status


def file_refusal(path: Path) -> str | None:
    """Why ``path`` may not be uploaded (the same checks as an admin upload), or None."""
    try:
        size = path.stat().st_size
        if size > max_bytes():
            return f"“{path.name}” is {size / 2**20:.1f} MB; the limit is {max_bytes() // 2**20} MB."
        parse_document(path.name, path.read_bytes(), max_bytes=max_bytes())
    except DocumentError as exc:
        return str(exc)
    except OSError as exc:
        return f"“{path.name}” could not be read: {exc.strerror or exc}"
    return None


def knowledge_sync(*, directory: str | Path | None = None, prefix: str | None = None, delete: bool = False,
                   dry_run: bool = False, reindex: bool = False,
                   progress: Callable[[int, int, str, str], None] | None = None) -> dict:
    """Upload changed files of ``directory`` under ``prefix``, index them, and return the counts.

    Files unchanged in S3 are indexed from the local copy only when the index lacks them (a new database).
    """
    directory = Path(directory or settings.KNOWLEDGE_DIR)
    prefix = normalise_prefix(settings.KNOWLEDGE_PREFIX if prefix is None else prefix)
    if not uses_s3():
        return _sync_without_s3(directory, prefix, dry_run=dry_run)
    stats = get_s3_service().sync_directory(directory, prefix, delete=delete, dry_run=dry_run,
                                            check=file_refusal, progress=progress)
    if dry_run:
        return stats
    for item in stats["changed"]:
        data = Path(item["path"]).read_bytes()
        document_index_bytes(key=item["key"], data=data, version_id=item["version_id"] or "", etag=item["etag"])
    _index_missing(stats["unchanged_keys"])
    present = set(stats["remote_keys"]) | {c["key"] for c in stats["changed"]}
    _forget_absent(prefix, present - set(stats["deleted_keys"]))
    if reindex:
        stats["reindexed"] = index_rebuild(prefix=prefix)
    return stats


def _index_missing(unchanged: list[dict]) -> None:
    known = {d["key"]: d for d in KnowledgeDocument.objects.filter(key__in=[u["key"] for u in unchanged])
             .values("key", "etag", "status")}
    s3 = get_s3_service()
    for item in unchanged:
        doc = known.get(item["key"])
        if doc and doc["etag"] == item["etag"] and doc["status"] in (Status.INDEXED, Status.FAILED):
            continue
        head = s3.head(item["key"]) or {}
        document_index_bytes(key=item["key"], data=Path(item["path"]).read_bytes(),
                             version_id=head.get("VersionId") or "", etag=item["etag"])


def _forget_absent(prefix: str, present: set[str]) -> None:
    """Unindex documents under ``prefix`` the bucket no longer has (deleted now, or an emulator restarted)."""
    indexed = KnowledgeDocument.objects.filter(key__startswith=prefix).exclude(status=Status.DELETED)
    for key in indexed.values_list("key", flat=True):
        if key not in present:
            document_forget(key=key)


def _sync_without_s3(directory: Path, prefix: str, *, dry_run: bool) -> dict:
    """S3_ENABLED=false: index the folder straight from disk (no bucket, so nothing to upload or delete)."""
    files, errors = scan_directory(directory)
    stats = {"uploaded": 0, "unchanged": 0, "deleted": 0, "failed": len(errors), "errors": errors,
             "changed": [], "unchanged_keys": [], "deleted_keys": [], "dry_run": dry_run}
    known = dict(KnowledgeDocument.objects.filter(key__startswith=prefix).values_list("key", "sha256"))
    for rel, path in sorted(files.items()):
        key, data = prefix + rel, path.read_bytes()
        if known.get(key) == hashlib.sha256(data).hexdigest():
            stats["unchanged"] += 1
            continue
        refusal = file_refusal(path)
        if refusal:
            stats["failed"] += 1
            errors.append({"path": rel, "error": refusal})
            continue
        if not dry_run:
            document_index_bytes(key=key, data=data)
        stats["uploaded"] += 1
        stats["changed"].append({"key": key, "path": str(path)})
    return stats
