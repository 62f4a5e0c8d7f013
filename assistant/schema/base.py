"""What every schema shares: the ``Problem`` record, field types, YAML reading with line numbers.

A ``Problem`` is one line for the author: ``<file>:<line>: <entry>: <field>: <problem> — <fix>``. Line
numbers come from the YAML node marks (``yaml.compose``), read only when a problem needs one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from assistant.errors import CorpusError

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's loader when present: ten times faster
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


@dataclass(frozen=True)
class Problem:
    """One problem of one file, for its author: where it is and how to fix it."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = display_path(self.path) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.message}"


class SchemaError(CorpusError):
    """A file does not match its schema; ``problems`` has one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: str | Path) -> str:
    """``path`` relative to the working folder when it lies in it or beside it (``../shared/...``)."""
    text = str(path)
    if not os.path.isabs(text):
        return text
    try:
        relative = os.path.relpath(text)
    except ValueError:  # another drive (Windows)
        return text
    return relative if not relative.startswith("../..") else text


def issue(where: str, field: str, problem: str, fix: str) -> str:
    """``<entry>: <field>: <problem> — <fix>``; an empty entry or field is left out."""
    head = ": ".join(p for p in (where, field) if p)
    return f"{head}: {problem} — {fix}" if head else f"{problem} — {fix}"


def _date_input(value: Any) -> Any:
    """YAML gives dates as dates; JSON and quoted YAML as 'YYYY-MM-DD'. Nothing else (no timestamps)."""
    if isinstance(value, date) or value is None:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return value.strip()
    raise ValueError(f"not a date (got {value!r}) — write it as YYYY-MM-DD, e.g. 2026-11-28")


def _relative_path(value: str) -> str:
    if ".." in value.split("/"):
        raise ValueError(f"{value!r} leaves the corpus root — write the path relative to a corpus root, without '..'")
    return value


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
DocPath = Annotated[str, StringConstraints(pattern=r"^[^/\s]\S*$"), AfterValidator(_relative_path)]
Article = Annotated[int, Field(strict=True, ge=1)]
Day = Annotated[date, BeforeValidator(_date_input)]


class Strict(BaseModel):
    """Frozen, and an unknown field is an error (a misspelt key is never silently ignored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Bilingual(Strict):
    """One text in English and Chinese, both required."""

    en: Text = Field(description="English")
    zh: Text = Field(description="Chinese")


def read_yaml(text: str, path: str | Path) -> Any:
    """Parse YAML; a syntax error is a ``SchemaError`` with the line it is on."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        raise SchemaError([Problem(str(path), issue("", "", f"bad YAML: {problem}",
                                                    "fix the YAML syntax (indentation, quotes, brackets)"),
                                   line)]) from None


class LineMap:
    """Line numbers of the entries of one YAML text, by field path (``("statements", 3, "text", "en")``).

    For a path that does not exist (a missing field) it gives the line of the deepest entry that does.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._root: yaml.Node | None = None
        self._composed = False

    @classmethod
    def of_file(cls, path: str | Path) -> LineMap:
        try:
            return cls(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return cls("")

    def line(self, loc: Sequence[str | int]) -> int | None:
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self._text, Loader=SAFE_LOADER)
            except yaml.YAMLError:
                self._root = None
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if str(k.value) == str(key)), None)
                if found is None:
                    break
                line, node = found[0].start_mark.line + 1, found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line
