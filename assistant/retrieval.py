"""Retrieval stage: question -> ranked ``Hit``s.

English questions must reach Chinese articles, so the question is first expanded with the bilingual
glossary (Bei'an -> 备案, WFOE -> 外商独资, ...). Then dense search (over the embeddings stored in Chroma) and
BM25 (jieba + English tokens) each rank the chunks of the versions that apply (in force, or in force on
``as_of``), and weighted reciprocal rank fusion merges them. A small authority prior breaks near-ties in
favour of primary texts over notices, notes, guides and the blog.

LangChain's ``EnsembleRetriever`` does weighted RRF too, but over LangChain ``Document``s without the
per-source scores the composer and the abstention rule need, and it cannot filter versions by date; the
fusion itself is ten lines here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np

from .embeddings import Embedder
from .index import LoadedIndex
from .lexical import BM25Index, tokenize
from .models import AUTHORITY, Chunk, Document, Hit, Kind, NoteCite, NoteStatement, Status
from .registry import Glossary

RRF_K = 60
CANDIDATES = 50
# Words that ask about an earlier text: then superseded versions stay in play.
HISTORY = re.compile(r"\b(original|old|older|earlier|previous|history|historical|before the (?:\d{4} )?(?:amendment|revision)|"
                     r"used to|in (?:19|20)\d\d|as of (?:19|20)\d\d|(?:19|20)\d\d (?:text|version))\b|"
                     r"原来|原先|以前|之前|修订前|修改前|旧版|原版|历史|当年|(?:19|20)\d\d年(?:版|的规定|时)",
                     flags=re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class RetrievalConfig:
    mode: str = "hybrid"  # hybrid | dense | bm25
    dense_weight: float = 2.0  # dev: document hit@5 0.857 at 1.0, 0.893 at 2.0 (no change at 3.0)
    lexical_weight: float = 1.0
    authority_weight: float = 0.05  # fused-score bonus per authority step above project notes
    expand: bool = True  # add the glossary's other-language terms to the lexical query
    # The dense query gets each matched term's canonical names only: whole alias lists blur the embedding
    # (dev: document hit@5 0.43 with all aliases, 0.59 without any expansion).
    gloss_dense: bool = True


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits plus what the composer needs to judge them.

    ``routed`` is ``hits`` with, before every project-note hit, the chunks that note statement cites
    (primary texts first): the notes route English questions to the Chinese articles they summarise.
    """

    hits: tuple[Hit, ...]
    routed: tuple[Hit, ...]
    query: str  # the expanded query that was searched
    expansions: tuple[str, ...]
    history_intent: bool
    as_of: date | None
    known_terms: tuple[str, ...] = ()  # the question's own words that occur anywhere in the corpus
    # best dense similarity of an out-of-scope note statement minus that of an in-scope one (None: no dense)
    scope_margin: float | None = None


def applicable_versions(documents: dict[str, Document], as_of: date | None, history: bool) -> set[str]:
    """doc_ids whose text applies: on ``as_of`` the version then in force; else all but superseded ones."""
    if as_of is None:
        return {d for d, doc in documents.items() if history or doc.status != Status.SUPERSEDED}
    chosen: set[str] = set()
    by_instrument: dict[str, list[Document]] = {}
    for doc in documents.values():
        if doc.instrument_id and doc.kind not in (Kind.PROJECT_NOTE, Kind.PROVIDER_GUIDE, Kind.BLOG):
            by_instrument.setdefault(doc.instrument_id, []).append(doc)
        else:
            chosen.add(doc.doc_id)
    for versions in by_instrument.values():
        started = [v for v in versions if v.date_effective and v.date_effective <= as_of]
        if started:
            chosen.add(max(started, key=lambda v: v.date_effective or date.min).doc_id)
    return chosen


def _mostly_chinese(text: str) -> bool:
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return bool(han) and han * 3 >= latin


def statement_of(hit: Hit) -> NoteStatement | None:
    """The project-note statement a hit is a chunk of (None for other documents)."""
    if hit.document.kind != Kind.PROJECT_NOTE:
        return None
    return next((s for s in hit.document.statements if s.id == hit.chunk.statement_id), None)


class CiteResolver:
    """Turns a note's citation into the chunks to quote: the article itself, or, for an instrument without
    full text, the statement of its stand-in note (``notes/instrument-<id>.yml``) that covers the article."""

    def __init__(self, index: LoadedIndex) -> None:
        self.index = index

    def resolve(self, cite: NoteCite, lang: str) -> tuple[list[Chunk], Document] | None:
        if cite.doc:
            chunks = self.index.by_article.get((cite.doc, cite.article), [])
            return (chunks, self.index.documents[cite.doc]) if chunks else None
        note_id = f"notes/instrument-{cite.instrument}.yml"
        note = self.index.documents.get(note_id)
        if note is None or not note.statements:
            return None
        match = next((s for s in note.statements if any(
            c.instrument == cite.instrument and c.article == cite.article for c in s.cites)), None)
        match = match or next((s for s in note.statements if any(c.instrument == cite.instrument for c in s.cites)),
                              note.statements[0])
        chunks = sorted((c for c in self.index.by_article.get((note_id, None), []) if c.statement_id == match.id),
                        key=lambda c: c.language != lang)
        return (chunks[:1], note) if chunks else None


class HybridRetriever:
    """Dense + BM25 over one loaded index generation."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, glossary: Glossary | None,
                 config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.glossary = glossary
        self.config = config or RetrievalConfig()
        self.bm25 = BM25Index(index.tokens)
        self.position = {c.chunk_id: i for i, c in enumerate(index.chunks)}
        self.resolver = CiteResolver(index)

    def expand(self, question: str) -> tuple[str, ...]:
        """Chinese names for the English terms of a question. Chinese questions already use the words of
        the law; adding English aliases to them only pulls in English chunks (dev: it cost verdicts)."""
        if not (self.config.expand and self.glossary) or _mostly_chinese(question):
            return ()
        return tuple(self.glossary.expand(question))

    def retrieve(self, question: str, *, as_of: date | None = None, k: int = 8) -> Retrieval:
        expansions = self.expand(question)
        query = " ".join([question, *expansions])
        history = bool(HISTORY.search(question)) or as_of is not None
        allowed = applicable_versions(self.index.documents, as_of, history)
        gloss = self.glossary.canonical(question) if self.glossary and self.config.gloss_dense else []
        dense_query = f"{question} ({'; '.join(gloss)})" if gloss else question
        dense = self._dense(dense_query, allowed) if self.config.mode in ("hybrid", "dense") else {}
        lexical = self._lexical(query, allowed) if self.config.mode in ("hybrid", "bm25") else {}
        hits = tuple(
            Hit(chunk=self.index.chunks[i], document=self.index.documents[self.index.chunks[i].doc_id], score=score,
                dense_score=dense_score, lexical_score=lexical_score)
            for i, score, dense_score, lexical_score in self._fuse(dense, lexical)[:k]
        )
        known = tuple(t for t in tokenize(question) if len(t) > 1 and t in self.bm25.vocab)
        return Retrieval(hits=hits, routed=self.route(hits, allowed), query=query, expansions=expansions,
                         history_intent=history, as_of=as_of, known_terms=known, scope_margin=self._scope_margin(dense))

    def _scope_margin(self, dense: dict[int, float]) -> float | None:
        best = {True: 0.0, False: 0.0}
        for i, score in dense.items():
            chunk = self.index.chunks[i]
            if chunk.statement_id:
                statement = next(s for s in self.index.documents[chunk.doc_id].statements if s.id == chunk.statement_id)
                best[statement.in_scope] = max(best[statement.in_scope], score)
        return best[False] - best[True] if dense else None

    def route(self, hits: tuple[Hit, ...], allowed: set[str]) -> tuple[Hit, ...]:
        routed: dict[str, Hit] = {}
        for hit in hits:
            statement = statement_of(hit)
            cited = [r for c in (statement.cites if statement else ())
                     if (r := self.resolver.resolve(c, hit.chunk.language)) and r[1].doc_id in allowed]
            cited.sort(key=lambda r: r[1].kind in (Kind.PROVIDER_GUIDE, Kind.BLOG))
            for chunks, doc in cited:  # the evidence first, then the note that led to it
                for chunk in chunks:
                    routed.setdefault(chunk.chunk_id, Hit(chunk=chunk, document=doc, score=hit.score))
            routed.setdefault(hit.chunk.chunk_id, hit)
        return tuple(routed.values())

    def _dense(self, query: str, allowed: set[str]) -> dict[int, float]:
        """Exact cosine search over the generation's embeddings, read from Chroma at load.

        Chroma's HNSW query is approximate, and on this corpus it missed the true nearest neighbour (a
        0.894 match absent from k=100 results for a bank-account question while present for k=3 of another
        run); with ~2,000 chunks an exact matrix product is both exact and faster (<1 ms vs ~30 ms).
        """
        scores = self.index.embeddings @ self.embedder.encode_query(query)
        out: dict[int, float] = {}
        for i in np.argsort(-scores):
            if self.index.chunks[int(i)].doc_id in allowed:
                out[int(i)] = float(scores[i])
                if len(out) >= CANDIDATES:
                    break
        return out

    def _lexical(self, query: str, allowed: set[str]) -> dict[int, float]:
        scores = self.bm25.scores(tokenize(query))
        order = np.argsort(-scores)
        out: dict[int, float] = {}
        for i in order[: CANDIDATES * 3]:
            if scores[i] <= 0 or len(out) >= CANDIDATES:
                break
            if self.index.chunks[int(i)].doc_id in allowed:
                out[int(i)] = float(scores[i])
        return out

    def _group(self, i: int) -> str:
        """Both language versions of a note statement are one unit: ranks are fused per statement."""
        chunk = self.index.chunks[i]
        return f"{chunk.doc_id}#{chunk.statement_id}" if chunk.statement_id else chunk.chunk_id

    def _collapse(self, ranking: dict[int, float]) -> dict[str, tuple[int, float]]:
        best: dict[str, tuple[int, float]] = {}
        for i in sorted(ranking, key=ranking.__getitem__, reverse=True):
            best.setdefault(self._group(i), (i, ranking[i]))
        return best

    def _fuse(self, dense: dict[int, float], lexical: dict[int, float]
              ) -> list[tuple[int, float, float | None, float | None]]:
        """(chunk index, fused score, dense score, lexical score), best first; weighted RRF per unit."""
        dense_units, lexical_units = self._collapse(dense), self._collapse(lexical)
        fused: dict[str, float] = {}
        for weight, units in ((self.config.dense_weight, dense_units), (self.config.lexical_weight, lexical_units)):
            for rank, unit in enumerate(units):
                fused[unit] = fused.get(unit, 0.0) + weight / (RRF_K + rank + 1)
        out = []
        for unit, score in fused.items():
            i = (dense_units.get(unit) or lexical_units[unit])[0]
            kind = self.index.documents[self.index.chunks[i].doc_id].kind
            score *= 1.0 + self.config.authority_weight * (AUTHORITY[kind] - AUTHORITY[Kind.PROJECT_NOTE])
            out.append((i, score, dense_units[unit][1] if unit in dense_units else None,
                        lexical_units[unit][1] if unit in lexical_units else None))
        return sorted(out, key=lambda item: item[1], reverse=True)
