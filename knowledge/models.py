from django.conf import settings
from django.db import models

from .storage import knowledge_storage


class KnowledgeDocument(models.Model):
    """One object key in the bucket; ``version_id`` is the S3 version whose passages are in the index."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Failed"
        DELETED = "deleted", "Deleted"

    key = models.CharField(max_length=1024, unique=True)
    # Stored through django-storages' S3 backend (the STORAGES setting); the file name is the key.
    file = models.FileField(upload_to=settings.KNOWLEDGE_PREFIX, storage=knowledge_storage, max_length=1024,
                            blank=True)
    title = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    version_id = models.CharField(max_length=1024, blank=True)
    etag = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    passage_count = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "key"]

    def __str__(self) -> str:
        return self.title or self.key

    @property
    def file_name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


class KnowledgePassage(models.Model):
    """A passage of a document's indexed version, with the term frequencies BM25 ranks it by."""

    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="passages")
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    terms = models.JSONField(default=dict)
    # What the passage means, as the search's embedding model reads it (knowledge/embeddings.py): 384 float32
    # values, little-endian. Empty when embeddings were off at indexing; the index fills it in when it loads.
    embedding = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["document_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["document", "ordinal"], name="knowledge_passage_ordinal")]

    def __str__(self) -> str:
        return f"{self.document} #{self.ordinal}"


class KnowledgeIndexState(models.Model):
    """One row; its token changes with every index write, so each process knows when to reload."""

    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(auto_now=True)
