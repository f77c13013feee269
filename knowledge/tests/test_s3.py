"""The S3 service against the embedded emulator over HTTP."""

import io
import os
import urllib.request

import pytest

from stocktool.aws import AWSError
from stocktool.aws.s3 import SHA256_META, content_type_for, normalise_prefix
from stocktool.aws.session import client

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_markdown_goes_up_encrypted_as_text_markdown_with_its_metadata(s3, scratch_prefix, tmp_path):
    path = tmp_path / "terms.md"
    path.write_text("# Terms\n\nBeta measures market sensitivity.\n")
    key = scratch_prefix + "terms.md"
    result = s3.upload_file(path, key, metadata={"source": "test"})
    head = s3.head(key)
    assert head["ContentType"] == "text/markdown"
    assert head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"] == {"source": "test"}
    assert result["version_id"] == head["VersionId"]
    assert s3.download_fileobj(key) == path.read_bytes()


def test_content_type_comes_from_the_content_when_the_name_says_nothing():
    assert content_type_for("notes.md") == "text/markdown"
    assert content_type_for("report", b"%PDF-1.7\n") == "application/pdf"
    assert content_type_for("page", b"<!DOCTYPE html><html>") == "text/html"
    assert content_type_for("blob", b"\x00\x01\x02") == "application/octet-stream"
    assert content_type_for("readme", "héllo".encode()) == "text/plain"


def test_a_large_file_goes_up_in_parts(s3, scratch_prefix):
    key = scratch_prefix + "big.txt"
    data = os.urandom(9 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), key, content_type="text/plain")
    head = s3.head(key)
    assert "-" in head["ETag"]  # a multipart ETag: md5-of-parts-N
    assert head["ServerSideEncryption"] == "AES256"
    assert s3.download_fileobj(key) == data


def test_missing_objects_read_as_none(s3, scratch_prefix):
    assert s3.download_fileobj(scratch_prefix + "nope.md") is None
    assert s3.head(scratch_prefix + "nope.md") is None


def test_list_files_lists_only_the_prefix(s3, scratch_prefix):
    for name in ("a.md", "b.md"):
        s3.upload_fileobj(io.BytesIO(b"x"), scratch_prefix + name)
    s3.upload_fileobj(io.BytesIO(b"x"), scratch_prefix.rstrip("/") + "-other/c.md")
    assert sorted(o["key"] for o in s3.list_files(scratch_prefix)) == [scratch_prefix + "a.md", scratch_prefix + "b.md"]


def test_a_presigned_link_downloads_the_object_and_expires(s3, scratch_prefix):
    key = scratch_prefix + "link.md"
    s3.upload_fileobj(io.BytesIO(b"# Linked"), key)
    url = s3.generate_presigned_url(key, expires_in=60, download_name="link.md")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.read() == b"# Linked"
        assert "attachment" in resp.headers.get("Content-Disposition", "")


def test_versions_are_listed_newest_first_and_an_old_one_can_be_restored(s3, scratch_prefix):
    key = scratch_prefix + "doc.md"
    first = s3.upload_fileobj(io.BytesIO(b"one"), key)
    second = s3.upload_fileobj(io.BytesIO(b"two"), key)
    versions = s3.list_versions(key)
    assert [v["version_id"] for v in versions] == [second["version_id"], first["version_id"]]
    assert versions[0]["is_latest"] and versions[1]["size"] == 3
    restored = s3.restore_version(key, first["version_id"])
    assert s3.download_fileobj(key) == b"one"
    assert restored["version_id"] not in (first["version_id"], second["version_id"])
    assert s3.head(key)["ServerSideEncryption"] == "AES256"
    assert len(s3.list_versions(key)) == 3


def test_delete_leaves_a_marker_and_the_old_version_restores(s3, scratch_prefix):
    key = scratch_prefix + "gone.md"
    kept = s3.upload_fileobj(io.BytesIO(b"keep me"), key)
    s3.delete(key)
    assert s3.head(key) is None
    versions = s3.list_versions(key)
    assert versions[0]["is_delete_marker"] and versions[0]["is_latest"]
    s3.restore_version(key, kept["version_id"])
    assert s3.download_fileobj(key) == b"keep me"


def test_restoring_an_unknown_version_is_an_aws_error(s3, scratch_prefix):
    key = scratch_prefix + "x.md"
    s3.upload_fileobj(io.BytesIO(b"x"), key)
    with pytest.raises(AWSError):
        s3.restore_version(key, "no-such-version")


def test_sync_uploads_changes_only_and_reports_counts(s3, scratch_prefix, tmp_path):
    (tmp_path / "a.md").write_text("alpha")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("beta")
    (tmp_path / ".hidden").write_text("skip")
    first = s3.sync_directory(tmp_path, scratch_prefix)
    assert (first["uploaded"], first["unchanged"], first["failed"]) == (2, 0, 0)
    assert s3.head(scratch_prefix + "sub/b.md")["Metadata"][SHA256_META]
    second = s3.sync_directory(tmp_path, scratch_prefix)
    assert (second["uploaded"], second["unchanged"]) == (0, 2)
    (tmp_path / "a.md").write_text("alpha two")
    third = s3.sync_directory(tmp_path, scratch_prefix)
    assert [c["key"] for c in third["changed"]] == [scratch_prefix + "a.md"]


def test_sync_compares_the_stored_sha256_when_the_etag_is_not_an_md5(s3, scratch_prefix, tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (2 * 1024 * 1024))  # 10 MB: multipart
    assert s3.sync_directory(tmp_path, scratch_prefix)["uploaded"] == 1
    assert "-" in s3.head(scratch_prefix + "big.txt")["ETag"]
    assert s3.sync_directory(tmp_path, scratch_prefix)["unchanged"] == 1


def test_sync_delete_and_dry_run(s3, scratch_prefix, tmp_path):
    (tmp_path / "a.md").write_text("a")
    (tmp_path / "b.md").write_text("b")
    s3.sync_directory(tmp_path, scratch_prefix)
    (tmp_path / "b.md").unlink()
    dry = s3.sync_directory(tmp_path, scratch_prefix, delete=True, dry_run=True)
    assert dry["deleted"] == 1 and s3.head(scratch_prefix + "b.md") is not None
    done = s3.sync_directory(tmp_path, scratch_prefix, delete=True)
    assert done["deleted_keys"] == [scratch_prefix + "b.md"] and s3.head(scratch_prefix + "b.md") is None


def test_sync_refuses_symbolic_links_and_checked_files(s3, scratch_prefix, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("secret")
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "ok.md").write_text("fine")
    (folder / "bad.md").write_text("refuse me")
    (folder / "link.md").symlink_to(outside)
    (folder / "dirlink").symlink_to(tmp_path)
    stats = s3.sync_directory(folder, scratch_prefix, check=lambda p: "nope" if p.name == "bad.md" else None)
    assert stats["uploaded"] == 1 and stats["failed"] == 3
    assert {e["path"] for e in stats["errors"]} == {"link.md", "dirlink", "bad.md"}
    assert [o["key"] for o in s3.list_files(scratch_prefix)] == [scratch_prefix + "ok.md"]


def test_prefixes_that_climb_out_are_refused():
    assert normalise_prefix("knowledge") == "knowledge/"
    for bad in ("../x/", "/abs/", "a/../b/"):
        with pytest.raises(ValueError):
            normalise_prefix(bad)


def test_every_object_is_encrypted_even_through_django_storages(aws, settings, scratch_prefix):
    from django.core.files.base import ContentFile

    from knowledge.storage import knowledge_storage

    storage = knowledge_storage()
    name = storage.save(scratch_prefix + "via-storage.md", ContentFile(b"# Hi"))
    head = client("s3").head_object(Bucket=settings.S3_BUCKET_NAME, Key=name)
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "text/markdown"
