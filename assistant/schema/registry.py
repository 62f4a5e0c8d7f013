"""The schemas of ``corpus/registry.yml`` (instruments, versions, sources, conflicts) and ``corpus/glossary.yml``.

Shapes and the references inside one file (version labels, unique ids, a file in one version only) are
checked here; ``assistant.registry`` converts the validated models into its frozen records, and
``assistant.crosscheck`` checks the references into the corpus (files, articles, notes).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, StrictBool, ValidationError, ValidationInfo, field_validator

from assistant.models import Status

from .base import Article, Day, DocPath, Id, LineMap, Problem, SchemaError, Strict, Text, issue, read_yaml
from .describe import problems_of, register_fields

Label = Text  # a version label such as "2024": a string (quote it in YAML)
PrimaryKind = Literal["law", "administrative regulation", "department rule", "notice"]
SourceKind = Literal["provider guide", "blog"]
NotePath = DocPath


def _duplicates(values: list[str]) -> list[str]:
    return sorted(v for v, n in Counter(values).items() if n > 1)


class VersionSpec(Strict):
    version: Label = Field(description="version label, oldest first, e.g. \"2011\"")
    date_promulgated: Day | None = None
    date_effective: Day | None = None
    status: Status
    superseded_by: Label | None = Field(None, description="label of the newer version")
    files: tuple[DocPath, ...] = Field((), description="corpus paths of this version's text (none without full text)")


class OutdatedSpec(Strict):
    """Articles of a kept text that no longer state the law."""

    version: Label
    articles: tuple[Article, ...] = Field(min_length=1)
    reason_en: Text
    reason_zh: Text


class RenumberSpec(Strict):
    """Old article -> new article between two versions."""

    from_version: Label
    to_version: Label
    from_article: Article
    to_article: Article


class InstrumentSpec(Strict):
    id: Id
    title_zh: Text
    title_en: Text
    short_en: str = ""
    issuer: str = ""
    document_number: str = ""
    kind: PrimaryKind
    full_text: StrictBool = Field(False, description="a complete text of the version in force is in the corpus")
    versions: tuple[VersionSpec, ...] = Field(min_length=1)
    outdated_articles: tuple[OutdatedSpec, ...] = Field((), validate_default=True)
    renumbered: tuple[RenumberSpec, ...] = Field((), validate_default=True)
    notes: tuple[NotePath, ...] = Field(
        (), description="project notes about the instrument; the first stands in for a text that is missing")

    @field_validator("versions")
    @classmethod
    def _labels(cls, versions: tuple[VersionSpec, ...]) -> tuple[VersionSpec, ...]:
        labels = [v.version for v in versions]
        for dup in _duplicates(labels):
            raise ValueError(f"version {dup!r} is listed twice — give each version its own label")
        for v in versions:
            if v.superseded_by is not None and v.superseded_by not in labels:
                raise ValueError(f"version {v.version!r} is superseded_by {v.superseded_by!r}, which names no version "
                                 f"— use one of: {', '.join(labels)}")
        return versions

    @field_validator("outdated_articles", "renumbered")
    @classmethod
    def _known_versions(cls, entries: tuple[Any, ...], info: ValidationInfo) -> tuple[Any, ...]:
        labels = [v.version for v in info.data.get("versions", ())]
        if not labels:
            return entries
        for entry in entries:
            for label in (getattr(entry, "version", None), getattr(entry, "from_version", None),
                          getattr(entry, "to_version", None)):
                if label is not None and label not in labels:
                    raise ValueError(f"version {label!r} is not a version of this instrument — use one of: "
                                     f"{', '.join(labels)}")
        return entries


class SourceSpec(Strict):
    """A secondary source (provider guides, a blog); every shared guide file matches one of these."""

    id: Id
    title_en: str = ""
    issuer: str = ""
    kind: SourceKind
    files: tuple[Text, ...] = Field(min_length=1, description="glob patterns relative to a corpus root")


class ArticleRefSpec(Strict):
    doc: DocPath
    article: Article | None = None


class ConflictSpec(Strict):
    """A secondary source's claim that contradicts a primary text, and the warning shown with it."""

    id: Id
    doc: DocPath
    claim: str = ""
    contradicts: tuple[ArticleRefSpec, ...] = Field(min_length=1)
    warning_en: Text
    warning_zh: Text


class RegistryFile(Strict):
    """Every instrument and secondary source behind the corpus, and the known conflicts."""

    instruments: tuple[InstrumentSpec, ...] = Field(min_length=1)
    sources: tuple[SourceSpec, ...] = Field((), validate_default=True)
    conflicts: tuple[ConflictSpec, ...] = ()

    @field_validator("instruments")
    @classmethod
    def _one_version_per_file(cls, instruments: tuple[InstrumentSpec, ...]) -> tuple[InstrumentSpec, ...]:
        for dup in _duplicates([i.id for i in instruments]):
            raise ValueError(f"instrument id {dup!r} is used twice — give each instrument its own id")
        for dup in _duplicates([f for i in instruments for v in i.versions for f in v.files]):
            raise ValueError(f"file {dup!r} belongs to more than one version — list it under one version only")
        return instruments

    @field_validator("sources")
    @classmethod
    def _unique_ids(cls, sources: tuple[SourceSpec, ...], info: ValidationInfo) -> tuple[SourceSpec, ...]:
        ids = [i.id for i in info.data.get("instruments", ())] + [s.id for s in sources]
        for dup in _duplicates(ids):
            raise ValueError(f"id {dup!r} is used twice (instruments and sources share ids) — rename one")
        return sources

    @field_validator("conflicts")
    @classmethod
    def _unique_conflicts(cls, conflicts: tuple[ConflictSpec, ...]) -> tuple[ConflictSpec, ...]:
        for dup in _duplicates([c.id for c in conflicts]):
            raise ValueError(f"conflict id {dup!r} is used twice — rename one")
        return conflicts


class TermSpec(Strict):
    id: Id
    en: tuple[Text, ...] = Field(min_length=1, description="English aliases and common misspellings")
    zh: tuple[Text, ...] = Field(min_length=1, description="Chinese aliases")
    definition_en: Text
    definition_zh: Text


class GlossaryFile(Strict):
    """Bilingual terms; retrieval adds the other language's aliases of every term a question mentions."""

    terms: tuple[TermSpec, ...] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _unique_ids(cls, terms: tuple[TermSpec, ...]) -> tuple[TermSpec, ...]:
        for dup in _duplicates([t.id for t in terms]):
            raise ValueError(f"term id {dup!r} is used twice — merge the two terms or rename one")
        return terms


register_fields(RegistryFile, InstrumentSpec, VersionSpec, OutdatedSpec, RenumberSpec, SourceSpec, ArticleRefSpec,
                ConflictSpec, GlossaryFile, TermSpec)

M = TypeVar("M", RegistryFile, GlossaryFile)


def validate_data_file(path: str | Path, model: type[M]) -> tuple[M, LineMap]:
    """Read and validate ``registry.yml`` or ``glossary.yml``; ``SchemaError`` lists every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError([Problem(str(path), issue("", "", f"cannot read ({exc})", "check the path"))]) from None
    raw = read_yaml(text, path)
    if not isinstance(raw, dict):
        raise SchemaError([Problem(str(path), issue("", "", "expected a mapping at the top level",
                                                    f"start with '{next(iter(model.model_fields))}:'"), 1)])
    lines = LineMap(text)
    try:
        return model.model_validate(raw), lines
    except ValidationError as exc:
        raise SchemaError(problems_of(exc, raw, path, lines)) from None
