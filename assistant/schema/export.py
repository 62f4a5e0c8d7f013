"""JSON Schema files generated from the models, for editors and reviewers (``docs/schemas/*.schema.json``).

``icp-assistant check --write-schemas`` writes them; a test checks that the committed files are what the
models generate, so the files never drift from the code.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from assistant.settings import PROJECT_ROOT

from .eval_item import EvalItemSpec, LeadJudgmentSpec
from .note import NoteFile
from .registry import GlossaryFile, RegistryFile

SCHEMA_DIR = PROJECT_ROOT / "docs" / "schemas"
SCHEMAS: dict[str, type[BaseModel]] = {
    "note.schema.json": NoteFile,
    "registry.schema.json": RegistryFile,
    "glossary.schema.json": GlossaryFile,
    "eval-item.schema.json": EvalItemSpec,
    "lead-judgment.schema.json": LeadJudgmentSpec,
}


def schema_text(model: type[BaseModel]) -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema()}
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def generated_schemas() -> dict[str, str]:
    """File name -> JSON Schema text, for every file kind an author writes."""
    return {name: schema_text(model) for name, model in SCHEMAS.items()}


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_schemas().items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written
