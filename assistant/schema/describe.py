"""Pydantic errors in the words of a corpus author: ``statement 'x': text.en: missing — add an English text``.

``describe`` finds the entry an error sits in (the nearest list item with an ``id``: ``statement 'x'``,
``instrument 'order-292'``) and the field below it, says what is wrong (with what was written) and how to
fix it. ``problems_of`` turns a whole ``ValidationError`` into ``Problem``s with YAML line numbers.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .base import LineMap, Problem, issue

# List fields whose items are entries with an id, and what such an entry is called.
ENTRIES = {"statements": "statement", "instruments": "instrument", "sources": "source", "conflicts": "conflict",
           "terms": "term"}
LANGUAGE = {"en": "English", "zh": "Chinese"}
# How to write a field right, by field name (the last part of its path).
HINTS = {
    "article": "write the article number as an integer, e.g. 'article: 5' (or 'article: null' for the whole document)",
    "article_no": "write the article number as an integer, e.g. 5 (or null for the whole document)",
    "articles": "write article numbers as integers, e.g. [12, 13]",
    "from_article": "write the article number as an integer",
    "to_article": "write the article number as an integer",
    "role": "use 'basis' (the statement rests on it) or 'support' (background for one point)",
    "verified": "write true or false",
    "outdated": "write true or false",
    "full_text": "write true or false",
    "scope": "use 'in' (the corpus answers it) or 'out' (a topic the assistant does not cover)",
    "questions": "write a list per language, e.g. en: [\"Does a personal blog need ICP filing?\"]",
    "id": "use lower-case letters, digits and hyphens, e.g. 'personal-blog-filing'",
    "instrument": "use an instrument id of corpus/registry.yml, e.g. 'miit-order-42'",
    "doc": "write a corpus path such as 'regulations/<file>.zh.md' or 'guides/<provider>/<file>.md'",
    "notes": "write note paths such as 'notes/instrument-miit-order-42.yml'",
    "version": "quote the version label, e.g. version: \"2024\"",
    "superseded_by": "quote the version label, e.g. superseded_by: \"2024\"",
    "from_version": "quote the version label, e.g. \"2016\"",
    "to_version": "quote the version label, e.g. \"2025\"",
}
_FIELD_NAMES: set[str] = set()  # every field of every schema, for "did you mean" (filled by register_fields)


def register_fields(*models: type) -> None:
    """Remember the field names of these models for spelling suggestions ("did you mean 'cites'?")."""
    for model in models:
        _FIELD_NAMES.update(getattr(model, "model_fields", {}))


def field_path(loc: Sequence[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def locate(raw: Any, loc: Sequence[str | int]) -> tuple[str, int]:
    """The entry (``statement 'x'``) an error at ``loc`` sits in, and where the field path below it starts."""
    node, where, start = raw, "", 0
    for i, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
            kind = ENTRIES.get(str(loc[i - 1])) if i else None
            if kind:
                ident = node.get("id") if isinstance(node, dict) else None
                where = f"{kind} '{ident}'" if isinstance(ident, str) and ident else f"{kind} {key + 1}"
                start = i + 1
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            break
    return where, start


def _missing_fix(loc: Sequence[str | int]) -> str:
    name = str(loc[-1]) if loc else ""
    parent = str(loc[-2]) if len(loc) > 1 else ""
    if name in LANGUAGE and parent == "questions":
        return f"add a list of {LANGUAGE[name]} questions"
    if name in LANGUAGE and parent:
        noun = parent.replace("_", " ")
        return f"add {'an' if name == 'en' else 'a'} {LANGUAGE[name]} {noun}"
    return f"add '{name}'" + (f"; {HINTS[name]}" if name in HINTS else "")


def _allowed(ctx: Mapping[str, Any]) -> str:
    return ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", "")))) or str(ctx.get("expected", ""))


def _got(value: Any, instead_of_list: bool = False) -> str:
    if isinstance(value, str):
        text = repr(value) if len(value) < 60 else repr(value[:57] + "...")
        return f"a single text {text}" if instead_of_list else text
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def explain(error: Mapping[str, Any]) -> tuple[str, str]:
    """(problem, fix) for one pydantic error."""
    kind, loc, value = str(error.get("type", "")), tuple(error.get("loc", ())), error.get("input")
    name = str(loc[-1]) if loc else ""
    hint = HINTS.get(name)
    if kind == "missing":
        return "missing", _missing_fix(loc)
    if kind == "extra_forbidden":
        return "unknown field", _unknown_fix(name)
    if kind == "string_too_short":
        return "empty", "write a text"
    if kind == "too_short":
        return "empty", "add at least one entry"
    if kind == "string_pattern_mismatch":
        return f"not a valid value (got {value!r})", hint or "see docs/schemas"
    if kind == "greater_than_equal":  # only article numbers have a minimum
        return f"must be at least {error.get('ctx', {}).get('ge')} (got {value!r})", "article numbers start at 1"
    if kind in ("literal_error", "enum"):
        return f"expected one of: {_allowed(error.get('ctx', {}))}. Got: {value!r}", hint or "use one of these"
    if kind.startswith("int_"):
        return f"not an integer (got {_got(value)})", hint or "write a whole number"
    if kind.startswith("bool_"):
        return f"not true or false (got {_got(value)})", "write true or false"
    if kind in ("tuple_type", "list_type"):
        example = f"write a list, e.g. [{json.dumps(value, ensure_ascii=False)}]" if isinstance(value, str) else ""
        return f"must be a list, not {_got(value, True)}", example or hint or "write a YAML list ('- item' lines or [a, b])"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of fields, not {_got(value)}", hint or "write 'key: value' lines under it"
    if kind.startswith("string_") or kind == "str_type":
        return f"not a text (got {_got(value)})", hint or "write a text (quote it if it looks like a number or date)"
    if kind.startswith("date_"):
        return f"not a date (got {value!r})", "write it as YYYY-MM-DD, e.g. 2026-11-28"
    # Our own validators write "<problem> — <fix>".
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    problem, _, fix = message.partition(" — ")
    return problem, fix or hint or "see the schema in docs/schemas"


def _unknown_fix(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(_FIELD_NAMES), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else "remove it or correct its name (see docs/schemas)"


def describe(raw: Any, error: Mapping[str, Any], where: str = "") -> tuple[str, tuple[str | int, ...]]:
    """The message for one error (``<entry>: <field>: <problem> — <fix>``) and the field path it is at."""
    loc = tuple(error.get("loc", ()))
    entry, start = locate(raw, loc)
    problem, fix = explain(error)
    return issue(entry or where, field_path(loc[start:]), problem, fix), loc


def _below(parent: Sequence[Any], loc: Sequence[Any]) -> bool:
    return len(loc) > len(parent) and tuple(loc[: len(parent)]) == tuple(parent)


def problems_of(exc: ValidationError, raw: Any, path: str | Path, lines: LineMap | None = None,
                where: str = "", line: int | None = None) -> list[Problem]:
    """One ``Problem`` per error, in file order, each with its YAML line (or the given ``line``)."""
    errors = exc.errors()
    problems = []
    for error in errors:
        if error["type"] == "too_short" and any(_below(error["loc"], other["loc"]) for other in errors):
            continue  # a list whose items are all invalid also counts as empty: say only what is wrong with them
        message, loc = describe(raw, error, where)
        problems.append(Problem(str(path), message, line if line is not None else lines.line(loc) if lines else None))
    return sorted(problems, key=lambda p: p.line or 0)
