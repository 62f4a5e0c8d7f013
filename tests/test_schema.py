"""The schemas of the files authors write (assistant/schema): models, messages, conversion, JSON Schema files."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from assistant.corpus import parse_note
from assistant.errors import CorpusError
from assistant.evaluation.dataset import DatasetError, load_dataset
from assistant.models import NoteCite
from assistant.registry import load_glossary, load_registry
from assistant.schema import SchemaError, display_path, validate_note
from assistant.schema.export import SCHEMA_DIR, generated_schemas
from tests.tiny_corpus import ITEM, NOTE, REGISTRY

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT / "corpus"


def note_problems(text: str) -> list[str]:
    with pytest.raises(SchemaError) as raised:
        validate_note(text, "n.yml")
    return [str(p) for p in raised.value.problems]


# --- notes -------------------------------------------------------------------------------------------------

def test_a_valid_note_becomes_frozen_statements_with_its_cites() -> None:
    doc = parse_note(NOTE, doc_id="notes/filing.yml", root=Path("/c"))
    first, second = doc.statements
    assert first.questions == {"en": ("Do I need a test filing?", "Is the test filing required?"),
                               "zh": ("需要测试备案吗？",)}
    assert first.verdict["en"].startswith("Yes — ") and second.verdict == {}
    assert first.cites == (NoteCite(doc="regulations/test-measures-2020.zh.md", article=2),
                           NoteCite(instrument="test-notice", article=None, verified=False, role="support"))
    assert doc.title == "测试备案" and doc.title_en == "Test filing" and doc.date_effective == date(2026, 11, 28)
    assert all(first.text[lang] in doc.body for lang in ("en", "zh"))


def test_questions_written_as_one_string_are_an_error_not_characters() -> None:
    text = NOTE.replace('en: ["How long does a test filing take?"]', 'en: "How long?"')
    assert note_problems(text) == ["n.yml:28: statement 'filing-time': questions.en: must be a list, not a single "
                                   "text 'How long?' — write a list, e.g. [\"How long?\"]"]


@pytest.mark.parametrize(("value", "got"), [("'5'", "'5'"), ("5.5", "5.5"), ("true", "True"), ("[5]", "a list")])
def test_an_article_must_be_a_plain_integer(value: str, got: str) -> None:
    problems = note_problems(NOTE.replace("article: 3}", f"article: {value}}}"))
    assert len(problems) == 1 and problems[0].startswith(
        f"n.yml:34: statement 'filing-time': cites[0].article: not an integer (got {got}) — write the article number")


def test_an_article_below_one_is_an_error() -> None:
    assert note_problems(NOTE.replace("article: 3}", "article: 0}")) == [
        "n.yml:34: statement 'filing-time': cites[0].article: must be at least 1 (got 0) — article numbers start at 1"]


def test_a_cite_needs_exactly_one_of_doc_and_instrument() -> None:
    both = NOTE.replace("{doc: regulations/test-measures-2020.zh.md, article: 3}",
                        "{doc: regulations/test-measures-2020.zh.md, instrument: test-notice, article: 3}")
    assert note_problems(both) == [
        "n.yml:34: statement 'filing-time': cites[0]: a cite needs exactly one of 'doc' and 'instrument' — write "
        "doc: <corpus path> or instrument: <registry id>"]


def test_a_path_that_leaves_the_corpus_root_is_an_error() -> None:
    text = NOTE.replace("{doc: regulations/test-measures-2020.zh.md, article: 3}", "{doc: ../etc/passwd, article: 3}")
    assert note_problems(text) == [
        "n.yml:34: statement 'filing-time': cites[0].doc: '../etc/passwd' leaves the corpus root — write the path "
        "relative to a corpus root, without '..'"]


def test_an_out_of_scope_statement_needs_no_cite() -> None:
    text = NOTE.replace("    cites:\n      - {doc: regulations/test-measures-2020.zh.md, article: 3}\n", "    scope: out\n")
    doc = parse_note(text, doc_id="notes/filing.yml", root=Path("/c"))
    assert [s.in_scope for s in doc.statements] == [True, False] and doc.statements[1].cites == ()


def test_a_date_must_be_written_as_a_date() -> None:
    assert note_problems(NOTE.replace("reviewed: 2026-11-28", "reviewed: 20261128")) == [
        "n.yml:6: reviewed: not a date (got 20261128) — write it as YYYY-MM-DD, e.g. 2026-11-28"]


def test_a_note_that_is_not_a_mapping() -> None:
    assert note_problems("- a\n- b\n") == [
        "n.yml:1: a note must be a mapping of fields — start with 'id:', 'title_en:', ... 'statements:'"]


# --- registry and glossary ---------------------------------------------------------------------------------

def test_registry_problems_name_file_line_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "registry.yml"
    path.write_text(REGISTRY.replace('superseded_by: "2020"', 'superseded_by: "2021"')
                    .replace("kind: notice", "kind: statute"), encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        load_registry(path)
    assert str(raised.value).splitlines() == [
        f"{display_path(path)}:7: instrument 'test-measures': versions: version '2010' is superseded_by '2021', which "
        "names no version — use one of: 2010, 2020",
        f"{display_path(path)}:20: instrument 'test-notice': kind: expected one of: law, administrative regulation, "
        "department rule, notice. Got: 'statute' — use one of these"]


def test_an_unquoted_version_label_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "registry.yml"
    path.write_text(REGISTRY.replace('version: "2010"', "version: 2010"), encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(
            "instrument 'test-measures': versions[0].version: not a text (got 2010) — quote the version label")):
        load_registry(path)


def test_glossary_aliases_must_be_lists(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yml"
    path.write_text("terms:\n  - id: a\n    en: ICP filing\n    zh: [备案]\n    definition_en: d\n"
                    "    definition_zh: d\n", encoding="utf-8")
    with pytest.raises(CorpusError) as raised:
        load_glossary(path)
    assert str(raised.value) == (f"{display_path(path)}:3: term 'a': en: must be a list, not a single text "
                                 "'ICP filing' — write a list, e.g. [\"ICP filing\"]")


def test_the_registry_maps_each_instrument_without_text_to_its_stand_in_note() -> None:
    registry = load_registry(CORPUS / "registry.yml")
    by_file_name = {p.stem.removeprefix("instrument-"): f"notes/{p.name}"
                    for p in (CORPUS / "notes").glob("instrument-*.yml")}
    # The mapping CiteResolver used to derive from file names (notes/instrument-<id>.yml) is now data.
    assert registry.stand_in_notes == by_file_name
    assert registry.stand_in_note("miit-order-42") == "notes/instrument-miit-order-42.yml"
    assert registry.stand_in_note("order-292") is None  # full text: cited by doc and article
    order68 = registry.note_owner("notes/instrument-miit-order-68.yml")  # listed by three instruments
    assert order68 is not None and order68.id == "miit-order-68"
    assert registry.note_owner("notes/wfoe.yml") is None


# --- eval items --------------------------------------------------------------------------------------------

def test_load_dataset_lists_every_problem_of_every_line(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join([ITEM, ITEM.replace('"t-001"', '"t-002"').replace('"verdict": "Yes"', '"verdict": 3')
                               .replace('"language": "en"', '"language": "fr"'), "{bad"]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError) as raised:
        load_dataset(path)
    where = display_path(path)
    assert str(raised.value).splitlines() == [
        f"{where}:2: item 't-002': verdict: not a text (got 3) — write a text (quote it if it looks like a number or "
        "date)",
        f"{where}:2: item 't-002': tags.language: expected one of: en, zh. Got: 'fr' — use one of these",
        f"{where}:3: invalid JSON: Expecting property name enclosed in double quotes (column 2) — fix the JSON syntax "
        "of this line"]


# --- JSON Schema files -------------------------------------------------------------------------------------

def test_the_committed_schema_files_are_what_the_models_generate() -> None:
    for name, text in generated_schemas().items():
        committed = SCHEMA_DIR / name
        assert committed.is_file(), f"{name} missing: run icp-assistant check --write-schemas"
        assert committed.read_text(encoding="utf-8") == text, f"{name} is stale: run icp-assistant check --write-schemas"


def _jsonable(value: Any) -> Any:
    """YAML dates as the strings an editor's JSON Schema validator sees."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, date) else value


@pytest.mark.parametrize("name, files", [
    ("note.schema.json", sorted((CORPUS / "notes").glob("*.yml"))),
    ("registry.schema.json", [CORPUS / "registry.yml"]),
    ("glossary.schema.json", [CORPUS / "glossary.yml"]),
])
def test_the_schema_files_accept_the_project_files(name: str, files: list[Path]) -> None:
    validator = Draft202012Validator(json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8")))
    for path in files:
        errors = [e.message for e in validator.iter_errors(_jsonable(yaml.safe_load(path.read_text(encoding="utf-8"))))]
        assert errors == [], path.name


def test_the_eval_item_schema_accepts_the_datasets_and_rejects_a_string_article() -> None:
    validator = Draft202012Validator(json.loads((SCHEMA_DIR / "eval-item.schema.json").read_text(encoding="utf-8")))
    for path in sorted((PROJECT / "evals" / "datasets").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert not list(validator.iter_errors(json.loads(line))), line[:60]
    assert list(validator.iter_errors(json.loads(ITEM.replace('"article_no": 2', '"article_no": "2"'))))
