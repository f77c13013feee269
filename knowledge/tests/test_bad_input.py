"""Refused uploads and syncs: a clear message, and the bucket and the index exactly as they were."""

import builtins
import io
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from knowledge.models import KnowledgeDocument, KnowledgePassage
from knowledge.services import document_key_for, document_upload
from stocktool.aws import get_s3_service

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
ADD = "admin:knowledge_knowledgedocument_add"
ROOT = settings.BASE_DIR


def state(prefix="knowledge/"):
    """What a refused input must leave alone: every object version under ``prefix``, and the index rows."""
    s3 = get_s3_service()
    versions = sorted((o["key"], v["version_id"])
                      for o in s3.list_files(prefix) for v in s3.list_versions(o["key"]))
    return versions, KnowledgeDocument.objects.count(), KnowledgePassage.objects.count()


def upload(client, name, content, follow=False, **fields):
    return client.post(reverse(ADD), {"upload": SimpleUploadedFile(name, content), "title": "", **fields},
                       follow=follow)


# --- admin uploads ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("save_as,message", [
    ("/etc/passwd.md", "may not contain"),
    ("..", "may not contain"),
    ("notes\\..\\x.md", "may not contain"),
    (".md", "may not start with"),
    ("tab\there.md", "control characters"),
    ("x" * 198 + ".md", "at most 200 characters"),
    ("report.md.exe", "are accepted"),
    ("no-extension", "are accepted"),
])
def test_odd_names_are_a_form_error_and_store_nothing(aws, admin_client, save_as, message):
    before = state()
    resp = upload(admin_client, "fine.md", b"# Fine\n\nA good file.", save_as=save_as)
    assert resp.status_code == 200 and message in resp.content.decode()
    assert state() == before


def test_a_file_over_the_configured_limit_is_a_form_error(aws, admin_client, settings):
    settings.KNOWLEDGE_MAX_UPLOAD_MB = 1
    before = state()
    resp = upload(admin_client, "big.md", b"# Big\n\n" + b"word " * (1024 * 1024 // 5 + 1))
    assert resp.status_code == 200 and "the limit is 1 MB" in resp.content.decode()
    assert state() == before


def test_an_upload_over_the_request_body_limit_is_refused_without_a_500(aws, admin_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # the file itself may be bigger; the other fields may not
    before = state()
    resp = upload(admin_client, "ok.md", b"# Ok\n\nfine", title="t" * 2048)
    assert resp.status_code in (200, 400) and state() == before


def test_a_new_version_of_another_type_is_a_form_error(aws, admin_client):
    doc, _ = document_upload(name=f"typed-{uuid.uuid4().hex[:6]}.md", content=b"# Typed\n\nThe marmot note.")
    before = state()
    resp = admin_client.post(reverse("admin:knowledge_knowledgedocument_change", args=[doc.pk]),
                             {"upload": SimpleUploadedFile("typed.html", b"<p>hi</p>"), "title": doc.title})
    assert resp.status_code == 200 and "must be a .md file too" in resp.content.decode()
    assert state() == before


def test_a_unicode_name_is_stored_under_the_key_it_is_told(aws, admin_client):
    name = f"Übersicht Märkte 📈 {uuid.uuid4().hex[:6]}.md"
    resp = upload(admin_client, name, b"# Uebersicht\n\nThe ibex allocation.")
    assert resp.status_code == 302, resp.content[:2000]
    key = document_key_for(name=name)
    assert KnowledgeDocument.objects.get(key=key).status == "indexed"
    assert get_s3_service().head(key) is not None


def test_two_names_for_one_key_make_versions_not_an_overwrite(aws, admin_client):
    stem = f"twin {uuid.uuid4().hex[:6]}"
    upload(admin_client, f"{stem}.md", b"# Twin\n\nFirst words.")
    resp = upload(admin_client, f"{stem.replace(' ', '_')}.md", b"# Twin\n\nSecond words.", follow=True)
    key = document_key_for(name=f"{stem}.md")
    assert b"stored as its new version" in resp.content
    assert KnowledgeDocument.objects.filter(key=key).count() == 1
    assert len(get_s3_service().list_versions(key)) == 2


# --- sync_kb ---------------------------------------------------------------------------------------------
@pytest.fixture
def folder(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "good.md").write_text("# Good\n\nThe capybara ratio.\n")
    return kb


def sync(folder, prefix):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("sync_kb", str(folder), "--prefix", prefix, stdout=out, stderr=err)
    except CommandError as exc:
        return str(exc), out.getvalue(), err.getvalue()
    return None, out.getvalue(), err.getvalue()


def test_unsupported_types_among_good_files_fail_the_run_and_the_good_ones_sync(aws, folder, scratch_prefix):
    (folder / "tool.exe").write_bytes(b"MZ\x90\x00")
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    error, out, err = sync(folder, scratch_prefix)
    assert error == "sync_kb: 2 file(s) failed"
    assert "failed: tool.exe: “tool.exe”: only" in err and "failed: sheet.xlsx:" in err
    assert [o["key"] for o in get_s3_service().list_files(scratch_prefix)] == [scratch_prefix + "good.md"]


def test_a_symlink_loop_is_refused_without_hanging(aws, folder, scratch_prefix):
    (folder / "sub").mkdir()
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self.md").symlink_to(folder / "self.md")  # a link to itself
    error, _, err = sync(folder, scratch_prefix)
    assert error == "sync_kb: 2 file(s) failed"
    assert "sub/loop: symbolic link refused" in err and "self.md: symbolic link refused" in err
    assert [o["key"] for o in get_s3_service().list_files(scratch_prefix)] == [scratch_prefix + "good.md"]


def test_a_file_that_cannot_be_read_fails_with_its_reason(aws, folder, scratch_prefix, monkeypatch):
    secret = folder / "locked.md"
    secret.write_text("# Locked\n\nThe okapi clause.")
    if os.geteuid() != 0:
        secret.chmod(0)
    else:  # root reads any file whatever its mode: refuse this one as the kernel would
        real_open = builtins.open

        def guarded(file, *args, **kwargs):
            if os.fspath(file) == str(secret):
                raise PermissionError(13, "Permission denied", str(secret))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded)
    error, _, err = sync(folder, scratch_prefix)
    assert error == "sync_kb: 1 file(s) failed" and "failed: locked.md:" in err and "Permission denied" in err
    assert [o["key"] for o in get_s3_service().list_files(scratch_prefix)] == [scratch_prefix + "good.md"]
    assert not KnowledgeDocument.objects.filter(key=scratch_prefix + "locked.md").exists()


def test_a_fifo_or_other_special_file_is_reported_not_skipped(aws, folder, scratch_prefix):
    os.mkfifo(folder / "pipe.md")
    error, _, err = sync(folder, scratch_prefix)
    assert error == "sync_kb: 1 file(s) failed" and "pipe.md: not a regular file" in err


def test_an_undecodable_file_name_is_refused_with_a_readable_line(aws, folder, scratch_prefix):
    (folder.parent / "kb").joinpath(os.fsdecode(b"caf\xe9.md")).write_bytes(b"# Cafe\n\nLatin-1 name.")
    error, _, err = sync(folder, scratch_prefix)
    assert error == "sync_kb: 1 file(s) failed" and "not UTF-8" in err
    assert [o["key"] for o in get_s3_service().list_files(scratch_prefix)] == [scratch_prefix + "good.md"]


def test_a_refused_run_leaves_the_bucket_and_the_index_as_they_were(aws, folder, scratch_prefix):
    sync(folder, scratch_prefix)
    before = state(scratch_prefix)
    (folder / "good.md").write_bytes(b"\x00\x01binary now")  # the same name, now refused
    error, _, err = sync(folder, scratch_prefix)
    assert error == "sync_kb: 1 file(s) failed" and "binary" in err
    assert state(scratch_prefix) == before


@pytest.mark.parametrize("args,line", [
    (["/nonexistent-kb-folder"], "CommandError: /nonexistent-kb-folder is not a directory"),
    (["--prefix", "../etc/"], "may not"),
])
def test_the_command_line_exits_non_zero_with_one_readable_line(aws, args, line):
    env = {**os.environ, "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
           "DJANGO_SETTINGS_MODULE": "stocktool.settings.test", "TEST_RUN_PREFIX": settings.TEST_RUN_PREFIX}
    proc = subprocess.run([sys.executable, "manage.py", "sync_kb", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and line in lines[0], proc.stderr
