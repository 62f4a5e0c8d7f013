"""Load the evaluation question set (``evals/datasets/*.jsonl``) into frozen ``EvalItem`` records.

One JSON object per line, validated by ``assistant.schema.EvalItemSpec``. Every line is checked and every
problem is reported (``read_dataset`` returns them; ``load_dataset`` raises ``DatasetError`` listing them),
each naming the file, the line, the item and the field. Nothing is skipped silently (a blank line is an
error too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from assistant.errors import AssistantError
from assistant.schema import EvalItemSpec, LeadJudgmentSpec, Problem, issue, problems_of

SPLITS = ("dev", "test")
LANGUAGES = ("en", "zh")
DIFFICULTIES = ("easy", "medium", "hard")


class DatasetError(AssistantError):
    """An evaluation dataset file cannot be used (message names the file, the line and the problem)."""


@dataclass(frozen=True)
class ContextRef:
    """One gold source: a document and, optionally, an article (``None`` = any part of the document)."""

    doc_id: str
    article_no: int | None = None


@dataclass(frozen=True, kw_only=True)
class ItemTags:
    topic: str
    difficulty: str  # easy | medium | hard
    language: str  # en | zh
    split: str  # dev | test


@dataclass(frozen=True, kw_only=True)
class EvalItem:
    """One question with its reference answer and gold sources. ``verdict`` is None for abstentions."""

    id: str
    user_input: str
    reference: str
    verdict: str | None
    key_facts: tuple[str, ...]
    reference_context_ids: tuple[ContextRef, ...]
    tags: ItemTags
    as_of: date | None = None

    @property
    def should_abstain(self) -> bool:
        return self.verdict is None and not self.reference_context_ids


def load_dataset(path: str | Path, split: str | None = None) -> list[EvalItem]:
    """Read every item of ``path``; keep only ``split`` ("dev" or "test") when given."""
    if split is not None and split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}. Expected one of: {', '.join(SPLITS)}")
    items, problems = read_dataset(path)
    if problems:
        raise DatasetError("\n".join(str(p) for p in problems))
    return [item for item in items if split is None or item.tags.split == split]


def read_dataset(path: str | Path) -> tuple[list[EvalItem], list[Problem]]:
    """Every valid item of ``path`` and every problem of the others (one per field, with the line)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), issue("", "", f"cannot read dataset file: {exc}", "check the path"))]
    items: list[EvalItem] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(lines, start=1):
        item, found = parse_line(path, line_no, line)
        problems.extend(found)
        if item is None:
            continue
        if item.id in seen:
            problems.append(Problem(str(path), issue(f"item '{item.id}'", "id", f"duplicate id (first on line {seen[item.id]})",
                                                     "give each item its own id"), line_no))
            continue
        seen[item.id] = line_no
        items.append(item)
    return items, problems


def parse_line(path: Path, line_no: int, line: str) -> tuple[EvalItem | None, list[Problem]]:
    """The item on one line, or the problems that keep it from being one."""
    spec, problems = validated(path, line_no, line, EvalItemSpec, "id")
    return (eval_item(spec) if spec is not None else None), problems


Spec = TypeVar("Spec", bound=BaseModel)


def validated(path: Path, line_no: int, line: str, model: type[Spec], name: str) -> tuple[Spec | None, list[Problem]]:
    """The object on one JSONL line validated as ``model`` (``name``: the field that names it in a problem), or
    the problems that keep it from being one."""
    def problem(text: str, fix: str) -> tuple[None, list[Problem]]:
        return None, [Problem(str(path), issue("", "", text, fix), line_no)]

    if not line.strip():
        return problem("blank line", "remove it (one JSON object per line)")
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        return problem(f"invalid JSON: {exc.msg} (column {exc.colno})", "fix the JSON syntax of this line")
    if not isinstance(raw, dict):
        return problem(f"expected a JSON object, got {type(raw).__name__}", f'write one {{"{name}": ..., ...}} object per line')
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        ident = raw.get(name)
        where = f"item '{ident}'" if isinstance(ident, str) and ident.strip() else "item"
        return None, problems_of(exc, raw, path, where=where, line=line_no)


def eval_item(spec: EvalItemSpec) -> EvalItem:
    """The frozen record of a validated item."""
    tags = spec.tags
    return EvalItem(
        id=spec.id, user_input=spec.user_input, reference=spec.reference, verdict=spec.verdict,
        key_facts=spec.key_facts,
        reference_context_ids=tuple(ContextRef(r.doc_id, r.article_no) for r in spec.reference_context_ids),
        tags=ItemTags(topic=tags.topic, difficulty=tags.difficulty, language=tags.language, split=tags.split),
        as_of=spec.as_of,
    )


# What an expert's reading of a candidate lead is worth as a training label for the judge (``calibrate.py``).
JUDGMENT_VALUE = {"answers": 1.0, "partly": 0.5, "no": 0.0}


def load_judgments(path: str | Path) -> dict[tuple[str, str], str]:
    """(item id, unit chunk_id) -> label of every judgment in ``path`` (a ``*.jsonl`` file or a folder of them; a
    missing folder has none). Raises ``DatasetError`` listing every problem (``read_judgments``)."""
    labels, problems = read_judgments(path)
    if problems:
        raise DatasetError("\n".join(str(p) for p in problems))
    return labels


def read_judgments(path: str | Path) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    """The judgments of ``path`` and the problems of every line that is not one (a pair judged twice included)."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path] if path.exists() else []
    labels: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    for file in files:
        for line_no, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            spec, found = validated(file, line_no, line, LeadJudgmentSpec, "item")
            problems += found
            if spec is None:
                continue
            if (spec.item, spec.unit) in labels:
                problems.append(Problem(str(file), issue(f"item '{spec.item}'", "unit", f"{spec.unit} is judged twice",
                                                         "keep one judgment per item and unit"), line_no))
            labels[spec.item, spec.unit] = spec.label
    return labels, problems
