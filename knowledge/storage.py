"""Where document files live: the STORAGES setting's S3 bucket, or the file system when S3 is off."""

import threading

from botocore.config import Config
from django.conf import settings
from django.core.files.storage import storages
from storages.backends.s3 import S3Storage
from storages.utils import clean_name, is_seekable

import stocktool.aws.s3  # noqa: F401  registers text/markdown for .md before django-storages guesses types
from stocktool.aws import breaker
from stocktool.aws.errors import translated

S3_BACKEND = "storages.backends.s3.S3Storage"


class KnowledgeS3Storage(S3Storage):
    """django-storages' S3 backend that also writes per-file metadata (the sha256 `sync_kb` compares).

    Its client has the project's timeouts and retries (django-storages' own default waits 60 s a read) and sits
    behind the same circuit breaker as every other S3 client.

    A document (at most a few MB) is written with one PutObject, whose answer carries the new version's id and
    ETag (``last_put``): no HEAD after it, and none of the transfer manager's threads, which django-storages uses
    for files of any size. Larger files still go through the transfer manager (multipart).
    """

    SINGLE_PUT_BYTES = 8 * 1024 * 1024  # the transfer manager's own multipart threshold

    def __init__(self, **options):
        options.setdefault("client_config", Config(
            connect_timeout=settings.AWS_CONNECT_TIMEOUT, read_timeout=settings.AWS_READ_TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": settings.AWS_MAX_ATTEMPTS},
            s3={"addressing_style": options.get("addressing_style") or "auto"},
            signature_version=options.get("signature_version"),
        ))
        super().__init__(**options)

    @property
    def connection(self):
        found = getattr(self._connections, "connection", None)
        if found is None:
            found = super().connection
            breaker.attach(found.meta.client, endpoint=self.endpoint_url, service="s3")
        return found

    _puts = threading.local()

    def _save(self, name, content):
        # An AWSError like every other AWS call, so an outage answers a 503 page rather than a 500.
        with translated(f"store {name}"):
            if getattr(content, "size", self.SINGLE_PUT_BYTES) >= self.SINGLE_PUT_BYTES or self.gzip:
                self._puts.last = None
                return super()._save(name, content)
            return self._put(name, content)

    def _put(self, name, content) -> str:
        cleaned = clean_name(name)
        key = self._normalize_name(cleaned)
        params = self._get_write_parameters(key, content)
        if is_seekable(content):
            content.seek(0)
        body = content.read()
        answer = self.connection.meta.client.put_object(
            Bucket=self.bucket_name, Key=key, Body=body.encode() if isinstance(body, str) else body, **params)
        self._puts.last = (cleaned, answer.get("VersionId") or "", answer["ETag"].strip('"'))
        return cleaned

    def last_put(self, name: str) -> tuple[str, str] | None:
        """(version id, ETag) of this thread's last single-PUT save of ``name``; None if it was not one."""
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
