"""Answer stage (default, no LLM): ranked hits -> ``Answer`` with a verdict, points and citations.

The verdict is never written by a template: it is the verdict of the project-note statement that best
matches the question, and it carries that statement's citations. Citations resolve to the primary articles
the statement cites, quoted verbatim from the index; an instrument with no full text in the corpus is
cited through the project note that stands in for it. Every point ends with [n] markers; a sentence
without support is never emitted. Weak evidence, or a best match that is an out-of-scope statement,
gives an abstention that cites nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .lexical import tokenize
from .models import PRIMARY_KINDS, Answer, Chunk, Citation, Document, Hit, Kind, NoteCite, NoteStatement, Status
from .retrieval import Retrieval

SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")

ABSTAIN_TEXT = {
    "en": ("I can't answer that from my sources: the corpus does not cover this question. I cover China's internet "
           "licensing rules: ICP filing (Bei'an), the ICP licence, the EDI licence, foreign ownership of value-added "
           "telecom, App and mini-program filing, public security filing, domains and hosting."),
    "zh": ("我的资料库没有涵盖这个问题，无法据此回答。我能回答的是中国互联网许可规则：ICP备案、ICP经营许可证、EDI许可证、"
           "增值电信业务外资准入、App和小程序备案、公安联网备案、域名与接入。"),
}


@dataclass(frozen=True, kw_only=True)
class ComposerConfig:
    min_dense: float = 0.80  # below this best dense similarity the evidence is too weak (calibrated on dev)
    min_lexical: float = 4.0  # bm25-only mode: best BM25 score below this abstains
    lead_window: int = 4  # the verdict's statement must rank within the first hits
    extra_statements: int = 1  # further note statements shown as points
    extra_primary: int = 1  # further primary-text hits quoted as points
    max_points: int = 5


ChunkLookup = Callable[[str, int | None], list[Chunk]]


class CitationBook:
    """Numbers sources in order of first use; the same chunk always gets the same [n]."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.citations: list[Citation] = []
        self._by_chunk: dict[str, int] = {}

    def cite(self, chunk: Chunk, doc: Document, quote: str | None = None) -> int:
        if chunk.chunk_id in self._by_chunk:
            return self._by_chunk[chunk.chunk_id]
        n = len(self.citations) + 1
        self._by_chunk[chunk.chunk_id] = n
        self.citations.append(Citation(
            n=n, doc_id=doc.doc_id, article_no=chunk.article_no, title=doc.title, title_en=doc.title_en,
            quote=quote or chunk.text, kind=doc.kind, status=doc.status, version=doc.version,
            date_effective=doc.date_effective, chunk_id=chunk.chunk_id, partial=doc.partial,
            warning=source_warning(doc, chunk.article_no, self.lang)))
        return n


def source_warning(doc: Document, article_no: int | None, lang: str) -> str:
    """Why this source must not be taken as the authority on its own, in the answer's language."""
    i = 0 if lang == "en" else 1
    parts = [pair[i] for pair in doc.warnings]
    parts += [o[1 + i] for o in doc.outdated_articles if o[0] == article_no]
    if doc.status == Status.SUPERSEDED:
        parts.append("This version is no longer in force." if lang == "en" else "该版本已失效。")
    if doc.partial:
        parts.append("Partial text: only part of this instrument is in the corpus." if lang == "en"
                     else "本文件仅收录部分文本。")
    return " ".join(p for p in parts if p)


def markers(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(numbers))


def best_sentence(text: str, query_tokens: set[str]) -> str:
    """The sentence of ``text`` sharing most words with the query (verbatim, so it can be quoted)."""
    sentences = [s.strip() for s in SENTENCE.findall(text) if len(s.strip()) > 6]
    if not sentences:
        return text.strip()
    return max(sentences, key=lambda s: (len(query_tokens & set(tokenize(s))), -sentences.index(s)))


def article_label(doc: Document, article_no: int | None, lang: str) -> str:
    if lang == "zh":
        return f"《{doc.title}》" + (f"第{article_no}条" if article_no else "")
    name = doc.title_en or doc.title
    return name + (f", Art. {article_no}" if article_no else "")


class Composer:
    def __init__(self, documents: dict[str, Document], lookup: ChunkLookup, config: ComposerConfig | None = None,
                 instrument_notes: dict[str, str] | None = None) -> None:
        self.documents = documents
        self.lookup = lookup
        self.config = config or ComposerConfig()
        # registry instrument id -> doc_id of the project note that stands in for its missing text
        self.instrument_notes = instrument_notes or {
            doc.doc_id.removeprefix("notes/instrument-").removesuffix(".yml"): doc.doc_id
            for doc in documents.values() if doc.doc_id.startswith("notes/instrument-")}

    def statement_of(self, hit: Hit) -> NoteStatement | None:
        if hit.document.kind != Kind.PROJECT_NOTE:
            return None
        return next((s for s in hit.document.statements if s.id == hit.chunk.statement_id), None)

    def should_abstain(self, retrieval: Retrieval) -> bool:
        hits = retrieval.hits
        if not hits:
            return True
        for hit in hits[: self.config.lead_window]:
            statement = self.statement_of(hit)
            if statement is not None:
                if not statement.in_scope:
                    return True  # the best matching note says the corpus does not cover this
                break
        dense = [h.dense_score for h in hits if h.dense_score is not None]
        if dense:
            return max(dense) < self.config.min_dense
        lexical = [h.lexical_score for h in hits if h.lexical_score is not None]
        return not lexical or max(lexical) < self.config.min_lexical

    def compose(self, question: str, lang: str, retrieval: Retrieval) -> Answer:
        if self.should_abstain(retrieval):
            return Answer(question=question, language=lang, verdict=None, points=(ABSTAIN_TEXT[lang],),
                          citations=(), abstained=True, retrieved=retrieval.hits, as_of=retrieval.as_of)
        book = CitationBook(lang)
        query_tokens = set(tokenize(retrieval.query))
        statements = [(h, s) for h in retrieval.hits if (s := self.statement_of(h)) is not None and s.in_scope]
        lead = next(((h, s) for h, s in statements if h in retrieval.hits[: self.config.lead_window]), None)
        verdict, points = None, []
        cited_articles: set[tuple[str, int | None]] = set()
        if lead is not None:
            hit, statement = lead
            numbers = self._cite_statement(statement, hit, book, query_tokens, cited_articles)
            if statement.verdict:
                verdict = f"{statement.verdict[lang]} {markers(numbers)}"
            points.append(f"{statement.text[lang]} {markers(numbers)}")
            for other_hit, other in statements:
                if len(points) > self.config.extra_statements or other.id == statement.id:
                    continue
                if other_hit.score >= 0.8 * hit.score:
                    nums = self._cite_statement(other, other_hit, book, query_tokens, cited_articles)
                    points.append(f"{other.text[lang]} {markers(nums)}")
        budget = self.config.extra_primary if lead is not None else 3
        for hit in retrieval.hits:
            if budget <= 0 or len(points) >= self.config.max_points:
                break
            key = (hit.chunk.doc_id, hit.chunk.article_no)
            if hit.document.kind == Kind.PROJECT_NOTE or key in cited_articles:
                continue
            if lead is not None and hit.document.kind not in PRIMARY_KINDS:
                continue  # with a note to lead, only primary texts may add to it
            sentence = best_sentence(hit.chunk.text, query_tokens)
            n = book.cite(hit.chunk, hit.document)
            cited_articles.add(key)
            points.append(self._quoted_point(hit.document, hit.chunk, sentence, n, lang))
            budget -= 1
        return Answer(question=question, language=lang, verdict=verdict, points=tuple(points),
                      citations=tuple(book.citations), abstained=False, retrieved=retrieval.hits,
                      as_of=retrieval.as_of)

    def _quoted_point(self, doc: Document, chunk: Chunk, sentence: str, n: int, lang: str) -> str:
        label = article_label(doc, chunk.article_no, lang)
        if doc.kind in (Kind.PROVIDER_GUIDE, Kind.BLOG):
            label = (f"Provider practice ({doc.issuer})" if lang == "en" else f"服务商实践（{doc.issuer}）")
        return f"{label}: “{sentence}” [{n}]" if lang == "en" else f"{label}：“{sentence}” [{n}]"

    def _cite_statement(self, statement: NoteStatement, hit: Hit, book: CitationBook, query_tokens: set[str],
                        cited: set[tuple[str, int | None]]) -> list[int]:
        numbers = []
        for cite in statement.cites:
            resolved = self._resolve(cite, query_tokens, book.lang)
            if resolved is None:
                continue
            chunk, doc = resolved
            numbers.append(book.cite(chunk, doc))
            cited.add((chunk.doc_id, chunk.article_no))
        if not numbers:  # nothing the note cites is in the index: the note itself is the source
            numbers.append(book.cite(hit.chunk, hit.document))
        return numbers

    def _resolve(self, cite: NoteCite, query_tokens: set[str], lang: str) -> tuple[Chunk, Document] | None:
        """The chunk to quote for a note's citation: the article itself, or the instrument's stand-in note."""
        if cite.doc and cite.doc in self.documents:
            chunks = self.lookup(cite.doc, cite.article)
            if chunks:
                best = max(chunks, key=lambda c: len(query_tokens & set(tokenize(c.text))))
                return best, self.documents[cite.doc]
            return None
        note_id = self.instrument_notes.get(cite.instrument)
        if not note_id or note_id not in self.documents:
            return None
        note = self.documents[note_id]
        match = next((s for s in note.statements if any(
            c.instrument == cite.instrument and (cite.article is None or c.article == cite.article) for c in s.cites)),
            note.statements[0] if note.statements else None)
        chunks = [c for c in self.lookup(note_id, None) if match and c.statement_id == match.id]
        chunks.sort(key=lambda c: c.language != lang)
        return (chunks[0], note) if chunks else None
