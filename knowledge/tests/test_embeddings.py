"""The knowledge search's meaning signal (knowledge/embeddings.py): the NumPy forward pass gives the vectors that
sentence-transformers gives for all-MiniLM-L6-v2, passages are embedded paragraph by paragraph when indexed, and
a question that shares no telling word with the passage that answers it still finds it."""

import numpy as np
import pytest
from django.conf import settings

from knowledge import embeddings

QUESTION = "are government bills cheaper on tax than leaving cash in the bank?"
TBILLS = "Treasury bills: Interest on T-bills is exempt from state and local income tax."
DIVIDEND = "Harrowgate Mills: dividend policy: The dividend is paid twice a year, on 15 April and 15 October."

# sentence-transformers 5 (PyTorch) on the same model and sentences, normalised: the first six values of each
# vector, and the cosine similarity of the question to each passage.
REFERENCE_HEAD = [
    [-0.037208, 0.034376, -0.034595, -0.001375, -0.00995, -0.049693],
    [-0.0416, 0.079963, 0.040799, -0.019622, -0.01828, -0.010686],
    [-0.040364, -0.078287, 0.051448, 0.054214, 0.012871, -0.033085],
]
REFERENCE_COSINE = {"tbills": 0.50346, "dividend": 0.05995}


@pytest.fixture(scope="module")
def model():
    loaded = embeddings.model()
    assert loaded is not None, "the embedding model is not installed: make install-test installs it"
    return loaded


def test_the_forward_pass_matches_sentence_transformers(model):
    vectors = model.encode([QUESTION, TBILLS, DIVIDEND])
    assert vectors.shape == (3, embeddings.DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[:, :6], REFERENCE_HEAD, atol=2e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] == pytest.approx(REFERENCE_COSINE["tbills"], abs=1e-4)
    assert vectors[0] @ vectors[2] == pytest.approx(REFERENCE_COSINE["dividend"], abs=1e-4)


def test_a_batch_gives_each_text_the_vector_it_gets_alone(model):
    texts = [DIVIDEND, "short", QUESTION * 3]  # different lengths: padded in one batch
    together = model.encode(texts)
    alone = np.vstack([model.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_passage_is_embedded_per_paragraph_with_its_title_and_heading():
    texts = embeddings.passage_texts("Treasury bills", "Tax", "First paragraph.\n\n  Second\n paragraph.  ")
    assert texts == ["Treasury bills: Tax: First paragraph.", "Treasury bills: Tax: Second paragraph."]
    assert embeddings.passage_texts("Fees", "Fees", "One.") == ["Fees: One."]  # a heading that repeats the title


def test_stored_vectors_round_trip_and_a_wrong_size_is_no_vector():
    vectors = np.arange(2 * embeddings.DIMENSIONS, dtype=np.float32).reshape(2, -1)
    np.testing.assert_array_equal(embeddings.from_bytes(embeddings.to_bytes(vectors)), vectors)
    assert embeddings.from_bytes(b"") is None
    assert embeddings.from_bytes(b"\0" * 12) is None


def test_a_question_in_other_words_finds_the_passage_that_answers_it(model):
    passages = [TBILLS, DIVIDEND, "Margin calls: a broker demands more cash when the account falls below 25%."]
    vectors = model.encode(passages)
    ranked = np.argsort(-(vectors @ model.encode([QUESTION])[0]))
    assert passages[ranked[0]] == TBILLS


TBILLS_DOC = b"""# Treasury bills

Treasury bills (T-bills) are short-term debt of the US government, sold at a discount to their face value.

## Tax

Interest on T-bills is subject to federal income tax but exempt from state and local income tax.
"""

DIVIDEND_DOC = b"""# Harrowgate Mills: dividend policy

The dividend is paid twice a year, on 15 April and 15 October.
"""


@pytest.mark.django_db
def test_indexing_stores_each_paragraphs_vector_and_the_search_ranks_by_meaning(model):
    from knowledge.models import KnowledgePassage
    from knowledge.selectors import knowledge_similar
    from knowledge.services import document_index_bytes

    for name, data in (("t-bills.md", TBILLS_DOC), ("harrowgate.md", DIVIDEND_DOC)):
        assert document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}{name}", data=data) == "indexed"
    passages = KnowledgePassage.objects.filter(document__key__endswith="t-bills.md")
    assert passages and all(embeddings.from_bytes(p.embedding) is not None for p in passages)
    similar = knowledge_similar(query=QUESTION)
    by_key = {p.document.key.rsplit("/", 1)[-1]: p.document_id for p in KnowledgePassage.objects.all()}
    tbills, harrowgate = similar[by_key["t-bills.md"]], similar[by_key["harrowgate.md"]]
    assert tbills[0] > harrowgate[0] + 0.2
    assert tbills[0] == max(tbills[1].values())  # the document's similarity is its closest passage's


@pytest.mark.django_db
def test_passages_indexed_without_vectors_get_them_when_the_index_loads(model):
    from knowledge.models import KnowledgePassage
    from knowledge.selectors import knowledge_index_forget_check, knowledge_similar
    from knowledge.services import document_index_bytes, index_touch

    document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}t-bills.md", data=TBILLS_DOC)
    KnowledgePassage.objects.update(embedding=None)  # as if indexed while embeddings were off
    index_touch()
    knowledge_index_forget_check()
    assert knowledge_similar(query=QUESTION)
    assert all(embeddings.from_bytes(p.embedding) is not None for p in KnowledgePassage.objects.all())


@pytest.mark.django_db
def test_with_embeddings_off_nothing_is_embedded_and_the_search_still_answers(settings):
    from knowledge.models import KnowledgePassage
    from knowledge.selectors import knowledge_search, knowledge_similar
    from knowledge.services import document_index_bytes

    settings.KNOWLEDGE_EMBEDDINGS = "off"
    document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}t-bills.md", data=TBILLS_DOC)
    assert all(p.embedding is None for p in KnowledgePassage.objects.all())
    assert knowledge_similar(query=QUESTION) == {}
    assert knowledge_search(query="treasury bills tax")[0]["title"] == "Treasury bills"
