"""S3: the versioned knowledge bucket."""

import mimetypes
from pathlib import Path
from typing import BinaryIO

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from .errors import is_not_found, translate
from .session import client

mimetypes.add_type("text/markdown", ".md")
mimetypes.add_type("text/markdown", ".markdown")

# Files above 8 MB go up in parts, several at a time, through boto3's transfer manager.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
ENCRYPTION = {"ServerSideEncryption": "AES256"}


def content_type_for(name: str, head: bytes = b"") -> str:
    guessed, _ = mimetypes.guess_type(name)
    if guessed:
        return guessed
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "text/html"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


class S3Service:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def upload_fileobj(self, fileobj: BinaryIO, key: str, metadata: dict | None = None,
                       content_type: str | None = None) -> dict:
        """Upload ``fileobj`` to ``key`` (encrypted, metadata kept); return its version id and etag."""
        if content_type is None:
            pos = fileobj.tell()
            head = fileobj.read(512)
            fileobj.seek(pos)
            content_type = content_type_for(key, head)
        extra = {**ENCRYPTION, "ContentType": content_type, "Metadata": {k: str(v) for k, v in (metadata or {}).items()}}
        try:
            client("s3").upload_fileobj(fileobj, self.bucket, key, ExtraArgs=extra, Config=TRANSFER)
            head = client("s3").head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"upload s3://{self.bucket}/{key}") from exc
        return {"key": key, "version_id": head.get("VersionId"), "etag": head["ETag"].strip('"'),
                "size": head["ContentLength"], "content_type": head.get("ContentType")}

    def upload_file(self, local_path: str | Path, key: str, metadata: dict | None = None) -> dict:
        with open(local_path, "rb") as fh:
            return self.upload_fileobj(fh, key, metadata=metadata)

    def download_fileobj(self, key: str, version_id: str | None = None) -> bytes | None:
        """Return the object's bytes, or None when it does not exist."""
        kwargs = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            return client("s3").get_object(**kwargs)["Body"].read()
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise translate(exc, f"download s3://{self.bucket}/{key}") from exc
        except BotoCoreError as exc:
            raise translate(exc, f"download s3://{self.bucket}/{key}") from exc

    def head(self, key: str) -> dict | None:
        try:
            return client("s3").head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise translate(exc, f"head s3://{self.bucket}/{key}") from exc

    def list_files(self, prefix: str = "") -> list[dict]:
        """List current objects under ``prefix``: key, size, etag, last_modified."""
        out = []
        try:
            for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    out.append({"key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"].strip('"'),
                                "last_modified": obj["LastModified"]})
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"list s3://{self.bucket}/{prefix}") from exc
        return out

    def generate_presigned_url(self, key: str, expires_in: int = 300, version_id: str | None = None) -> str:
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def delete(self, key: str) -> None:
        """Delete ``key``: on a versioned bucket this adds a delete marker, so it can be restored."""
        client("s3").delete_object(Bucket=self.bucket, Key=key)

    def ping(self, purpose: str = "probe") -> None:
        client("s3", purpose=purpose).head_bucket(Bucket=self.bucket)
