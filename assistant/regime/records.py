"""The frozen records the regime finder hands on: facts used, one outcome per obligation, what-ifs, a question."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .model import Status


class FactSource(StrEnum):
    """Where a fact's value came from."""

    STATED = "stated"  # recognised in the question; ``span`` is the matching text
    GIVEN = "given"  # passed explicitly (CLI flag, an answer button)
    ASSUMED = "assumed"  # the model's documented default


@dataclass(frozen=True)
class FactValue:
    fact: str
    values: tuple[str, ...]
    source: FactSource
    span: str = ""  # the words of the question that stated it
    detail: str = ""  # e.g. "30%" behind foreign-share up-to-50
    label_en: str = ""  # the value(s), e.g. "in mainland China"
    label_zh: str = ""
    name_en: str = ""  # the fact, e.g. "Servers"
    name_zh: str = ""


@dataclass(frozen=True)
class Cite:
    """One source of an outcome. ``kind``: doc | instrument | note; ``practice``: a provider guide."""

    kind: str
    ref: str  # doc_id, registry instrument id or note statement id
    article: int | None = None
    verified: bool = True
    practice: bool = False
    label_en: str = ""
    label_zh: str = ""


@dataclass(frozen=True)
class Position:
    source: str  # official-guidance | common-practice
    status: Status
    view_en: str
    view_zh: str
    cites: tuple[Cite, ...]


@dataclass(frozen=True)
class ConflictView:
    """Official guidance and common practice disagree on this outcome."""

    id: str
    title_en: str
    title_zh: str
    positions: tuple[Position, ...]
    resolution_en: str
    resolution_zh: str
    registry_conflict: str = ""


@dataclass(frozen=True)
class Outcome:
    """One row of the answer: an obligation, its status for these facts, why, and the sources."""

    obligation: str
    label_en: str
    label_zh: str
    status: Status
    reason_en: str
    reason_zh: str
    cites: tuple[Cite, ...]
    rule: str
    conditions_en: str = ""
    conditions_zh: str = ""
    conflict: ConflictView | None = None


@dataclass(frozen=True)
class StatusChange:
    """One row whose status differs; ``None``: the row is not shown in that case (e.g. a sector approval)."""

    obligation: str
    label_en: str
    label_zh: str
    before: Status | None
    after: Status | None


@dataclass(frozen=True)
class Change:
    """What changes if an assumed fact had another value."""

    fact: str
    assumed: tuple[str, ...]
    alternative: tuple[str, ...]
    changes: tuple[StatusChange, ...]
    alternative_en: str = ""
    alternative_zh: str = ""
    name_en: str = ""
    name_zh: str = ""


@dataclass(frozen=True)
class Option:
    value: str
    label_en: str
    label_zh: str


@dataclass(frozen=True)
class FollowUp:
    """One short question for the most important missing fact, with answer options (for buttons)."""

    fact: str
    question_en: str
    question_zh: str
    options: tuple[Option, ...]
    multiple: bool = False


@dataclass(frozen=True)
class RegimeResult:
    question: str
    language: str  # "en" or "zh"
    facts: tuple[FactValue, ...]  # every fact of the model, in model order
    outcomes: tuple[Outcome, ...]  # the obligations shown for these facts, in model order
    what_if: tuple[Change, ...]  # assumed facts whose other values change an outcome
    missing: tuple[str, ...]  # those facts, most consequential first
    follow_up: FollowUp | None
