"""The "tutorial" baseline: the RAG pipeline a user would build from a LangChain tutorial.

Same documents (their bodies, all versions, no registry, no glossary), LangChain's
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, Chroma through langchain-chroma in
its own collection (``tutorial_<backend>``, same data dir, same embedder), top-5 dense search. The answer is
the top chunk's text and the only citation is its document (article number read from the chunk when it
starts with 第X条). It never abstains and ignores ``as_of``: that is what the eval compares us against.

The collection is built once and kept in step with the corpus by content-hashed chunk ids: a re-run embeds
only chunks whose text changed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import date

from langchain_chroma import Chroma
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.embeddings import Embedder, make_embedder
from assistant.errors import IndexMismatchError
from assistant.index import make_client
from assistant.ingest import prepare
from assistant.models import Answer, Chunk, Citation, Document, Hit
from assistant.settings import Settings
from assistant.text import ARTICLE_START, chinese_number, detect_language

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 5
BATCH = 64


def tutorial_collection(settings: Settings) -> str:
    return f"tutorial_{settings.embedding}"


def split_documents(documents: Sequence[Document]) -> list[Chunk]:
    """Every document body through the tutorial splitter; ids hash the text, so unchanged chunks keep theirs."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    chunks = []
    for doc in documents:
        for position, text in enumerate(splitter.split_text(doc.body)):
            digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
            chunks.append(Chunk(chunk_id=f"tutorial:{doc.doc_id}#{position}:{digest}", doc_id=doc.doc_id,
                                position=position, text=text, title_path="", article_no=leading_article(text)))
    return chunks


def leading_article(text: str) -> int | None:
    """The article number when the chunk starts with 第X条, else None."""
    match = ARTICLE_START.match(text)
    if not match:
        return None
    try:
        return chinese_number(match.group(1))
    except ValueError:
        return None


class TutorialPipeline:
    """``ask`` like ``Assistant.ask``, answered by the tutorial pipeline."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        prepared = prepare(settings)
        self.documents = {d.doc_id: d for d in prepared.documents}
        self._corpus_version = prepared.corpus_version
        self.chunks = {c.chunk_id: c for c in split_documents(prepared.documents)}
        client = make_client(settings)
        self.store = Chroma(client=client, collection_name=tutorial_collection(settings),
                            embedding_function=self.embedder,
                            collection_metadata={"model_id": self.embedder.model_id})
        # LangChain's wrapper for the tutorial's search; Chroma's own client API for bookkeeping
        self.collection = client.get_collection(tutorial_collection(settings))
        self.sync()

    @property
    def corpus_version(self) -> str:
        return self._corpus_version

    def sync(self) -> int:
        """Add chunks not yet in the collection, drop those gone from the corpus; returns how many were embedded."""
        collection = self.collection
        if (collection.metadata or {}).get("model_id") != self.embedder.model_id:
            raise IndexMismatchError(f"The tutorial collection {collection.name!r} was built by another model "
                                     f"({collection.metadata}); delete it to rebuild.")
        stored = set(collection.get(include=[])["ids"])
        stale = sorted(stored - set(self.chunks))
        if stale:
            collection.delete(ids=stale)
        todo = [c for cid, c in self.chunks.items() if cid not in stored]
        started = time.perf_counter()
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            self.store.add_texts([c.text for c in batch], ids=[c.chunk_id for c in batch],
                                 metadatas=[{"doc_id": c.doc_id, "position": c.position,
                                             "article_no": -1 if c.article_no is None else c.article_no}
                                            for c in batch])
            log.info("tutorial index: embedded %d/%d chunks", start + len(batch), len(todo))
        if todo or stale:
            log.info("tutorial index %s: %d added, %d removed in %.1f s", collection.name, len(todo), len(stale),
                     time.perf_counter() - started)
        return len(todo)

    def ask(self, question: str, history: Sequence[str] | None = None, as_of: date | None = None) -> Answer:
        started = time.perf_counter()
        found = self.store.similarity_search_with_score(question, k=TOP_K)
        retrieved_at = time.perf_counter()
        # Chroma's default space is squared L2; on unit vectors that is 2 - 2·cosine.
        hits = tuple(Hit(chunk=self.chunks[doc.id], document=self.documents[self.chunks[doc.id].doc_id],
                         score=1.0 - distance / 2, dense_score=1.0 - distance / 2)
                     for doc, distance in found if doc.id in self.chunks)
        language = detect_language(question)
        if not hits:
            return Answer(question=question, language=language, verdict=None, points=(), citations=(),
                          abstained=True, mode="tutorial", timings_ms=_timings(started, retrieved_at))
        top = hits[0]
        citation = Citation(n=1, doc_id=top.document.doc_id, article_no=top.chunk.article_no, title=top.document.title,
                            title_en=top.document.title_en, quote=top.chunk.text, kind=top.document.kind,
                            status=top.document.status, version=top.document.version,
                            date_effective=top.document.date_effective, chunk_id=top.chunk.chunk_id)
        return Answer(question=question, language=language, verdict=None, points=(f"{top.chunk.text} [1]",),
                      citations=(citation,), abstained=False, retrieved=hits, mode="tutorial",
                      timings_ms=_timings(started, retrieved_at))


def _timings(started: float, retrieved_at: float) -> dict[str, float]:
    done = time.perf_counter()
    return {"retrieve": (retrieved_at - started) * 1000, "answer": (done - retrieved_at) * 1000,
            "total": (done - started) * 1000}
