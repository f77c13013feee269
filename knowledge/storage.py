"""Where document files live: the STORAGES setting's S3 bucket, or the file system when S3 is off."""

import io
import threading

from django.conf import settings
from django.core.files.storage import storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, is_seekable

import stocktool.aws.s3  # noqa: F401  registers text/markdown for .md before django-storages guesses types
from stocktool.aws.errors import translated
from stocktool.aws.s3 import S3Service

S3_BACKEND = "storages.backends.s3.S3Storage"


class KnowledgeS3Storage(S3Storage):
    """django-storages' S3 backend that also writes per-file metadata (the sha256 `sync_kb` compares).

    Its client has the project's timeouts and retries (django-storages' own default waits 60 s a read) and sits
    behind the same circuit breaker as every other S3 client.

    Writes take the AWS layer's one S3 path (``S3Service.upload_fileobj``), as ``sync_kb`` does: one PutObject
    for a document under 8 MB, whose answer carries the version id and ETag (``last_put``), so no HEAD follows
    and no transfer-manager threads start; multipart above that. django-storages serves the rest of Django's
    storage API (names, URLs, reads).
    """

    _puts = threading.local()

    def _save(self, name, content):
        # An AWSError like every other AWS call, so an outage answers a 503 page rather than a 500.
        with translated(f"store {name}"):
            if self.gzip:  # (off in the settings: django-storages compresses on its own path)
                self._puts.last = None
                return super()._save(name, content)
            cleaned = clean_name(name)
            key = self._normalize_name(cleaned)
            params = self._get_write_parameters(key, content)
            if is_seekable(content):
                content.seek(0)
            body = content.read()
            stored = S3Service(self.bucket_name).upload_fileobj(
                io.BytesIO(body.encode() if isinstance(body, str) else body), key,
                metadata=params.get("Metadata"), content_type=params.get("ContentType"))
            self._puts.last = (cleaned, stored["version_id"] or "", stored["etag"])
            return cleaned

    def last_put(self, name: str) -> tuple[str, str] | None:
        """(version id, ETag) of this thread's last save of ``name``, from the write's own answer; None otherwise."""
        last = getattr(self._puts, "last", None)
        return (last[1], last[2]) if last and last[0] == name else None

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        metadata = getattr(content, "s3_metadata", None)
        if metadata:
            params["Metadata"] = {**params.get("Metadata", {}), **{k: str(v) for k, v in metadata.items()}}
        return params


def uses_s3() -> bool:
    return settings.STORAGES["default"]["BACKEND"] == S3_BACKEND


def knowledge_storage():
    if uses_s3():
        return KnowledgeS3Storage(**settings.STORAGES["default"].get("OPTIONS", {}))
    return storages["default"]
