"""The small frozen records every stage hands to the next.

corpus files -> ``Document`` -> ``Chunk`` -> (index) -> ``Hit`` -> ``Answer`` (with ``Citation``s).
LangChain ``Document``s appear only at the vector-store edge (see ``index.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Legal status of one document version."""

    IN_FORCE = "in force"
    SUPERSEDED = "superseded"
    AMENDED = "amended"  # in force, but this text predates an amendment (parts outdated)
    UNKNOWN = "unknown"


class Kind(StrEnum):
    """What a document is; the order of ``AUTHORITY`` ranks them when scores are close."""

    LAW = "law"
    ADMINISTRATIVE_REGULATION = "administrative regulation"
    DEPARTMENT_RULE = "department rule"
    NOTICE = "notice"
    PROJECT_NOTE = "project note"
    PROVIDER_GUIDE = "provider guide"
    BLOG = "blog"


# Higher is more authoritative: primary texts > notices > project notes > guides > blog.
AUTHORITY: dict[Kind, int] = {
    Kind.LAW: 6,
    Kind.ADMINISTRATIVE_REGULATION: 6,
    Kind.DEPARTMENT_RULE: 6,
    Kind.NOTICE: 5,
    Kind.PROJECT_NOTE: 4,
    Kind.PROVIDER_GUIDE: 3,
    Kind.BLOG: 2,
}

PRIMARY_KINDS = frozenset({Kind.LAW, Kind.ADMINISTRATIVE_REGULATION, Kind.DEPARTMENT_RULE, Kind.NOTICE})


@dataclass(frozen=True, kw_only=True)
class NoteCite:
    """A project note's citation: a corpus document article, or a registry instrument without full text."""

    doc: str = ""  # doc_id of a corpus document
    article: int | None = None
    instrument: str = ""  # registry id, when the instrument has no full text in the corpus
    verified: bool = True  # False: the article number was not read in a primary text
    # "basis": the statement rests on it (cited on the verdict/lead); "support": background for one point
    role: str = "basis"
    outdated: bool = False  # True: cites a superseded version or an outdated article on purpose (history)


@dataclass(frozen=True, kw_only=True)
class NoteStatement:
    """One statement of a project note: how people ask it, the verdict, the text and its citations."""

    id: str
    questions: dict[str, tuple[str, ...]]  # language -> phrasings
    verdict: dict[str, str]  # language -> direct answer ("Yes — ..."); empty when none
    text: dict[str, str]  # language -> plain-language statement
    cites: tuple[NoteCite, ...]
    in_scope: bool = True  # False: a statement that says the corpus does not cover a topic


@dataclass(frozen=True, kw_only=True)
class Document:
    """One corpus file, parsed. ``doc_id`` is its path relative to its corpus root, '/'-separated."""

    doc_id: str
    root: str  # the corpus root it came from (as given, for reporting)
    title: str
    title_en: str
    kind: Kind
    language: str  # "zh", "en" or "en+zh"
    body: str
    issuer: str = ""
    document_number: str = ""
    date_promulgated: date | None = None
    date_effective: date | None = None
    status: Status = Status.UNKNOWN
    version: str = ""
    source: str = ""
    partial: bool = False
    expected_articles: int | None = None  # from the header's article_check
    instrument_id: str = ""  # registry id, attached at ingest
    superseded_by: str = ""  # doc_id of the newer version, from the registry
    warnings: tuple[tuple[str, str], ...] = ()  # (en, zh): known conflicts of this source with primary texts
    contradicts: tuple[tuple[str, int | None], ...] = ()  # the (doc_id, article) those conflicts name
    outdated_articles: tuple[tuple[int, str, str], ...] = ()  # (article_no, reason en, reason zh)
    statements: tuple[NoteStatement, ...] = ()  # project notes only
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """A retrievable unit: a whole article, a part of one, a guide section or a note statement."""

    chunk_id: str
    doc_id: str
    position: int
    text: str  # what is embedded and shown (header path repeated in front for long articles)
    title_path: str  # 《title》 › chapter › 第X条
    article_no: int | None = None
    part: int = 0  # >0 when an over-long article was split
    statement_id: str = ""  # for project-note statements
    language: str = "zh"
    context: str = ""  # searched with the text but not quoted (e.g. a note's question phrasings)
    annex: bool = False  # text after a regulation's last article (appendix), has no article_no
    # A facet is a second way to match a unit, never shown on its own: "question" (a FAQ heading, a note
    # statement's paraphrase), "sentence" (one sentence of an article) or "derived" (a question an article's clause
    # answers, read off its legal form: ``asked.py``; matched, never quoted). ``parent`` is the unit's chunk_id.
    facet: str = ""
    parent: str = ""

    @property
    def embed_text(self) -> str:
        """What is embedded and indexed lexically: the header path repeated before every part; a facet alone."""
        if self.facet:
            return self.text
        return "\n".join(p for p in (self.title_path, self.context, self.text) if p)


@dataclass(frozen=True)
class Match:
    """A facet of a unit (one question phrasing or one sentence) and its similarity to the question."""

    chunk: Chunk
    score: float  # cosine similarity
    z: float  # the same, standardised within its group for this question (retrieval.UnitMap.standardize)
    coverage: float = 0.0  # share of the question's concepts the facet and its heading path mention
    reverse: float = 0.0  # share of the facet's own concepts the question mentions (is it about this question?)


@dataclass(frozen=True, kw_only=True)
class Hit:
    """An answer unit returned by retrieval, with its fused score and the document it belongs to."""

    chunk: Chunk
    document: Document
    score: float
    dense_score: float | None = None  # the unit's best chunk (text or facet), cosine
    lexical_score: float | None = None
    # How well the unit answers the question: its question phrasing closest to the question (a FAQ heading,
    # a note paraphrase: question-to-question) and its sentence closest to it (question-to-answer).
    question: Match | None = None
    sentence: Match | None = None
    derived: Match | None = None  # its closest derived question (``asked.py``): why an article ranks where it does
    coverage: float | None = None  # share of the question's concepts found anywhere in the unit (coverage.py)
    missing: float = 0.0  # idf of the rarest question concept the unit does not mention


@dataclass(frozen=True, kw_only=True)
class Citation:
    """One numbered source of an answer. ``quote`` appears verbatim in the cited document."""

    n: int
    doc_id: str
    article_no: int | None
    title: str
    title_en: str
    quote: str
    kind: Kind
    status: Status
    version: str = ""
    date_effective: date | None = None
    chunk_id: str = ""
    partial: bool = False
    warning: str = ""  # shown when the source conflicts with a primary text or is outdated
    provider: str = ""  # guides: the provider ("Tencent Cloud"); empty for primary texts and notes
    section: str = ""  # guides: the section heading path inside the page ("备案号 › 什么是 ICP 备案号？")


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What ``Assistant.ask`` returns. ``markdown`` carries [n] markers that resolve to ``citations``."""

    question: str
    language: str  # "en" or "zh"
    verdict: str | None
    points: tuple[str, ...]
    citations: tuple[Citation, ...]
    abstained: bool
    retrieved: tuple[Hit, ...] = ()
    notices: tuple[str, ...] = ()  # e.g. "question truncated", "LLM failed, extractive answer shown"
    mode: str = "extractive"
    as_of: date | None = None
    # which kind of unit answered: "note" (a note statement's verdict), "faq" (a guide's question block),
    # "article" (a sentence of a primary text), "none" (no unit answers: related reading only), "" (abstained)
    lead_from: str = ""
    lead_unit: str = ""  # chunk_id of the unit that leads ("" when none does): what an expert's reading is keyed on
    related: tuple[str, ...] = ()  # close questions the corpus answers, in the answer's language
    ranked: tuple[Hit, ...] = ()  # retrieval's own ranking, before note routing (``retrieved`` is routed)
    # When the question describes a scenario: the regime finder's facts and obligations (assistant/regime)
    regime: Any = None
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
