"""Where document files live: the STORAGES setting's S3 bucket, or the file system when S3 is off."""

from django.conf import settings
from django.core.files.storage import storages
from storages.backends.s3 import S3Storage

import stocktool.aws.s3  # noqa: F401  registers text/markdown for .md before django-storages guesses types

S3_BACKEND = "storages.backends.s3.S3Storage"


class KnowledgeS3Storage(S3Storage):
    """django-storages' S3 backend that also writes per-file metadata (the sha256 `sync_kb` compares)."""

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
