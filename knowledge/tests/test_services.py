"""Upload, versions, restore, delete and re-index against the emulator's bucket, with the index in the DB."""

import io
import urllib.request
import uuid

import pytest

from knowledge import services
from knowledge.models import KnowledgeDocument, KnowledgePassage
from knowledge.parsing import DocumentError
from knowledge.selectors import document_download_url, document_versions, knowledge_search, search_knowledge
from knowledge.services import (
    document_delete,
    document_forget,
    document_reindex,
    document_restore,
    document_sync_from_s3,
    document_upload,
    index_rebuild,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
Status = KnowledgeDocument.Status


def unique_name(stem="doc"):
    return f"{stem}-{uuid.uuid4().hex[:8]}.md"


def upload(name, text, **kwargs):
    return document_upload(name=name, content=text.encode(), **kwargs)


def test_an_upload_is_stored_encrypted_and_indexed(s3):
    name = unique_name("sharpe")
    doc, existed = upload(name, "# Sharpe ratio\n\nExcess return divided by volatility, a zanzibar measure.")
    assert not existed and doc.status == Status.INDEXED and doc.key == f"knowledge/{name}"
    head = s3.head(doc.key)
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "text/markdown"
    assert head["Metadata"]["sha256"] == doc.sha256 and head["VersionId"] == doc.version_id
    found = knowledge_search(query="zanzibar volatility")
    assert found[0]["key"] == doc.key and found[0]["title"] == "Sharpe ratio"
    assert found[0]["version_id"] == doc.version_id and "zanzibar" in found[0]["snippet"]
    assert search_knowledge("zanzibar", k=1)[0]["key"] == doc.key


def test_the_same_name_makes_a_new_version_not_an_overwrite(s3):
    name = unique_name()
    first, _ = upload(name, "# Doc\n\nThe quokka edition.")
    second, existed = upload(name, "# Doc\n\nThe wombat edition.")
    assert existed and second.pk == first.pk
    versions = document_versions(document=second)
    assert len(versions) == 2 and versions[0]["indexed"] and versions[1]["version_id"] == first.version_id
    assert knowledge_search(query="wombat")[0]["key"] == second.key
    assert not knowledge_search(query="quokka")
    assert s3.download_fileobj(second.key, first.version_id) == b"# Doc\n\nThe quokka edition."


def test_restoring_an_old_version_makes_it_current_and_searchable(s3):
    name = unique_name()
    first, _ = upload(name, "# Doc\n\nThe pangolin edition.")
    doc, _ = upload(name, "# Doc\n\nThe narwhal edition.")
    assert document_restore(document=doc, version_id=first.version_id) == "indexed"
    doc.refresh_from_db()
    assert knowledge_search(query="pangolin")[0]["key"] == doc.key and not knowledge_search(query="narwhal")
    assert len(document_versions(document=doc)) == 3 and doc.version_id != first.version_id


def test_delete_adds_a_marker_and_the_document_can_be_restored(s3):
    doc, _ = upload(unique_name(), "# Doc\n\nThe axolotl edition.")
    kept = doc.version_id
    document_delete(document=doc)
    doc.refresh_from_db()
    assert doc.status == Status.DELETED and not knowledge_search(query="axolotl")
    versions = document_versions(document=doc)
    assert versions[0]["is_delete_marker"] and versions[1]["version_id"] == kept
    document_restore(document=doc, version_id=kept)
    assert knowledge_search(query="axolotl")[0]["key"] == doc.key


def test_presigned_download_link_works(s3):
    doc, _ = upload(unique_name(), "# Doc\n\nDownload me.")
    url = document_download_url(document=doc)
    assert "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.read() == b"# Doc\n\nDownload me."


@pytest.mark.parametrize("name,content,message", [
    ("empty.md", b"", "is empty"),
    ("big.md", b"a" * (50 * 1024 * 1024), "limit is 20 MB"),
    ("binary.md", b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50, "binary"),
    ("../escape.md", b"# Hi", "may not contain"),
    ("latin.txt", "na\u00efve caf\u00e9".encode("latin-1"), "not UTF-8"),
])
def test_bad_input_gets_a_clear_message_and_writes_nothing(s3, name, content, message):
    before = len(s3.list_files("knowledge/"))
    with pytest.raises(DocumentError, match=message):
        document_upload(name=name, content=content)
    assert len(s3.list_files("knowledge/")) == before
    assert not KnowledgeDocument.objects.exists()


def test_an_index_failure_after_upload_removes_that_version(s3, monkeypatch):
    name = unique_name()
    doc, _ = upload(name, "# Doc\n\nVersion one.")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_index", broken)
    with pytest.raises(RuntimeError):
        upload(name, "# Doc\n\nVersion two.")
    assert [v["version_id"] for v in s3.list_versions(doc.key)] == [doc.version_id]


def test_html_is_indexed_as_text_without_scripts(s3):
    html = b"<html><head><title>Spread</title></head><body><p>Bid ask gap</p><script>secretcode()</script></body></html>"
    doc, _ = document_upload(name=f"{uuid.uuid4().hex[:6]}.html", content=html)
    assert doc.title == "Spread" and doc.content_type == "text/html"
    assert not knowledge_search(query="secretcode")
    assert "<" not in knowledge_search(query="bid ask gap")[0]["snippet"]


def test_sync_from_s3_ignores_duplicate_and_out_of_order_hints(s3):
    key = f"knowledge/{unique_name()}"
    v1 = s3.upload_fileobj(io.BytesIO(b"# K\n\nFirst capybara."), key)["version_id"]
    v2 = s3.upload_fileobj(io.BytesIO(b"# K\n\nSecond okapi."), key)["version_id"]
    assert document_sync_from_s3(key=key, version_hint=v2) == "indexed"
    assert document_sync_from_s3(key=key, version_hint=v2) == "unchanged"  # duplicate
    assert document_sync_from_s3(key=key, version_hint=v1) == "unchanged"  # late event for an older version
    assert document_forget(key="knowledge/never-seen.md") == "unchanged"
    assert KnowledgeDocument.objects.get(key=key).version_id == v2
    assert knowledge_search(query="okapi") and not knowledge_search(query="capybara")


def test_an_unreadable_object_is_kept_as_failed_with_its_reason(s3):
    key = f"knowledge/{uuid.uuid4().hex[:6]}.md"
    s3.upload_fileobj(io.BytesIO(b"\x00\x01binary"), key)
    assert document_sync_from_s3(key=key) == "failed"
    doc = KnowledgeDocument.objects.get(key=key)
    assert "binary" in doc.error and not doc.passages.exists()


def test_reindex_and_rebuild_read_what_is_in_s3(s3):
    doc, _ = upload(unique_name(), "# Doc\n\nThe tapir edition.")
    KnowledgePassage.objects.filter(document=doc).delete()
    assert document_reindex(document=doc) == "indexed"
    assert knowledge_search(query="tapir")
    stray = KnowledgeDocument.objects.create(key="knowledge/gone-already.md", status=Status.INDEXED)
    stats = index_rebuild()
    assert stats["removed"] >= 1 and stats["indexed"] >= 1
    stray.refresh_from_db()
    assert stray.status == Status.DELETED


def test_an_upload_whose_event_is_handled_first_still_succeeds(s3, monkeypatch):
    """The events listener may index the new object before the upload's own transaction writes the row."""
    from knowledge.handlers import handle_event_message

    name = unique_name("race")
    key = f"knowledge/{name}"
    original = services._stored_version

    def event_arrives_first(stored_key):
        handle_event_message({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                           "s3": {"bucket": {"name": s3.bucket}, "object": {"key": stored_key}}}]})
        return original(stored_key)

    monkeypatch.setattr(services, "_stored_version", event_arrives_first)
    doc, existed = upload(name, "# Race\n\nThe heron race.")
    assert not existed and doc.key == key and KnowledgeDocument.objects.filter(key=key).count() == 1
    assert knowledge_search(query="heron race")[0]["key"] == key


def test_a_word_one_typo_from_an_indexed_word_is_spelt_as_it(s3):
    from knowledge.selectors import knowledge_spellings

    upload(unique_name(), "# Quorrington Fitness\n\nMembers may cancel their internet membership at any time. "
                          "A referral earns a free month.")
    spellings = knowledge_spellings(words=["quorington", "interent", "membership", "zyphrax", "cat", "refferal",
                                           "refaral"])
    assert spellings["quorington"] == "quorrington"  # a letter missing
    assert spellings["interent"] == "internet"  # two letters swapped
    assert spellings["refferal"] == "referral"  # a word of eight letters or more may have two typos
    assert "refaral" not in spellings  # a shorter one, only one (this one has two)
    assert "membership" not in spellings  # indexed as it is
    assert "zyphrax" not in spellings and "cat" not in spellings  # nothing near; too short to guess
