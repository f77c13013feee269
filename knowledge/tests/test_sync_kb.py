"""`sync_kb` end to end: the command, its output and exit status, against the emulator."""

import io
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from knowledge.models import KnowledgeDocument
from knowledge.selectors import knowledge_search

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_kb", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "alpha.md").write_text("# Alpha\n\nThe sloth coefficient of a portfolio.\n")
    (kb / "topics").mkdir()
    (kb / "topics" / "beta.txt").write_text("Beta versus the jackal index.\n")
    return kb


def test_first_run_uploads_and_indexes_second_run_uploads_nothing(aws, folder, scratch_prefix):
    out, _ = run(str(folder), "--prefix", scratch_prefix)
    assert "sync_kb: 2 uploaded, 0 unchanged, 0 deleted, 0 failed" in out
    assert "\r" not in out  # no progress when stdout is not a terminal
    assert knowledge_search(query="sloth coefficient")[0]["key"] == scratch_prefix + "alpha.md"
    assert knowledge_search(query="jackal")[0]["key"] == scratch_prefix + "topics/beta.txt"
    out, _ = run(str(folder), "--prefix", scratch_prefix)
    assert "sync_kb: 0 uploaded, 2 unchanged, 0 deleted, 0 failed" in out


def test_unchanged_files_missing_from_the_index_are_indexed_from_the_folder(aws, folder, scratch_prefix):
    run(str(folder), "--prefix", scratch_prefix)
    KnowledgeDocument.objects.all().delete()  # a new database, the same bucket
    out, _ = run(str(folder), "--prefix", scratch_prefix)
    assert "0 uploaded, 2 unchanged" in out
    assert knowledge_search(query="sloth")


def test_a_bad_file_fails_the_run_with_its_reason_and_others_still_sync(aws, folder, scratch_prefix):
    (folder / "broken.md").write_bytes(b"\x00\x01\x02binary")
    (folder / "empty.txt").write_bytes(b"")
    with pytest.raises(CommandError, match="2 file"):
        run(str(folder), "--prefix", scratch_prefix)
    from stocktool.aws import get_s3_service

    keys = {o["key"] for o in get_s3_service().list_files(scratch_prefix)}
    assert keys == {scratch_prefix + "alpha.md", scratch_prefix + "topics/beta.txt"}


def test_symbolic_links_are_refused(aws, folder, scratch_prefix, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n\nDo not upload.")
    (folder / "link.md").symlink_to(secret)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("sync_kb", str(folder), "--prefix", scratch_prefix, stdout=io.StringIO(), stderr=err)
    assert "link.md: symbolic link refused" in err.getvalue()
    assert not knowledge_search(query="secret upload")


def test_prefixes_with_dot_dot_are_refused(aws, folder):
    with pytest.raises(CommandError, match="may not"):
        run(str(folder), "--prefix", "knowledge/../etc/")


def test_dry_run_changes_nothing_and_delete_removes_what_left_the_folder(aws, folder, scratch_prefix):
    out, _ = run(str(folder), "--prefix", scratch_prefix, "--dry-run")
    assert "2 would upload" in out and not KnowledgeDocument.objects.exists()
    run(str(folder), "--prefix", scratch_prefix)
    (folder / "alpha.md").unlink()
    out, _ = run(str(folder), "--prefix", scratch_prefix, "--delete")
    assert "0 uploaded, 1 unchanged, 1 deleted, 0 failed" in out
    assert not knowledge_search(query="sloth")


def test_reindex_rebuilds_the_index_from_the_bucket(aws, folder, scratch_prefix):
    run(str(folder), "--prefix", scratch_prefix)
    KnowledgeDocument.objects.filter(key__startswith=scratch_prefix).update(etag="stale")
    out, _ = run(str(folder), "--prefix", scratch_prefix, "--reindex")
    assert "reindexed 2" in out
    assert knowledge_search(query="sloth")


def test_a_second_run_over_200_unchanged_files_is_fast(aws, tmp_path, scratch_prefix):
    kb = tmp_path / "many"
    kb.mkdir()
    for i in range(200):
        (kb / f"doc-{i:03}.md").write_text(f"# Document {i}\n\n" + f"Paragraph about topic {i}. " * 40)
    run(str(kb), "--prefix", scratch_prefix)
    started = time.monotonic()
    out, _ = run(str(kb), "--prefix", scratch_prefix)
    elapsed = time.monotonic() - started
    assert "0 uploaded, 200 unchanged" in out
    assert elapsed < 2.0


def test_the_starter_knowledge_base_syncs_by_default(aws):
    out, _ = run()
    assert f"-> {settings.S3_BUCKET_NAME}/{settings.KNOWLEDGE_PREFIX}" in out and " 0 failed" in out
    result = knowledge_search(query="downside deviation target return", limit=3)
    assert any(r["key"] == "knowledge/sortino-ratio.md" for r in result)
    out, _ = run()
    assert "0 uploaded" in out


def test_a_missing_folder_is_a_command_error(aws):
    with pytest.raises(CommandError, match="not a directory"):
        run(f"/nonexistent/{uuid.uuid4().hex}")


def test_documents_the_bucket_lost_leave_the_index_on_the_next_sync(aws, folder, scratch_prefix):
    run(str(folder), "--prefix", scratch_prefix)
    KnowledgeDocument.objects.create(key=scratch_prefix + "lost.md", title="Lost", status="indexed")
    run(str(folder), "--prefix", scratch_prefix)  # e.g. the embedded emulator restarted empty
    assert KnowledgeDocument.objects.get(key=scratch_prefix + "lost.md").status == "deleted"
    assert KnowledgeDocument.objects.get(key=scratch_prefix + "alpha.md").status == "indexed"
