"""The schema of a knowledge note (``corpus/notes/*.yml``) and its conversion to ``NoteStatement``s.

``validate_note`` parses and validates one note file and reports every problem at once (``SchemaError``
with one ``Problem`` per field, each with its YAML line); ``note_statements`` turns the validated model into
the frozen records the rest of the code sees. Whether the cited documents and articles exist is checked
against the corpus by ``assistant.crosscheck``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, StrictBool, ValidationError, ValidationInfo, field_validator, model_validator

from assistant.models import NoteCite, NoteStatement

from .base import Article, Bilingual, Day, DocPath, Id, LineMap, Problem, SchemaError, Strict, Text, issue, read_yaml
from .describe import problems_of, register_fields


class Questions(Strict):
    """How people ask the statement, per language: lists (retrieval matches each phrasing)."""

    en: tuple[Text, ...] = Field(min_length=1, description="English phrasings")
    zh: tuple[Text, ...] = Field(min_length=1, description="Chinese phrasings")


class NoteCiteSpec(Strict):
    """A cited source: a corpus document (and article), or a registry instrument without full text."""

    doc: DocPath | None = Field(None, description="doc_id of a corpus file, e.g. regulations/<file>.zh.md")
    instrument: Id | None = Field(None, description="registry id of an instrument without full text")
    article: Article | None = Field(None, description="article number (第X条); null for the whole document")
    verified: StrictBool = Field(True, description="false: the article number was not read in a primary text")
    role: Literal["basis", "support"] = Field(
        "basis", description="basis: the statement rests on it; support: background for one point")
    outdated: StrictBool = Field(
        False, description="true: cites a superseded version or an article the registry marks outdated, on purpose")

    @model_validator(mode="after")
    def _doc_or_instrument(self) -> NoteCiteSpec:
        if bool(self.doc) == bool(self.instrument):
            raise ValueError("a cite needs exactly one of 'doc' and 'instrument' — write doc: <corpus path> "
                             "or instrument: <registry id>")
        return self


class StatementSpec(Strict):
    id: Id = Field(description="unique across all notes, kebab-case")
    questions: Questions
    verdict: Bilingual | None = Field(None, description="the direct answer, leading with Yes/No/It depends/a figure")
    text: Bilingual = Field(description="1-3 plain-language sentences, own wording")
    scope: Literal["in", "out"] = Field("in", description="out: a topic the assistant does not cover")
    cites: tuple[NoteCiteSpec, ...] = Field((), validate_default=True)

    @field_validator("cites")
    @classmethod
    def _has_basis(cls, cites: tuple[NoteCiteSpec, ...], info: ValidationInfo) -> tuple[NoteCiteSpec, ...]:
        if info.data.get("scope", "in") == "in" and not any(c.role == "basis" for c in cites):
            raise ValueError("an in-scope statement needs at least one cite with role 'basis' — add the source the "
                             "statement rests on (or set 'scope: out')")
        return cites


class NoteFile(Strict):
    """One knowledge note: bilingual statements with verdicts and article citations."""

    id: Id = Field(description="the file name without .yml")
    title_en: Text
    title_zh: Text
    kind: Literal["project note"]
    authority: Text = Field(description="how the note ranks, e.g. 'Project note: ranks below primary texts ...'")
    reviewed: Day = Field(description="when the facts were last checked (YYYY-MM-DD)")
    checked_against: tuple[Text, ...] = Field(min_length=1, description="what the facts were checked against")
    statements: tuple[StatementSpec, ...] = Field(min_length=1)


register_fields(NoteFile, StatementSpec, Questions, NoteCiteSpec, Bilingual)


def validate_note(text: str, path: str | Path) -> NoteFile:
    """The validated note, or ``SchemaError`` listing every problem (file, line, statement, field, fix)."""
    raw = read_yaml(text, path)
    if not isinstance(raw, dict):
        raise SchemaError([Problem(str(path), issue("", "", "a note must be a mapping of fields",
                                                    "start with 'id:', 'title_en:', ... 'statements:'"), 1)])
    try:
        return NoteFile.model_validate(raw)
    except ValidationError as exc:
        raise SchemaError(problems_of(exc, raw, path, LineMap(text))) from None


def note_statements(note: NoteFile) -> tuple[NoteStatement, ...]:
    return tuple(NoteStatement(
        id=s.id,
        questions={"en": s.questions.en, "zh": s.questions.zh},
        verdict={"en": s.verdict.en, "zh": s.verdict.zh} if s.verdict else {},
        text={"en": s.text.en, "zh": s.text.zh},
        cites=tuple(NoteCite(doc=c.doc or "", article=c.article, instrument=c.instrument or "", verified=c.verified,
                             role=c.role, outdated=c.outdated) for c in s.cites),
        in_scope=s.scope == "in",
    ) for s in note.statements)
