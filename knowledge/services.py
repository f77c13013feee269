"""Writes: upload, index, delete, restore. S3 is the truth; rows and passages follow it and can be rebuilt."""

import hashlib
import logging
import uuid
from typing import Any
from urllib.parse import quote, unquote

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from stocktool.aws import AWSError, get_s3_service

from . import embeddings
from .models import KnowledgeDocument, KnowledgeIndexState, KnowledgePassage
from .parsing import DocumentError, Parsed, parse_document, split_passages, suffix_of, validate_name
from .publish import document_indexed_announce
from .ranking import passage_terms
from .selectors import knowledge_index_forget_check
from .storage import uses_s3

logger = logging.getLogger(__name__)
Status = KnowledgeDocument.Status


def max_bytes() -> int:
    return settings.KNOWLEDGE_MAX_UPLOAD_MB * 1024 * 1024


def document_key_for(*, name: str) -> str:
    """The key (and file name) an upload called ``name`` gets: upload_to plus the storage's valid name."""
    return KnowledgeDocument._meta.get_field("file").generate_filename(None, validate_name(name))


def document_upload(*, name: str, content: bytes, title: str = "", user=None,
                    key: str | None = None) -> tuple[KnowledgeDocument, bool]:
    """Validate, store and index an upload; return the document and whether it already existed.

    ``key`` (an existing document's) stores the upload as that document's new version; otherwise the key comes
    from the name. A key that exists gets a new S3 version (the old one stays restorable). Nothing is written
    before the content is accepted; if indexing fails after the upload, that version is removed again.
    """
    name = validate_name(name)
    if key and suffix_of(key) != suffix_of(name):
        raise DocumentError(f"A new version of {key.rsplit('/', 1)[-1]} must be a {suffix_of(key)} file too.")
    parsed = parse_document(key or name, content, max_bytes=max_bytes())
    key = key or document_key_for(name=name)
    # The row exists before the object does: the S3 event of this very upload can reach the events listener
    # before this request commits, and both must then write the same row rather than race to insert it.
    doc, created = KnowledgeDocument.objects.get_or_create(
        key=key, defaults={"file": key, "title": title or parsed.title, "status": Status.PENDING})
    existed = not created
    upload: Any = ContentFile(content, name=name)  # (with the two attributes KnowledgeS3Storage reads)
    upload.content_type = parsed.content_type
    sha = hashlib.sha256(content).hexdigest()
    upload.s3_metadata = {"sha256": sha, **({"title": quote(title)} if title else {})}
    storage = KnowledgeDocument._meta.get_field("file").storage
    version_id = ""
    try:
        if existed and not uses_s3():
            storage.delete(key)  # the file system keeps no versions: replace in place
        doc.key = doc.file.name = storage.save(key, upload)  # S3: file_overwrite, a same key is a new version
        version_id, etag = _stored_version(doc.key)
        _index(doc, parsed, version_id=version_id, etag=etag, size=len(content), sha256=sha,
               title=title, user=user)
    except Exception:
        _undo_upload(doc.key, version_id, existed)
        if created:
            KnowledgeDocument.objects.filter(pk=doc.pk, status=Status.PENDING).delete()
        raise
    return doc, existed


def _stored_version(key: str) -> tuple[str, str]:
    if not uses_s3():
        return "", ""
    written = getattr(KnowledgeDocument._meta.get_field("file").storage, "last_put", lambda key: None)(key)
    if written:  # the PUT's own answer
        return written
    head = get_s3_service().head(key)  # (a multipart upload's answer has no version id)
    if head is None:
        raise AWSError(f"{key} vanished right after its upload")
    return head.get("VersionId") or "", head["ETag"].strip('"')


def _undo_upload(key: str, version_id: str, existed: bool) -> None:
    try:
        if version_id:
            get_s3_service().delete(key, version_id=version_id)  # the previous version is current again
        elif not existed and not uses_s3():
            KnowledgeDocument._meta.get_field("file").storage.delete(key)
    except (AWSError, OSError):
        logger.exception("could not remove %s@%s after a failed index", key, version_id)


def document_index_bytes(*, key: str, data: bytes, version_id: str = "", etag: str = "", title: str = "",
                         last_modified=None) -> str:
    """Index ``data`` as version ``version_id`` of ``key``; return "indexed" or "failed" (reason kept)."""
    doc, _ = KnowledgeDocument.objects.get_or_create(key=key, defaults={"file": key})
    sha = hashlib.sha256(data).hexdigest()
    try:
        parsed = parse_document(key, data, max_bytes=max_bytes())
    except DocumentError as exc:
        _set_state(doc, Status.FAILED, error=str(exc), version_id=version_id, etag=etag, size=len(data), sha256=sha)
        return "failed"
    _index(doc, parsed, version_id=version_id, etag=etag, size=len(data), sha256=sha, title=title)
    return "indexed"


def _index(doc: KnowledgeDocument, parsed: Parsed, *, version_id: str, etag: str, size: int, sha256: str,
           title: str = "", user=None) -> None:
    doc.title = (title or parsed.title)[:300]
    passages = split_passages(parsed)
    rows = [KnowledgePassage(ordinal=i, heading=p.heading[:300], text=p.text,
                             terms=passage_terms(title=doc.title, heading=p.heading, text=p.text))
            for i, p in enumerate(passages)]
    texts = [embeddings.passage_texts(doc.title, row.heading, row.text) for row in rows]
    vectors = embeddings.embed([t for each in texts for t in each])  # before the transaction: ~10 ms a paragraph
    if vectors is not None:
        start = 0
        for row, each in zip(rows, texts, strict=True):
            row.embedding = embeddings.to_bytes(vectors[start:start + len(each)])
            start += len(each)
    doc.content_type, doc.passage_count = parsed.content_type, len(rows)
    doc.uploaded_by = user or doc.uploaded_by
    with transaction.atomic():
        _set_state(doc, Status.INDEXED, version_id=version_id, etag=etag, size=size, sha256=sha256)
        for row in rows:
            row.document = doc
        KnowledgePassage.objects.bulk_create(rows, batch_size=200)
        document_indexed_announce(doc)


def _set_state(doc: KnowledgeDocument, status: str, *, error: str = "", **fields) -> None:
    """Save ``doc`` in ``status`` with its passages dropped (the caller adds new ones in the same transaction)."""
    for name, value in fields.items():
        setattr(doc, name, value)
    doc.status, doc.error = status, error[:2000]
    if status != Status.INDEXED:
        doc.passage_count = 0
    doc.indexed_at = timezone.now()
    if not doc.file.name:
        doc.file.name = doc.key
    with transaction.atomic():
        if doc.pk:  # one writer per document at a time (an upload and the events listener can meet here)
            list(KnowledgeDocument.objects.select_for_update().filter(pk=doc.pk).values_list("pk"))
        doc.save()
        KnowledgePassage.objects.filter(document=doc).delete()
        index_touch()


def index_touch() -> None:
    """Give the index a new token: every process reloads its in-memory copy on its next search."""
    KnowledgeIndexState.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})
    transaction.on_commit(knowledge_index_forget_check)
    knowledge_index_forget_check()


def document_forget(*, key: str) -> str:
    """Drop ``key`` from the index (its object is gone or behind a delete marker); the row stays."""
    doc = KnowledgeDocument.objects.filter(key=key).first()
    if doc is None or doc.status == Status.DELETED:
        return "unchanged"
    _set_state(doc, Status.DELETED, version_id="", etag="")
    return "removed"


def document_sync_from_s3(*, key: str, version_hint: str = "", force: bool = False) -> str:
    """Bring ``key``'s index entry to what S3 holds now; return indexed, failed, removed or unchanged.

    Events are only hints: the current object is read from S3, so duplicate, late or out-of-order events,
    and forged ones, can only make the index converge on the bucket's real state.
    """
    doc = KnowledgeDocument.objects.filter(key=key).first()
    if not force and doc and version_hint and doc.version_id == version_hint and doc.status != Status.PENDING:
        return "unchanged"
    s3 = get_s3_service()
    head = s3.head(key)
    if head is None:
        return document_forget(key=key)
    version, etag = head.get("VersionId") or "", head["ETag"].strip('"')
    same = doc is not None and (doc.version_id == version if version else doc.etag == etag)
    if not force and same and doc is not None and doc.status in (Status.INDEXED, Status.FAILED):
        return "unchanged"
    obj = s3.get(key, version_id=version or None)
    if obj is None:
        return document_forget(key=key)
    title = unquote(obj["metadata"].get("title", ""))
    return document_index_bytes(key=key, data=obj["body"], version_id=obj["version_id"] or "",
                                etag=obj["etag"], title=title)


def document_delete(*, document: KnowledgeDocument) -> None:
    """Delete the document's object (a delete marker: every version stays restorable) and unindex it."""
    if uses_s3():
        get_s3_service().delete(document.key)
    else:
        document.file.storage.delete(document.key)
    document_forget(key=document.key)


def document_restore(*, document: KnowledgeDocument, version_id: str) -> str:
    """Make ``version_id`` the current version again (a copy, so history is kept) and index it."""
    if not uses_s3():
        raise AWSError("versions need S3 (S3_ENABLED=true)")
    get_s3_service().restore_version(document.key, version_id)
    return document_sync_from_s3(key=document.key, force=True)


def document_reindex(*, document: KnowledgeDocument) -> str:
    if not uses_s3():
        with document.file.open("rb") as fh:
            return document_index_bytes(key=document.key, data=fh.read(), title=document.title)
    return document_sync_from_s3(key=document.key, force=True)


def index_rebuild(*, prefix: str | None = None) -> dict:
    """Re-read every current object under ``prefix`` from S3 and index it; forget rows S3 no longer has."""
    return _converge(prefix=prefix, force=True)


def index_reconcile(*, prefix: str | None = None) -> dict:
    """Index what changed in the bucket since the last look (by ETag) and forget what is gone."""
    return _converge(prefix=prefix, force=False)


def _converge(*, prefix: str | None, force: bool) -> dict:
    prefix = settings.KNOWLEDGE_PREFIX if prefix is None else prefix
    stats = {"indexed": 0, "failed": 0, "removed": 0, "unchanged": 0}
    listed = {o["key"]: o for o in get_s3_service().list_files(prefix)}
    known = {d.key: d for d in KnowledgeDocument.objects.filter(key__startswith=prefix)}
    for key, obj in sorted(listed.items()):
        doc = known.get(key)
        if not force and doc and doc.etag == obj["etag"] and doc.status in (Status.INDEXED, Status.FAILED):
            stats["unchanged"] += 1
            continue
        try:
            stats[document_sync_from_s3(key=key, force=force)] += 1
        except AWSError as exc:
            logger.warning("could not index %s: %s", key, exc)
            stats["failed"] += 1
    for key, doc in known.items():
        if key not in listed and doc.status != Status.DELETED:
            stats[document_forget(key=key)] += 1
    return stats
