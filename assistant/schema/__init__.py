"""Typed schemas (pydantic) of every file a corpus author writes, and the problems they report.

One model per file kind: ``NoteFile`` (``corpus/notes/*.yml``), ``RegistryFile`` (``corpus/registry.yml``),
``GlossaryFile`` (``corpus/glossary.yml``), ``EvalItemSpec`` (a line of ``evals/datasets/*.jsonl``),
``LeadJudgmentSpec`` (a line of ``evals/judgments/*.jsonl``); the regime model has its own in
``assistant/regime/model.py``. Loaders validate with these models and then convert to the frozen records the rest
of the code uses. Every problem is a ``Problem``: one line naming the
file, the line, the entry, the field and the fix. ``export`` writes the JSON Schema files in docs/schemas.
"""

from .base import LineMap, Problem, SchemaError, display_path, issue
from .describe import problems_of
from .eval_item import ContextRefSpec, EvalItemSpec, LeadJudgmentSpec, TagsSpec
from .note import NoteCiteSpec, NoteFile, StatementSpec, note_statements, validate_note
from .registry import GlossaryFile, RegistryFile, validate_data_file

__all__ = [
    "ContextRefSpec", "EvalItemSpec", "GlossaryFile", "LeadJudgmentSpec", "LineMap", "NoteCiteSpec", "NoteFile", "Problem",
    "RegistryFile", "SchemaError", "StatementSpec", "TagsSpec", "display_path", "issue", "note_statements",
    "problems_of", "validate_data_file", "validate_note",
]
