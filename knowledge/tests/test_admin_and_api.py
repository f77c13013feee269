"""The admin pages and the JSON endpoints, through Django's test client against the emulator's bucket."""

import re
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from knowledge.models import KnowledgeDocument
from knowledge.selectors import knowledge_search
from knowledge.services import document_upload
from stocktool.aws import get_s3_service

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
ADD = "admin:knowledge_knowledgedocument_add"


def change_url(doc):
    return reverse("admin:knowledge_knowledgedocument_change", args=[doc.pk])


def md(name, text):
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


def test_staff_upload_a_new_version_restore_and_download(aws, admin_client):
    name = f"walrus-{uuid.uuid4().hex[:6]}.md"
    resp = admin_client.post(reverse(ADD), {"upload": md(name, "# Walrus\n\nThe walrus tusk rule."), "title": ""})
    assert resp.status_code == 302, resp.content[:2000]
    doc = KnowledgeDocument.objects.get(key=f"knowledge/{name}")
    first = doc.version_id
    resp = admin_client.post(reverse(ADD), {"upload": md(name, "# Walrus\n\nThe narwhal horn rule."), "title": ""},
                             follow=True)
    assert b"stored as its new version" in resp.content
    assert KnowledgeDocument.objects.filter(key=doc.key).count() == 1
    page = admin_client.get(change_url(doc)).content.decode()
    assert "Versions in S3" in page and page.count("Restore this version") == 1 and first[:16] in page
    resp = admin_client.post(reverse("admin:knowledge_document_restore", args=[doc.pk]), {"version_id": first},
                             follow=True)
    assert b"current again" in resp.content
    assert knowledge_search(query="tusk") and not knowledge_search(query="narwhal horn")
    resp = admin_client.get(reverse("admin:knowledge_document_download", args=[doc.pk]))
    assert resp.status_code == 302 and "X-Amz-Signature" in resp["Location"]
    with urllib.request.urlopen(resp["Location"], timeout=5) as got:
        assert b"tusk" in got.read()


def test_the_changelist_searches_and_filters(aws, admin_client):
    document_upload(name=f"filter-{uuid.uuid4().hex[:6]}.md", content=b"# Findable heron\n\ntext")
    resp = admin_client.get(reverse("admin:knowledge_knowledgedocument_changelist"), {"q": "heron"})
    assert b"Findable heron" in resp.content
    resp = admin_client.get(reverse("admin:knowledge_knowledgedocument_changelist"), {"status__exact": "deleted"})
    assert b"Findable heron" not in resp.content
    # A document that failed before its type was read has none: the filter names that choice.
    KnowledgeDocument.objects.create(key=f"{settings.KNOWLEDGE_PREFIX}failed-{uuid.uuid4().hex[:6]}.md",
                                     title="Unreadable otter", status=KnowledgeDocument.Status.FAILED)
    resp = admin_client.get(reverse("admin:knowledge_knowledgedocument_changelist"))
    assert b'href="?content_type=-"' in resp.content and b"(none)" in resp.content
    resp = admin_client.get(reverse("admin:knowledge_knowledgedocument_changelist"), {"content_type": "-"})
    assert b"Unreadable otter" in resp.content and b"Findable heron" not in resp.content


@pytest.mark.parametrize("name,content,message", [
    ("empty.md", b"", "The submitted file is empty"),
    ("binary.md", b"\x00\x01\x02\x03" * 100, "looks like a binary file"),
    ("latin.md", "r\u00e9sum\u00e9".encode("latin-1"), "is not UTF-8"),
    ("tool.exe", b"MZ", "are accepted"),
])
def test_bad_uploads_show_a_message_and_store_nothing(aws, admin_client, name, content, message):
    before = len(get_s3_service().list_files("knowledge/"))
    resp = admin_client.post(reverse(ADD), {"upload": SimpleUploadedFile(name, content), "title": ""})
    assert resp.status_code == 200 and message in resp.content.decode()
    assert not KnowledgeDocument.objects.exists()
    assert len(get_s3_service().list_files("knowledge/")) == before


def test_a_save_as_name_that_climbs_out_is_refused(aws, admin_client):
    resp = admin_client.post(reverse(ADD), {"upload": md("ok.md", "# Ok\n\nfine"), "save_as": "../../etc/x.md"})
    assert resp.status_code == 200 and "may not contain" in resp.content.decode()
    assert not KnowledgeDocument.objects.exists()


def test_delete_in_the_admin_adds_a_marker_and_keeps_the_row(aws, admin_client):
    doc, _ = document_upload(name=f"del-{uuid.uuid4().hex[:6]}.md", content=b"# Del\n\nThe bison note.")
    resp = admin_client.post(reverse("admin:knowledge_knowledgedocument_delete", args=[doc.pk]), {"post": "yes"})
    assert resp.status_code == 302
    doc.refresh_from_db()
    assert doc.status == "deleted" and not knowledge_search(query="bison")
    page = admin_client.get(change_url(doc)).content.decode()
    assert "delete marker" in page and "Restore this version" in page


def test_reindex_button(aws, admin_client):
    doc, _ = document_upload(name=f"re-{uuid.uuid4().hex[:6]}.md", content=b"# Re\n\nThe yak note.")
    doc.passages.all().delete()
    resp = admin_client.post(reverse("admin:knowledge_document_reindex", args=[doc.pk]), follow=True)
    assert b"Re-indexed" in resp.content and knowledge_search(query="yak")


def test_search_api_answers_passages_with_title_key_version_and_score(aws, client, django_user_model):
    doc, _ = document_upload(name=f"api-{uuid.uuid4().hex[:6]}.md", content=b"# Api doc\n\nThe flamingo spread.")
    assert client.get("/api/knowledge/search", {"q": "flamingo"}).status_code in (401, 403)
    client.force_login(django_user_model.objects.create_user("reader", password="x-long-pass-1"))
    body = client.get("/api/knowledge/search", {"q": "flamingo", "k": 3}).json()
    hit = body["results"][0]
    assert (hit["key"], hit["version_id"], hit["title"]) == (doc.key, doc.version_id, "Api doc")
    assert hit["score"] > 0 and "flamingo" in hit["snippet"]
    assert client.get("/api/knowledge/search").status_code == 400


def test_sync_to_s3_is_for_staff_and_answers_counts(aws, client, admin_client, django_user_model):
    client.force_login(django_user_model.objects.create_user("plain", password="x-long-pass-1"))
    assert client.post("/admin/rag/sync-to-s3").status_code == 403
    body = admin_client.post("/admin/rag/sync-to-s3").json()
    assert set(body) >= {"uploaded", "unchanged", "deleted", "failed"} and body["failed"] == 0
    assert body["uploaded"] + body["unchanged"] >= 15


def test_the_changelist_has_the_sync_button(aws, admin_client):
    page = admin_client.get(reverse("admin:knowledge_knowledgedocument_changelist")).content.decode()
    assert re.search(r'data-url="/admin/rag/sync-to-s3"', page)
