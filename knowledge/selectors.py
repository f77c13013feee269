"""Reads: search, document versions, download links."""

import re
import threading
import time
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from rapidfuzz import process
from rapidfuzz.distance import OSA

from stocktool.aws import get_s3_service

from . import embeddings
from .models import KnowledgeDocument, KnowledgeIndexState, KnowledgePassage
from .ranking import BM25Index, Entry, snippet, stem, tokenize
from .storage import uses_s3

_lock = threading.Lock()
_cache: dict[str, Any] = {"token": None, "index": None}


_checked: dict[str, Any] = {"token": None, "at": 0.0}


class KnowledgeIndex(BM25Index):
    """The BM25 index of the passages, with what the knowledge base adds: its documents by id, the terms of
    their titles, and (once asked for) the vocabulary misspellings are read against."""

    def __init__(self, entries: list[Entry], documents: dict[int, Any],
                 vectors: tuple[np.ndarray, np.ndarray] | None = None):
        super().__init__(entries)
        self.documents = documents
        self.title_terms = frozenset(term for d in documents.values() for term in tokenize(d["title"] or ""))
        self.vocabulary: list[str] | None = None
        # What each passage means: one normalised row per paragraph, and the entry each row belongs to.
        self.vectors: np.ndarray | None = vectors[0] if vectors is not None else None
        self.vector_rows: np.ndarray | None = vectors[1] if vectors is not None else None

    def similar(self, query: str) -> dict[Any, tuple[float, dict[int, float]]]:
        """Each document's cosine similarity to ``query`` (its closest paragraph's) and each passage's (its
        closest paragraph's), by ordinal; empty when embeddings are off."""
        if self.vectors is None or self.vector_rows is None or not len(self.entries):
            return {}
        vector = embeddings.embed_query(query)
        if vector is None:
            return {}
        sims = np.full(len(self.entries), -1.0, dtype=np.float32)
        np.maximum.at(sims, self.vector_rows, self.vectors @ vector)  # a passage: its closest paragraph
        out: dict[Any, tuple[float, dict[int, float]]] = {}
        for entry, sim in zip(self.entries, sims.tolist(), strict=True):
            best, passages = out.get(entry.doc, (-1.0, {}))
            passages[entry.ref[0]] = sim
            out[entry.doc] = (max(best, sim), passages)
        return out


def _current_token() -> str:
    """The index's current token, asked of the database at most every KNOWLEDGE_INDEX_CHECK_SECONDS."""
    now = time.monotonic()
    if _checked["token"] is not None and now - _checked["at"] < settings.KNOWLEDGE_INDEX_CHECK_SECONDS:
        return _checked["token"]
    token = KnowledgeIndexState.objects.filter(pk=1).values_list("token", flat=True).first() or ""
    _checked["token"], _checked["at"] = token, now
    return token


def knowledge_index_forget_check() -> None:
    """This process changed the index: its next search asks the database again."""
    _checked["token"] = None


def knowledge_index() -> KnowledgeIndex:
    """This process's in-memory BM25 index, reloaded from the database when another writer changed it."""
    token = _current_token()
    if _cache["index"] is not None and _cache["token"] == token:
        return _cache["index"]
    with _lock:
        if _cache["index"] is None or _cache["token"] != token:
            _cache["index"], _cache["token"] = _load_index(), token
    return _cache["index"]


def _load_index() -> KnowledgeIndex:
    docs = {d["id"]: d for d in KnowledgeDocument.objects.filter(status=KnowledgeDocument.Status.INDEXED)
            .values("id", "title", "key", "version_id")}
    rows = list(KnowledgePassage.objects.filter(document_id__in=list(docs)).values_list(
        "document_id", "ordinal", "heading", "text", "terms", "embedding", "pk"))
    entries = [Entry(ref=(ordinal, heading, text), doc=doc_id, terms=terms)
               for doc_id, ordinal, heading, text, terms, _, _ in rows]
    return KnowledgeIndex(entries, docs, _vectors(rows, docs))


def _vectors(rows: list[tuple], docs: dict[int, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """The passages' paragraph embeddings as one matrix, with the row of ``rows`` each belongs to; passages
    indexed while embeddings were off are embedded now and stored, once. None when embeddings are off."""
    if not rows or not embeddings.enabled() or embeddings.model() is None:
        return None
    stored = [embeddings.from_bytes(row[5]) for row in rows]
    missing = [i for i, v in enumerate(stored) if v is None]
    vectors: list[np.ndarray] = [v if v is not None else np.zeros((0, embeddings.DIMENSIONS)) for v in stored]
    if missing:
        texts = [embeddings.passage_texts(docs[rows[i][0]]["title"] or "", rows[i][2], rows[i][3]) for i in missing]
        fresh = embeddings.embed([t for each in texts for t in each])
        if fresh is None:
            return None
        updates, start = [], 0
        for i, each in zip(missing, texts, strict=True):
            vectors[i] = fresh[start:start + len(each)]
            start += len(each)
            updates.append(KnowledgePassage(pk=rows[i][6], embedding=embeddings.to_bytes(vectors[i])))
        KnowledgePassage.objects.bulk_update(updates, ["embedding"], batch_size=200)
    owners = np.concatenate([np.full(len(v), i) for i, v in enumerate(vectors)])
    return np.vstack(vectors).astype(np.float32), owners


def knowledge_similar(*, query: str) -> dict[int, tuple[float, dict[int, float]]]:
    """How close in meaning each indexed document is to ``query``: {document id: (best passage's cosine
    similarity, {passage ordinal: similarity})}; empty when embeddings are off."""
    query = (query or "").strip()[:500]
    return knowledge_index().similar(query) if query else {}


def knowledge_search(*, query: str, limit: int = 5, per_document: int = 1) -> list[dict]:
    """Passages that best answer ``query``: title, heading, snippet, score, document key and version."""
    query = (query or "").strip()[:500]
    if not query:
        return []
    index = knowledge_index()
    out = []
    for entry, score in index.search(query, limit=max(1, min(limit, 50)), per_document=per_document):
        doc = index.documents[entry.doc]
        ordinal, heading, text = entry.ref
        out.append({
            "title": doc["title"], "heading": heading, "snippet": snippet(text, query), "text": text,
            "score": round(score, 4), "key": doc["key"], "version_id": doc["version_id"],
            "document_id": doc["id"], "passage": ordinal, "url": document_url(document_id=doc["id"], passage=ordinal),
        })
    return out


def search_knowledge(query: str, k: int = 5) -> list[dict]:
    """The assistant's tool of the same name: ``knowledge_search`` with the issue's signature."""
    return knowledge_search(query=query, limit=k)


def document_versions(*, document: KnowledgeDocument) -> list[dict]:
    """Every S3 version and delete marker of the document, newest first (empty without S3)."""
    if not uses_s3():
        return []
    versions = get_s3_service().list_versions(document.key)
    for v in versions:
        v["indexed"] = bool(document.version_id) and v["version_id"] == document.version_id
    return versions


def document_download_url(*, document: KnowledgeDocument, version_id: str | None = None) -> str:
    """A link that expires after KNOWLEDGE_PRESIGNED_SECONDS (presigned on S3)."""
    if not uses_s3():
        return document.file.url
    return get_s3_service().generate_presigned_url(
        document.key, expires_in=settings.KNOWLEDGE_PRESIGNED_SECONDS, version_id=version_id or None,
        download_name=document.file_name,
    )


def document_url(*, document_id: int, passage: int | None = None) -> str:
    """The page that shows an indexed document to any signed-in user, at a passage when one is named."""
    url = _document_page(document_id, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return f"{url}#passage-{passage}" if passage is not None else url


def document_urls_by_name(*, names) -> dict[str, str]:
    """The pages of the indexed documents with these names under the knowledge prefix ("sharpe-ratio.md"), by
    name: how other pages link a term to the document that explains it. Names not indexed are left out."""
    keys = [f"{settings.KNOWLEDGE_PREFIX}{name}" for name in names]
    found = KnowledgeDocument.objects.filter(key__in=keys, status=KnowledgeDocument.Status.INDEXED)
    return {key.removeprefix(settings.KNOWLEDGE_PREFIX): document_url(document_id=pk)
            for pk, key in found.values_list("id", "key")}


@lru_cache(maxsize=4096)
def _document_page(document_id: int, urlconf: str, prefix: str) -> str:
    # reverse() costs 50 µs, and an answer weighs up to five documents of a dozen passages each
    return reverse("knowledge-document", args=[document_id], urlconf=urlconf)


def document_with_passages_get(*, document_id: int) -> tuple[KnowledgeDocument, list[KnowledgePassage]] | None:
    """An indexed document and its passages in order, or None."""
    document = KnowledgeDocument.objects.filter(pk=document_id, status=KnowledgeDocument.Status.INDEXED).first()
    if document is None:
        return None
    return document, list(document.passages.order_by("ordinal").only("ordinal", "heading", "text"))


def knowledge_passages(*, document_ids) -> dict[int, list[dict]]:
    """Every passage of each indexed document, in order (heading, text, ordinal), from the in-memory index."""
    index = knowledge_index()
    out = {}
    for document_id in document_ids:
        doc = index.documents.get(document_id)
        if doc is None:
            continue
        rows = sorted((entry.ref for entry in index.by_doc.get(document_id, ())), key=lambda ref: ref[0])
        page = document_url(document_id=document_id)
        out[document_id] = [
            {"document_id": document_id, "title": doc["title"], "key": doc["key"], "version_id": doc["version_id"],
             "passage": ordinal, "heading": heading, "text": text,
             "url": f"{page}#passage-{ordinal}"}
            for ordinal, heading, text in rows]
    return out


def knowledge_spellings(*, words) -> dict[str, str]:
    """For each word (lower case) the knowledge base does not hold, the word of its documents one typo away
    (two for a long word), if there is one: {"interent": "internet", "quorington": "quorrington"}."""
    index = knowledge_index()
    out = {}
    for word in words:
        if len(word) < 5 or not word.isalpha() or index.postings.get(stem(word)):
            continue
        vocabulary = _vocabulary(index)
        found = process.extractOne(word, vocabulary, scorer=OSA.distance, score_cutoff=1 if len(word) < 8 else 2)
        if found is not None:
            out[word] = found[0]
    return out


def _vocabulary(index: KnowledgeIndex) -> list[str]:
    """The words of the indexed titles, headings and passages (five letters or more), once per index."""
    vocabulary = index.vocabulary
    if vocabulary is None:
        words: set[str] = set()
        for entry in index.entries:
            _, heading, text = entry.ref
            words.update(re.findall(r"[a-z]{5,}", f"{heading} {text}".lower()))
        for document in index.documents.values():
            words.update(re.findall(r"[a-z]{5,}", (document["title"] or "").lower()))
        vocabulary = index.vocabulary = sorted(words)
    return vocabulary


def knowledge_titles_mention(*, text: str) -> bool:
    """Whether any indexed document's title shares a term with ``text`` (a company's name, say): a set lookup."""
    return not knowledge_index().title_terms.isdisjoint(tokenize(text))


def knowledge_term_weights(*, terms) -> dict[str, float]:
    """How telling each (stemmed) term is: its inverse document frequency over passages (0 for a term the
    knowledge base does not hold), and under the key None the weight of a term found in one passage only."""
    index = knowledge_index()
    n = max(len(index), 1)
    weights = {term: index.idf(n, len(index.postings[term])) if index.postings.get(term) else 0.0 for term in terms}
    return weights | {None: index.idf(n, 1)}
