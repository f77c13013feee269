"""S3: the versioned knowledge bucket."""

import hashlib
import mimetypes
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from boto3.s3.transfer import TransferConfig

from .errors import AWSError, NotFound, found, translated
from .session import client

mimetypes.add_type("text/markdown", ".md")
mimetypes.add_type("text/markdown", ".markdown")

# Files above 8 MB go up in parts, several at a time, through boto3's transfer manager.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
ENCRYPTION = {"ServerSideEncryption": "AES256"}
SHA256_META = "sha256"  # user metadata key (x-amz-meta-sha256) that sync_directory compares
HASH_CHUNK = 1024 * 1024

Progress = Callable[[int, int, str, str], None]  # (done, total, key, action)
Check = Callable[[Path], str | None]  # returns an error message to refuse a file


def content_type_for(name: str, head: bytes = b"") -> str:
    """Guess a content type from the name, then from the first bytes."""
    guessed, encoding = mimetypes.guess_type(name)
    if guessed and not encoding:
        return guessed
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 3:
            return "application/octet-stream"
    return guessed or "text/plain"


def file_digests(path: str | Path) -> tuple[str, str]:
    """Return the (md5, sha256) hex digests of a file, read once."""
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def _remaining(fileobj: BinaryIO) -> int | None:
    """Bytes left in ``fileobj``, or None when it cannot seek."""
    try:
        pos = fileobj.tell()
        end = fileobj.seek(0, os.SEEK_END)
        fileobj.seek(pos)
    except (OSError, AttributeError, ValueError):
        return None
    return end - pos


def _with_body(resp: dict) -> tuple[dict, bytes]:
    return resp, resp["Body"].read()


def _version(obj: dict, *, delete_marker: bool = False) -> dict:
    return {
        "key": obj["Key"],
        "version_id": obj.get("VersionId"),
        "is_latest": obj.get("IsLatest", False),
        "last_modified": obj.get("LastModified"),
        "size": obj.get("Size", 0),
        "etag": obj.get("ETag", "").strip('"'),
        "is_delete_marker": delete_marker,
    }


class S3Service:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def _where(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}"

    def upload_fileobj(self, fileobj: BinaryIO, key: str, metadata: dict | None = None,
                       content_type: str | None = None) -> dict:
        """Upload ``fileobj`` to ``key`` (encrypted, metadata kept); return its version id and etag."""
        if content_type is None:
            pos = fileobj.tell()
            head = fileobj.read(2048)
            fileobj.seek(pos)
            content_type = content_type_for(key, head)
        extra = {**ENCRYPTION, "ContentType": content_type, "Metadata": {k: str(v) for k, v in (metadata or {}).items()}}
        size = _remaining(fileobj)
        with translated(f"upload {self._where(key)}"):
            if size is not None and size < TRANSFER.multipart_threshold:
                # One PUT answers the version id and ETag; the transfer manager's thread pool and the HEAD it
                # needs afterwards would double the time of a small upload.
                resp = client("s3").put_object(Bucket=self.bucket, Key=key, Body=fileobj.read(), **extra)
                return {"key": key, "version_id": resp.get("VersionId"), "etag": resp["ETag"].strip('"'),
                        "size": size, "content_type": content_type, "metadata": extra["Metadata"]}
            client("s3").upload_fileobj(fileobj, self.bucket, key, ExtraArgs=extra, Config=TRANSFER)
            head = client("s3").head_object(Bucket=self.bucket, Key=key)
        return {"key": key, "version_id": head.get("VersionId"), "etag": head["ETag"].strip('"'),
                "size": head["ContentLength"], "content_type": head.get("ContentType"),
                "metadata": head.get("Metadata", {})}

    def upload_file(self, local_path: str | Path, key: str, metadata: dict | None = None) -> dict:
        with open(local_path, "rb") as fh:
            return self.upload_fileobj(fh, key, metadata=metadata)

    def download_fileobj(self, key: str, version_id: str | None = None) -> bytes | None:
        """Return the object's bytes, or None when it does not exist."""
        found = self.get(key, version_id)
        return None if found is None else found["body"]

    def get(self, key: str, version_id: str | None = None) -> dict | None:
        """Return the object's bytes with its version id, etag, type and metadata; None when missing."""
        kwargs = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        # (A delete marker, asked for by version id, counts as not found: it answers 405.)
        got = found(f"download {self._where(key)}", lambda: _with_body(client("s3").get_object(**kwargs)))
        if got is None:
            return None
        resp, body = got
        return {"key": key, "body": body, "version_id": resp.get("VersionId"),
                "etag": resp.get("ETag", "").strip('"'), "content_type": resp.get("ContentType"),
                "metadata": resp.get("Metadata", {}), "last_modified": resp.get("LastModified")}

    def head(self, key: str, version_id: str | None = None) -> dict | None:
        kwargs = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        return found(f"head {self._where(key)}", client("s3").head_object, **kwargs)

    def list_files(self, prefix: str = "") -> list[dict]:
        """List current objects under ``prefix``: key, size, etag, last_modified."""
        out = []
        with translated(f"list {self._where(prefix)}"):
            for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    out.append({"key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"].strip('"'),
                                "last_modified": obj["LastModified"]})
        return out

    def generate_presigned_url(self, key: str, expires_in: int = 300, version_id: str | None = None,
                               download_name: str | None = None) -> str:
        """Return a GET link that expires after ``expires_in`` seconds (SigV4)."""
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        if download_name:
            safe = download_name.replace('"', "").replace("\\", "")
            params["ResponseContentDisposition"] = f'attachment; filename="{safe}"'
        return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires_in))

    def list_versions(self, key: str) -> list[dict]:
        """Every version and delete marker of ``key``, newest first."""
        found = []
        with translated(f"list versions of {self._where(key)}"):
            pages = client("s3").get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
            for page in pages:
                found += [_version(v) for v in page.get("Versions", []) if v["Key"] == key]
                found += [_version(m, delete_marker=True) for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        # Latest first, then by date: moto can give two versions the same second.
        return sorted(found, key=lambda v: (v["is_latest"], v["last_modified"]), reverse=True)

    def restore_version(self, key: str, version_id: str) -> dict:
        """Make ``version_id`` current again by copying it over the key: a new version, history kept."""
        source = {"Bucket": self.bucket, "Key": key, "VersionId": version_id}
        try:
            with translated(f"restore {self._where(key)}@{version_id}"):
                resp = client("s3").copy_object(Bucket=self.bucket, Key=key, CopySource=source,
                                                MetadataDirective="COPY", **ENCRYPTION)
        except AWSError as exc:
            if isinstance(exc, NotFound) or exc.code == "InvalidRequest":
                raise AWSError(f"{self._where(key)} has no restorable version {version_id}") from exc
            raise
        return {"key": key, "version_id": resp.get("VersionId"),
                "etag": resp.get("CopyObjectResult", {}).get("ETag", "").strip('"')}

    def delete(self, key: str, version_id: str | None = None) -> str | None:
        """Delete ``key``: on a versioned bucket this adds a delete marker, so it can be restored.

        With ``version_id`` that one version is removed for good. Returns the marker's or removed version id.
        """
        kwargs = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        with translated(f"delete {self._where(key)}"):
            return client("s3").delete_object(**kwargs).get("VersionId")

    def ping(self, purpose: str = "probe") -> None:
        client("s3", purpose=purpose).head_bucket(Bucket=self.bucket)

    def sync_directory(self, local_dir: str | Path, prefix: str, delete: bool = False, dry_run: bool = False,
                       *, check: Check | None = None, progress: Progress | None = None) -> dict:
        """Upload the files of ``local_dir`` under ``prefix`` whose sha256 differs from the bucket's copy.

        Returns counts (uploaded, unchanged, deleted, failed), the changed keys with their new versions, and
        one message per failure. Symbolic links and paths that leave the folder are refused (failed); ``check``
        may refuse more files. Unchanged is decided without downloading: a single-part ETag is the content's
        MD5, otherwise the ``sha256`` metadata written at upload is compared.
        """
        root = Path(local_dir)
        prefix = normalise_prefix(prefix)
        files, errors = scan_directory(root)
        remote = {o["key"]: o for o in self.list_files(prefix)}
        stats: dict[str, Any] = {"uploaded": 0, "unchanged": 0, "deleted": 0, "failed": len(errors), "errors": errors,
                 "changed": [], "unchanged_keys": [], "deleted_keys": [], "remote_keys": sorted(remote),
                 "dry_run": dry_run}
        plan = self._plan(root, files, prefix, remote, stats, check)
        # A refused file keeps its remote copy: refusing is not deleting.
        keep = {prefix + rel for rel in files} | {prefix + e["path"] for e in errors}
        stale = sorted(set(remote) - keep) if delete else []
        total, done = len(files), len(files) - len(plan)
        for rel, path, sha in plan:
            key = prefix + rel
            done += 1
            if progress:
                progress(done, total, key, "would upload" if dry_run else "upload")
            if dry_run:
                stats["uploaded"] += 1
                stats["changed"].append({"key": key, "path": str(path), "version_id": None, "sha256": sha})
                continue
            try:
                result = self.upload_file(path, key, metadata={SHA256_META: sha})
            except (OSError, AWSError) as exc:
                stats["failed"] += 1
                errors.append({"path": rel, "error": str(exc)})
                continue
            stats["uploaded"] += 1
            stats["changed"].append({**result, "path": str(path), "sha256": sha})
        for key in stale:
            if progress:
                progress(total, total, key, "would delete" if dry_run else "delete")
            try:
                if not dry_run:
                    self.delete(key)
            except AWSError as exc:
                stats["failed"] += 1
                errors.append({"path": key, "error": str(exc)})
                continue
            stats["deleted"] += 1
            stats["deleted_keys"].append(key)
        return stats

    def _plan(self, root: Path, files: dict[str, Path], prefix: str, remote: dict, stats: dict,
              check: Check | None) -> list[tuple[str, Path, str]]:
        """Hash local files and return those to upload (``check`` passed); count the unchanged and refused."""
        todo, need_head = [], []
        for rel, path in sorted(files.items()):
            try:
                md5, sha = file_digests(path)
            except OSError as exc:
                stats["failed"] += 1
                stats["errors"].append({"path": rel, "error": str(exc)})
                continue
            obj = remote.get(prefix + rel)
            if obj is None:
                todo.append((rel, path, sha))
            elif obj["etag"] == md5:
                self._unchanged(stats, prefix + rel, obj, path)
            elif "-" in obj["etag"]:  # multipart: the ETag is not the MD5, read the stored sha256
                need_head.append((rel, path, sha))
            else:
                todo.append((rel, path, sha))
        with ThreadPoolExecutor(max_workers=8) as pool:
            heads = list(pool.map(lambda item: self.head(prefix + item[0]), need_head))
        for (rel, path, sha), head in zip(need_head, heads, strict=True):
            if head and head.get("Metadata", {}).get(SHA256_META) == sha:
                self._unchanged(stats, prefix + rel, remote[prefix + rel], path)
            else:
                todo.append((rel, path, sha))
        accepted = []
        for rel, path, sha in sorted(todo):
            refusal = check(path) if check else None
            if refusal:
                stats["failed"] += 1
                stats["errors"].append({"path": rel, "error": refusal})
            else:
                accepted.append((rel, path, sha))
        return accepted

    @staticmethod
    def _unchanged(stats: dict, key: str, obj: dict, path: Path) -> None:
        stats["unchanged"] += 1
        stats["unchanged_keys"].append({"key": key, "etag": obj["etag"], "path": str(path)})


def normalise_prefix(prefix: str) -> str:
    """Return ``prefix`` ending with one slash; refuse absolute prefixes and ``..``."""
    prefix = (prefix or "").strip()
    parts = [p for p in prefix.split("/") if p]
    if prefix.startswith("/") or any(p in (".", "..") for p in parts):
        raise ValueError(f"prefix {prefix!r} may not start with '/' or contain '.' or '..' segments")
    return "/".join(parts) + "/" if parts else ""


def scan_directory(root: Path) -> tuple[dict[str, Path], list[dict]]:
    """Map each regular file under ``root`` to its POSIX relative path; report what leaves the folder.

    Hidden files and folders (``.git``, ``.DS_Store``) are skipped. Symbolic links are refused: a link can
    point outside the folder, and following links inside it would upload one file under two names.
    """
    if not root.is_dir():
        raise AWSError(f"{root} is not a directory")
    base = root.resolve()
    files, errors = {}, []
    for current, dirs, names in os.walk(base, followlinks=False):
        here = Path(current)
        for name in list(dirs):
            if name.startswith("."):
                dirs.remove(name)
            elif (here / name).is_symlink():
                dirs.remove(name)
                errors.append({"path": _rel(here / name, base), "error": "symbolic link refused"})
        for name in names:
            path = here / name
            if name.startswith("."):
                continue
            rel = _rel(path, base)
            if not _utf8(rel):  # an S3 key is UTF-8; boto3 would fail the whole run on this one name
                errors.append({"path": rel.encode("utf-8", "backslashreplace").decode(),
                               "error": "the file name is not UTF-8: rename it"})
            elif path.is_symlink():
                errors.append({"path": rel, "error": "symbolic link refused"})
            elif not path.resolve().is_relative_to(base):
                errors.append({"path": rel, "error": "path leaves the folder"})
            elif path.is_file():
                files[rel] = path
            else:
                errors.append({"path": rel, "error": "not a regular file (a pipe, socket or device)"})
    return files, errors


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rel(path: Path, base: Path) -> str:
    return PurePosixPath(path.relative_to(base)).as_posix()
