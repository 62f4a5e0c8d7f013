"""Registry and glossary: the project's data about the corpus, not corpus text.

``load_registry`` reads ``corpus/registry.yml`` (instruments, their versions and files, the notes that stand
in for missing texts, secondary sources, known conflicts) and ``load_glossary`` reads ``corpus/glossary.yml``
(bilingual terms). Both validate with the schemas of ``assistant.schema`` and convert to the frozen records
below. Ingest uses the registry to attach status, supersession and warnings to documents; retrieval uses the
glossary to expand a question with the other language's terms. A malformed file raises ``SchemaError`` (a
``CorpusError``) with one line per problem, each naming the path, the line and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

from assistant.models import Kind, Status
from assistant.schema import GlossaryFile, RegistryFile, validate_data_file
from assistant.schema.registry import InstrumentSpec


@dataclass(frozen=True)
class Version:
    """One version of an instrument. ``superseded_by`` is the doc_id of the newer version's text, if any."""

    instrument_id: str
    version: str
    status: Status
    date_promulgated: date | None
    date_effective: date | None
    files: tuple[str, ...]
    superseded_by_version: str = ""
    superseded_by: str = ""


@dataclass(frozen=True)
class OutdatedArticles:
    version: str
    articles: tuple[int, ...]
    reason_en: str
    reason_zh: str


@dataclass(frozen=True)
class Renumbering:
    from_version: str
    to_version: str
    from_article: int
    to_article: int


@dataclass(frozen=True)
class Instrument:
    id: str
    title_zh: str
    title_en: str
    short_en: str
    issuer: str
    document_number: str
    kind: Kind
    full_text: bool
    versions: tuple[Version, ...]
    outdated_articles: tuple[OutdatedArticles, ...] = ()
    renumbered: tuple[Renumbering, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A secondary source (provider guides, a blog); ``files`` are glob patterns."""

    id: str
    kind: Kind
    files: tuple[str, ...]
    title_en: str = ""
    issuer: str = ""


@dataclass(frozen=True)
class ArticleRef:
    doc: str
    article: int | None


@dataclass(frozen=True)
class Conflict:
    id: str
    doc: str
    claim: str
    contradicts: tuple[ArticleRef, ...]
    warning_en: str
    warning_zh: str


@dataclass(frozen=True)
class Registry:
    instruments: tuple[Instrument, ...]
    sources: tuple[Source, ...]
    conflicts: tuple[Conflict, ...]

    def instrument(self, instrument_id: str) -> Instrument | None:
        return next((i for i in self.instruments if i.id == instrument_id), None)

    def instrument_for(self, doc_id: str) -> Instrument | Source | None:
        """The instrument whose versions hold ``doc_id`` (or that the note ``doc_id`` is about), else the
        matching source."""
        version = self.version_for(doc_id)
        if version is not None:
            return self.instrument(version.instrument_id)
        owner = self.note_owner(doc_id)
        if owner is not None:
            return owner
        return next((s for s in self.sources if any(fnmatchcase(doc_id, p) for p in s.files)), None)

    @property
    def stand_in_notes(self) -> dict[str, str]:
        """Instrument id -> doc_id of the project note that stands in for its missing text (the first of its
        ``notes:``), for every instrument without full text that names one. A citation of such an instrument
        (``{instrument: miit-order-42, article: 5}``) is quoted from this note."""
        return {i.id: i.notes[0] for i in self.instruments if i.notes and not i.full_text}

    def stand_in_note(self, instrument_id: str) -> str | None:
        """doc_id of the note that stands in for the instrument's missing text, or None."""
        return self.stand_in_notes.get(instrument_id)

    def note_owner(self, note_id: str) -> Instrument | None:
        """The instrument a note is about: the one it stands in for, else the first whose ``notes:`` list it."""
        listing = [i for i in self.instruments if note_id in i.notes]
        stand_in = next((i for i in listing if not i.full_text and i.notes[0] == note_id), None)
        return stand_in or (listing[0] if listing else None)

    def version_for(self, doc_id: str) -> Version | None:
        return next((v for i in self.instruments for v in i.versions if doc_id in v.files), None)

    def conflicts_for(self, doc_id: str) -> tuple[Conflict, ...]:
        return tuple(c for c in self.conflicts if c.doc == doc_id)

    def _located(self, doc_id: str) -> tuple[Version, Instrument] | None:
        version = self.version_for(doc_id)
        instrument = self.instrument(version.instrument_id) if version else None
        return (version, instrument) if version and instrument else None

    def outdated_reason(self, doc_id: str, article_no: int, lang: str = "en") -> str | None:
        """Why ``article_no`` of this text no longer states the law, or None."""
        located = self._located(doc_id)
        entries = located[1].outdated_articles if located else ()
        return next((e.reason_zh if lang.startswith("zh") else e.reason_en for e in entries
                     if located and e.version == located[0].version and article_no in e.articles), None)

    def renumbered_to(self, doc_id: str, article_no: int) -> int | None:
        """The article number ``article_no`` of this (older) text has in the newer version, or None."""
        located = self._located(doc_id)
        moves = located[1].renumbered if located else ()
        return next((m.to_article for m in moves
                     if located and m.from_version == located[0].version and m.from_article == article_no), None)


@dataclass(frozen=True)
class Term:
    id: str
    en: tuple[str, ...]
    zh: tuple[str, ...]
    definition_en: str
    definition_zh: str


def _alias_body(alias: str, lang: str) -> str:
    if lang == "zh":
        return re.escape(alias)
    # between the words of a name: spaces, hyphens, or a bracket ("police (public security) filing")
    return "".join(r"[\s\-()（）]*" if ch in " -" else "['’]?" if ch in "'’" else re.escape(ch) for ch in alias)


def _needle(alias: str) -> str:
    """The longest run of an alias that its pattern matches literally (``_alias_body`` makes spaces, hyphens,
    brackets and apostrophes optional), casefolded: a text that lacks it cannot match the alias."""
    return max(re.split(r"[ \-'’]+", alias.casefold()), key=len)


def _term_pattern(aliases: tuple[str, ...], lang: str) -> re.Pattern[str] | None:
    """One pattern for all aliases of a term in one language, longest first (so the longest alias wins
    where several start at the same place); English aliases match whole words only."""
    if not aliases:
        return None
    body = "|".join(_alias_body(a, lang) for a in sorted(aliases, key=len, reverse=True))
    return re.compile(body if lang == "zh" else rf"(?<![0-9A-Za-z])(?:{body})(?![0-9A-Za-z])", re.IGNORECASE)


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    # (term, language, pattern of all its aliases in that language), compiled once; the record stays frozen
    _patterns: tuple[tuple[Term, str, re.Pattern[str]], ...] = field(default=(), init=False, repr=False, compare=False)
    # the same patterns by term (``mentions`` runs once per unit text and term: a scan of every pattern there
    # cost 1.5 s of the first question on the full corpus)
    _by_term: dict[int, tuple[re.Pattern[str], ...]] = field(default_factory=dict, init=False, repr=False,
                                                            compare=False)
    # per term, one piece of each alias that any match must contain (casefolded): a plain ``in`` rules out most
    # texts before a pattern runs (the document frequencies of a question's terms: 0.40 s -> 0.13 s)
    _needles: dict[int, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = tuple((t, lang, p) for t in self.terms for lang, names in (("en", t.en), ("zh", t.zh))
                         if (p := _term_pattern(names, lang)) is not None)
        object.__setattr__(self, "_patterns", patterns)
        for term, _, pattern in patterns:
            self._by_term[id(term)] = (*self._by_term.get(id(term), ()), pattern)
        for term in self.terms:
            self._needles[id(term)] = tuple({_needle(a) for a in (*term.en, *term.zh)} - {""})

    def spans(self, text: str) -> list[tuple[int, int, Term, str]]:
        """Non-overlapping (start, end, term, language) matches in text order; longer matches win."""
        found = [(m.start(), m.end(), t, lang) for t, lang, p in self._patterns for m in p.finditer(text)]
        kept: list[tuple[int, int, Term, str]] = []
        for start, end, term, lang in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
            if end > start and all(end <= s or start >= e for s, e, _, _ in kept):
                kept.append((start, end, term, lang))
        return sorted(kept, key=lambda f: f[0])

    def mentions(self, term: Term, text: str) -> bool:
        """Whether ``text`` mentions ``term`` under any of its aliases, in either language."""
        folded = text.casefold()
        if not any(needle in folded for needle in self._needles.get(id(term), ())):
            return False
        return any(p.search(text) for p in self._by_term.get(id(term), ()))

    def _matches(self, text: str) -> list[tuple[Term, str]]:
        return [(term, lang) for _, _, term, lang in self.spans(text)]

    def find(self, text: str) -> list[Term]:
        """Terms mentioned in ``text``, in order of appearance, each once."""
        return list({term.id: term for term, _ in self._matches(text)}.values())

    def canonical(self, text: str) -> list[str]:
        """The first English and Chinese name of every term matched in ``text`` (a short gloss)."""
        return list(dict.fromkeys(f"{t.en[0]} {t.zh[0]}" for t in self.find(text) if t.en and t.zh))

    def synonyms(self, text: str) -> list[str]:
        """The other Chinese names of the terms matched in Chinese ("网站备案" -> 备案, 非经营性互联网信息服务备案)."""
        names = [n for start, end, term, lang in self.spans(text) if lang == "zh" for n in term.zh
                 if n != text[start:end]]
        return list(dict.fromkeys(names))

    def expand(self, text: str) -> list[str]:
        """The zh aliases of terms matched in English and the en aliases of terms matched in Chinese."""
        names = [n for term, lang in self._matches(text) for n in (term.zh if lang == "en" else term.en)]
        return list(dict.fromkeys(names))


def _instrument(spec: InstrumentSpec) -> Instrument:
    first_file = {v.version: (v.files[0] if v.files else "") for v in spec.versions}
    versions = tuple(Version(spec.id, v.version, Status(v.status), v.date_promulgated, v.date_effective, v.files,
                             v.superseded_by or "", first_file.get(v.superseded_by or "", ""))
                     for v in spec.versions)
    return Instrument(
        spec.id, spec.title_zh, spec.title_en, spec.short_en, spec.issuer, spec.document_number, Kind(spec.kind),
        spec.full_text, versions,
        tuple(OutdatedArticles(o.version, o.articles, o.reason_en, o.reason_zh) for o in spec.outdated_articles),
        tuple(Renumbering(n.from_version, n.to_version, n.from_article, n.to_article) for n in spec.renumbered),
        spec.notes)


def registry_from(spec: RegistryFile) -> Registry:
    """The frozen records of a validated registry file."""
    return Registry(
        tuple(_instrument(i) for i in spec.instruments),
        tuple(Source(s.id, Kind(s.kind), s.files, s.title_en, s.issuer) for s in spec.sources),
        tuple(Conflict(c.id, c.doc, c.claim, tuple(ArticleRef(r.doc, r.article) for r in c.contradicts),
                       c.warning_en, c.warning_zh) for c in spec.conflicts))


def load_registry(path: str | Path) -> Registry:
    """Read and validate ``registry.yml``; ``SchemaError`` (a ``CorpusError``) lists every problem."""
    spec, _ = validate_data_file(path, RegistryFile)
    return registry_from(spec)


def load_glossary(path: str | Path) -> Glossary:
    """Read and validate ``glossary.yml``; ``SchemaError`` (a ``CorpusError``) lists every problem. The
    result is cached per file version: the assistant and the regime finder share one compiled glossary."""
    path = Path(path)
    return _load_glossary(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _load_glossary(path: Path, _mtime: int) -> Glossary:
    spec, _ = validate_data_file(path, GlossaryFile)
    return Glossary(tuple(Term(t.id, t.en, t.zh, t.definition_en, t.definition_zh) for t in spec.terms))
