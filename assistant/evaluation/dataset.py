"""Load the evaluation question set (``evals/datasets/*.jsonl``) into frozen ``EvalItem`` records.

One JSON object per line. Every line is checked; the first bad one raises ``DatasetError`` naming the file
and the line number. Nothing is skipped silently (a blank line is an error too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

SPLITS = ("dev", "test")
LANGUAGES = ("en", "zh")
DIFFICULTIES = ("easy", "medium", "hard")
REQUIRED_FIELDS = ("id", "user_input", "reference", "verdict", "key_facts", "reference_context_ids", "tags")
OPTIONAL_FIELDS = ("as_of",)
TAG_FIELDS = ("topic", "difficulty", "language", "split")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DatasetError(AssistantError):
    """An evaluation dataset file cannot be used (message names the file, the line and the problem)."""


class _Invalid(Exception):
    """A field problem; turned into a DatasetError carrying the file and line."""


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
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read dataset file: {exc}") from exc
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(lines, start=1):
        item = _parse_line(path, line_no, line)
        if item.id in seen:
            raise DatasetError(f"{path}:{line_no}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = line_no
        items.append(item)
    return [item for item in items if split is None or item.tags.split == split]


def _parse_line(path: Path, line_no: int, line: str) -> EvalItem:
    where = f"{path}:{line_no}"
    if not line.strip():
        raise DatasetError(f"{where}: blank line (one JSON object per line expected)")
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    try:
        return _build_item(raw)
    except _Invalid as exc:
        raise DatasetError(f"{where}: {exc}") from exc


def _build_item(raw: Mapping[str, Any]) -> EvalItem:
    missing = [name for name in REQUIRED_FIELDS if name not in raw]
    if missing:
        raise _Invalid(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise _Invalid(f"unknown field(s): {', '.join(unknown)}")
    verdict = raw["verdict"]
    if verdict is not None:
        verdict = _text(raw, "verdict")
    return EvalItem(
        id=_text(raw, "id"),
        user_input=_text(raw, "user_input"),
        reference=_text(raw, "reference"),
        verdict=verdict,
        key_facts=_key_facts(raw["key_facts"]),
        reference_context_ids=_context_refs(raw["reference_context_ids"]),
        tags=_tags(raw["tags"]),
        as_of=_as_of(raw.get("as_of")),
    )


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw[name]
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"field {name!r} must be a non-empty string, got {value!r}")
    return value


def _key_facts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(f, str) and f.strip() for f in value):
        raise _Invalid(f"field 'key_facts' must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _context_refs(value: Any) -> tuple[ContextRef, ...]:
    if not isinstance(value, list):
        raise _Invalid(f"field 'reference_context_ids' must be a list, got {type(value).__name__}")
    refs = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"doc_id", "article_no"}:
            raise _Invalid(f"reference_context_ids[{i}] must be an object with exactly doc_id and article_no")
        doc_id, article_no = entry["doc_id"], entry["article_no"]
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise _Invalid(f"reference_context_ids[{i}].doc_id must be a non-empty string, got {doc_id!r}")
        # bool is an int subclass; reject it explicitly
        if article_no is not None and (isinstance(article_no, bool) or not isinstance(article_no, int)):
            raise _Invalid(f"reference_context_ids[{i}].article_no must be an integer or null, got {article_no!r}")
        if article_no is not None and article_no < 1:
            raise _Invalid(f"reference_context_ids[{i}].article_no must be >= 1, got {article_no}")
        refs.append(ContextRef(doc_id, article_no))
    return tuple(refs)


def _tags(value: Any) -> ItemTags:
    if not isinstance(value, dict):
        raise _Invalid(f"field 'tags' must be an object, got {type(value).__name__}")
    missing = [name for name in TAG_FIELDS if name not in value]
    if missing:
        raise _Invalid(f"tags: missing field(s): {', '.join(missing)}")
    for name in TAG_FIELDS:
        if not isinstance(value[name], str) or not value[name].strip():
            raise _Invalid(f"tags.{name} must be a non-empty string, got {value[name]!r}")
    for name, allowed in (("difficulty", DIFFICULTIES), ("language", LANGUAGES), ("split", SPLITS)):
        if value[name] not in allowed:
            raise _Invalid(f"tags.{name} {value[name]!r} is not allowed. Expected one of: {', '.join(allowed)}")
    return ItemTags(topic=value["topic"], difficulty=value["difficulty"], language=value["language"],
                    split=value["split"])


def _as_of(value: Any) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise _Invalid(f"field 'as_of' must be a 'YYYY-MM-DD' string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:  # e.g. 2020-02-30
        raise _Invalid(f"field 'as_of' must be a 'YYYY-MM-DD' date, got {value!r}") from None
