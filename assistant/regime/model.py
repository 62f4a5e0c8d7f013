"""The regime model's typed schema: ``corpus/regime.yml`` -> ``RegimeModel`` (pydantic, frozen).

``load_regime_model`` reads the file, validates its shape with pydantic and its cross-references (facts and
values named in conditions, rule order, conflicts) by hand, and reports the first problem as a
``RegimeModelError`` naming the file, the rule (or fact, obligation, conflict) and the field. It never lets
a traceback through. Whether the cited documents and articles exist is checked against the corpus by
``regime.citations.check_citations``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from assistant.errors import CorpusError, RegimeModelError
from assistant.registry import Glossary, Registry, load_glossary, load_registry

from .conditions import Condition, fact_text, parse_condition
from .problems import describe_validation_error, find_problems

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's loader when present: ten times faster


class Status(StrEnum):
    """The outcome of one obligation for one scenario."""

    NEEDED = "needed"
    NOT_NEEDED = "not-needed"
    DEPENDS = "depends"
    NOT_POSSIBLE = "not-possible"


Id = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Value = Annotated[str, BeforeValidator(fact_text), Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
When = Annotated[Condition, PlainValidator(parse_condition)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Text(_Strict):
    """One short text in both languages."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


class CiteSpec(_Strict):
    """A corpus article, a provider guide (practice), a registry instrument without full text, or a note."""

    doc: str | None = None
    article: int | None = Field(default=None, ge=1)
    instrument: str | None = None
    verified: bool = True
    note: str | None = None
    practice: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> CiteSpec:
        kinds = [k for k in ("doc", "instrument", "note") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"a cite needs exactly one of doc, instrument, note. Got: {kinds or 'none'}")
        doc = self.doc or ""
        if doc.startswith("guides/") and not self.practice:
            raise ValueError(f"{doc} is a provider guide: mark it 'practice: true'")
        if self.practice and not doc.startswith("guides/"):
            raise ValueError("'practice: true' is only for provider guides (guides/...)")
        if doc.startswith("regulations/") and self.article is None:
            raise ValueError(f"{doc} is a regulation: cite an article")
        if self.note and self.article is not None:
            raise ValueError("a note is cited by statement id, without an article")
        return self


class RuleSpec(_Strict):
    id: Id
    when: When = Condition()
    status: Status
    reason: Text
    conditions: Text | None = None
    conflict: Id | None = None
    cites: tuple[CiteSpec, ...] = Field(min_length=1)


class ObligationSpec(_Strict):
    id: Id
    label: Text
    shown_when: When = Condition()
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


class ValueSpec(_Strict):
    id: Value
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    aliases: tuple[Annotated[str, BeforeValidator(fact_text)], ...] = ()

    def label(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


class FactSpec(_Strict):
    id: Id
    label: Text
    multiple: bool = False
    values: tuple[ValueSpec, ...] = Field(min_length=2)
    default: tuple[Value, ...]
    assumption: Text
    question: Text

    @model_validator(mode="before")
    @classmethod
    def _default_as_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default" in data and not isinstance(data["default"], list):
            return {**data, "default": [data["default"]]}
        return data

    def value(self, value_id: str) -> ValueSpec | None:
        return next((v for v in self.values if v.id == value_id), None)

    def resolve(self, text: str) -> str | None:
        """The value id for an id or alias (case-insensitive), else None."""
        key = text.strip().lower().replace("_", "-").replace(" ", "-")
        return next((v.id for v in self.values if key == v.id or key in (a.lower() for a in v.aliases)), None)


class DerivedValueSpec(_Strict):
    value: Value
    when: When = Condition()


class DerivedSpec(_Strict):
    id: Id
    label: Text
    values: tuple[DerivedValueSpec, ...] = Field(min_length=2)


class PositionSpec(_Strict):
    source: Id
    status: Status
    view: Text
    cites: tuple[CiteSpec, ...] = Field(min_length=1)


class ConflictSpec(_Strict):
    id: Id
    title: Text
    registry_conflict: Id | None = None
    positions: tuple[PositionSpec, ...] = Field(min_length=2)
    resolution: Text


class RegimeModel(_Strict):
    """The whole decision model; look-ups by id are the only behaviour (the engine evaluates it)."""

    version: int
    reviewed: date
    facts: tuple[FactSpec, ...] = Field(min_length=1)
    derived: tuple[DerivedSpec, ...] = ()
    obligations: tuple[ObligationSpec, ...] = Field(min_length=1)
    conflicts: tuple[ConflictSpec, ...] = ()
    _registry: Registry | None = PrivateAttr(default=None)  # titles for citation labels, when available
    _glossary: Glossary | None = PrivateAttr(default=None)  # extra aliases for fact extraction, when available

    @property
    def registry(self) -> Registry | None:
        return self._registry

    @property
    def glossary(self) -> Glossary | None:
        return self._glossary

    def fact(self, fact_id: str) -> FactSpec | None:
        return next((f for f in self.facts if f.id == fact_id), None)

    def obligation(self, obligation_id: str) -> ObligationSpec | None:
        return next((o for o in self.obligations if o.id == obligation_id), None)

    def conflict(self, conflict_id: str) -> ConflictSpec | None:
        return next((c for c in self.conflicts if c.id == conflict_id), None)

    def rules(self) -> list[tuple[ObligationSpec, RuleSpec]]:
        return [(o, r) for o in self.obligations for r in o.rules]


def load_regime_model(path: str | Path) -> RegimeModel:
    """Read and validate ``regime.yml``; any problem is a ``RegimeModelError`` naming file, entry and field.

    ``registry.yml`` and ``glossary.yml`` beside it, when present, supply the titles that citation labels
    show and extra aliases for fact extraction; without them labels fall back to ids.
    """
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RegimeModelError(f"{path}: cannot read YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise RegimeModelError(f"{path}: expected a mapping at the top level")
    try:
        model = RegimeModel.model_validate(raw)
    except ValidationError as exc:
        raise RegimeModelError(f"{path}: {describe_validation_error(raw, exc.errors()[0])}") from None
    problems = find_problems(model)
    if problems:
        raise RegimeModelError(f"{path}: {problems[0]}")
    try:
        if path.with_name("registry.yml").is_file():
            model._registry = load_registry(path.with_name("registry.yml"))
        if path.with_name("glossary.yml").is_file():
            model._glossary = load_glossary(path.with_name("glossary.yml"))
    except CorpusError as exc:
        raise RegimeModelError(f"cannot read the data beside {path}: {exc}") from None
    return model
