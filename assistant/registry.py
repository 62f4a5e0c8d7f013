"""Registry and glossary: the project's data about the corpus, not corpus text.

``load_registry`` reads ``corpus/registry.yml`` (instruments, their versions and files, secondary sources,
known conflicts) and ``load_glossary`` reads ``corpus/glossary.yml`` (bilingual terms). Ingest uses the
registry to attach status, supersession and warnings to documents; retrieval uses the glossary to expand a
question with the other language's terms. Malformed files raise ``CorpusError`` naming the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import CorpusError
from assistant.models import Kind, Status

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


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
        """The instrument whose versions hold ``doc_id`` (or whose note it is), else the matching source."""
        version = self.version_for(doc_id)
        if version is not None:
            return self.instrument(version.instrument_id)
        note = re.fullmatch(r"notes/instrument-(.+)\.yml", doc_id)
        if note and self.instrument(note.group(1)):
            return self.instrument(note.group(1))
        return next((s for s in self.sources if any(fnmatchcase(doc_id, p) for p in s.files)), None)

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


def _alias_pattern(alias: str, lang: str) -> re.Pattern[str]:
    if lang == "zh":
        return re.compile(re.escape(alias), re.IGNORECASE)
    body = "".join(r"[\s\-]*" if ch in " -" else "['’]?" if ch in "'’" else re.escape(ch) for ch in alias)
    return re.compile(rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])", re.IGNORECASE)


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    _aliases: tuple[tuple[Term, str, re.Pattern[str]], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        aliases = tuple((t, lang, _alias_pattern(a, lang)) for t in self.terms
                        for lang, names in (("en", t.en), ("zh", t.zh)) for a in names)
        object.__setattr__(self, "_aliases", aliases)  # compiled once; the record stays frozen

    def spans(self, text: str) -> list[tuple[int, int, Term, str]]:
        """Non-overlapping (start, end, term, language) matches in text order; longer matches win."""
        found = [(m.start(), m.end(), t, lang) for t, lang, p in self._aliases for m in p.finditer(text)]
        kept: list[tuple[int, int, Term, str]] = []
        for start, end, term, lang in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
            if end > start and all(end <= s or start >= e for s, e, _, _ in kept):
                kept.append((start, end, term, lang))
        return sorted(kept, key=lambda f: f[0])

    def mentions(self, term: Term, text: str) -> bool:
        """Whether ``text`` mentions ``term`` under any of its aliases, in either language."""
        return any(t is term and p.search(text) for t, _, p in self._aliases)

    def _matches(self, text: str) -> list[tuple[Term, str]]:
        return [(term, lang) for _, _, term, lang in self.spans(text)]

    def find(self, text: str) -> list[Term]:
        """Terms mentioned in ``text``, in order of appearance, each once."""
        return list({term.id: term for term, _ in self._matches(text)}.values())

    def canonical(self, text: str) -> list[str]:
        """The first English and Chinese name of every term matched in ``text`` (a short gloss)."""
        return list(dict.fromkeys(f"{t.en[0]} {t.zh[0]}" for t in self.find(text) if t.en and t.zh))

    def expand(self, text: str) -> list[str]:
        """The zh aliases of terms matched in English and the en aliases of terms matched in Chinese."""
        names = [n for term, lang in self._matches(text) for n in (term.zh if lang == "en" else term.en)]
        return list(dict.fromkeys(names))


class _Reader:
    """Reads one YAML file; every problem becomes a ``CorpusError`` naming the path."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise self.error(f"cannot read YAML ({exc})") from exc
        if not isinstance(data, dict):
            raise self.error("expected a mapping at the top level")
        self.data: dict[str, Any] = data

    def error(self, problem: str) -> CorpusError:
        return CorpusError(f"{self.path}: {problem}")

    def req(self, entry: Any, key: str, where: str) -> Any:
        if not isinstance(entry, dict) or entry.get(key) in (None, "", []):
            raise self.error(f"{where}: missing '{key}'")
        return entry[key]

    def enum(self, cls: type[Kind | Status], value: Any, where: str) -> Any:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise self.error(f"{where}: expected one of: {allowed}. Got: {value!r}") from None

    def date(self, value: Any, where: str) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.error(f"{where}: bad date {value!r}") from None

    def unique(self, ids: list[str], what: str) -> None:
        for bad in [i for i in ids if not _ID.match(i)] + sorted({i for i in ids if ids.count(i) > 1}):
            raise self.error(f"{what} id {bad!r} is not unique kebab-case")


def _instrument(r: _Reader, raw: Any) -> Instrument:
    iid = str(r.req(raw, "id", "instrument"))
    where = f"instrument {iid}"
    raw_versions = r.req(raw, "versions", where)
    first_file = {str(r.req(v, "version", where)): (v.get("files") or [""])[0] for v in raw_versions}
    versions = []
    for v in raw_versions:
        newer = str(v.get("superseded_by") or "")
        if newer and newer not in first_file:
            raise r.error(f"{where}: superseded_by {newer!r} names no version")
        versions.append(Version(iid, str(v["version"]), r.enum(Status, r.req(v, "status", where), where),
                                r.date(v.get("date_promulgated"), where), r.date(v.get("date_effective"), where),
                                tuple(v.get("files") or ()), newer, first_file.get(newer, "")))
    outdated = tuple(OutdatedArticles(str(o["version"]), tuple(int(a) for a in o["articles"]),
                                      o["reason_en"], o["reason_zh"]) for o in raw.get("outdated_articles") or ())
    renumbered = tuple(Renumbering(str(n["from_version"]), str(n["to_version"]), int(n["from_article"]),
                                   int(n["to_article"])) for n in raw.get("renumbered") or ())
    return Instrument(iid, str(r.req(raw, "title_zh", where)), str(r.req(raw, "title_en", where)),
                      str(raw.get("short_en", "")), str(raw.get("issuer", "")), str(raw.get("document_number", "")),
                      r.enum(Kind, r.req(raw, "kind", where), where), bool(raw.get("full_text", False)),
                      tuple(versions), outdated, renumbered, tuple(raw.get("notes") or ()))


def _conflict(r: _Reader, raw: Any) -> Conflict:
    where = f"conflict {r.req(raw, 'id', 'conflict')}"
    refs = tuple(ArticleRef(str(r.req(ref, "doc", where)), None if ref.get("article") is None else int(ref["article"]))
                 for ref in r.req(raw, "contradicts", where))
    return Conflict(str(raw["id"]), str(r.req(raw, "doc", where)), str(raw.get("claim", "")), refs,
                    str(r.req(raw, "warning_en", where)), str(r.req(raw, "warning_zh", where)))


def load_registry(path: str | Path) -> Registry:
    r = _Reader(path)
    try:
        instruments = tuple(_instrument(r, raw) for raw in r.req(r.data, "instruments", "top level"))
        sources = tuple(Source(str(r.req(s, "id", "source")), r.enum(Kind, s.get("kind"), f"source {s['id']}"),
                               tuple(r.req(s, "files", f"source {s['id']}")), str(s.get("title_en", "")),
                               str(s.get("issuer", ""))) for s in r.data.get("sources") or ())
        conflicts = tuple(_conflict(r, raw) for raw in r.data.get("conflicts") or ())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise r.error(f"malformed entry ({exc!r})") from exc
    r.unique([i.id for i in instruments] + [s.id for s in sources], "instrument/source")
    r.unique([c.id for c in conflicts], "conflict")
    files = [f for i in instruments for v in i.versions for f in v.files]
    for dup in sorted({f for f in files if files.count(f) > 1}):
        raise r.error(f"file {dup!r} belongs to more than one version")
    return Registry(instruments, sources, conflicts)


def load_glossary(path: str | Path) -> Glossary:
    r = _Reader(path)
    terms = []
    for raw in r.req(r.data, "terms", "top level"):
        where = f"term {r.req(raw, 'id', 'term')}"
        names = [r.req(raw, lang, where) for lang in ("en", "zh")]
        if not all(isinstance(v, list) and all(isinstance(a, str) and a for a in v) for v in names):
            raise r.error(f"{where}: 'en' and 'zh' must be lists of non-empty strings")
        terms.append(Term(str(raw["id"]), tuple(names[0]), tuple(names[1]),
                          str(r.req(raw, "definition_en", where)), str(r.req(raw, "definition_zh", where))))
    r.unique([t.id for t in terms], "term")
    return Glossary(tuple(terms))
