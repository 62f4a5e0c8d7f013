"""``icp-assistant check`` and ingest's validation: every problem is one line (file:line, entry, field, fix).

Each case breaks one thing in a tiny corpus that is otherwise clean (tests/tiny_corpus.py) and expects exactly
that one line and exit status 1. Ingest skips a malformed file with the same line, and ``--strict`` refuses
it with the previous index untouched (real Chroma in a temp folder, the fake embedder).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.check import DEFAULT_DATASETS, run_check
from assistant.cli import main
from assistant.embeddings import make_embedder
from assistant.evaluation.dataset import load_dataset
from assistant.index import IndexStore
from assistant.schema import display_path
from assistant.settings import Settings, default_corpus_dirs
from tests.tiny_corpus import GLOSSARY, ITEM, NOTE, REGISTRY, STAND_IN, tiny_corpus, write

NO_TEXT_EN = NOTE.replace('      en: "Art. 2 of the Test Measures requires a filing before a website opens."\n', "")
ROLE_FIX = "use 'basis' (the statement rests on it) or 'support' (background for one point)"
ARTICLE_FIX = "write the article number as an integer, e.g. 'article: 5' (or 'article: null' for the whole document)"

# name -> (file to write, its new text, the one expected line with {file} for the file's displayed path)
CASES: dict[str, tuple[str, str, str]] = {
    "missing text.en": ("notes/filing.yml", NO_TEXT_EN,
                        "{file}:20: statement 'filing-needed': text.en: missing — add an English text"),
    "article not an integer": (
        "notes/filing.yml", NOTE.replace("article: 3}", "article: 3a}"),
        f"{{file}}:34: statement 'filing-time': cites[0].article: not an integer (got '3a') — {ARTICLE_FIX}"),
    "article as a quoted number": (
        "notes/filing.yml", NOTE.replace("article: 3}", "article: '3'}"),
        f"{{file}}:34: statement 'filing-time': cites[0].article: not an integer (got '3') — {ARTICLE_FIX}"),
    "questions as a string": (
        "notes/filing.yml",
        NOTE.replace('en: ["How long does a test filing take?"]', 'en: "How long does a test filing take?"'),
        "{file}:28: statement 'filing-time': questions.en: must be a list, not a single text "
        "'How long does a test filing take?' — write a list, e.g. [\"How long does a test filing take?\"]"),
    "bad role": (
        "notes/filing.yml", NOTE.replace("role: support}", "role: primary}"),
        f"{{file}}:25: statement 'filing-needed': cites[1].role: expected one of: basis, support. Got: 'primary' — "
        f"{ROLE_FIX}"),
    "no basis cite": (
        "notes/filing.yml", NOTE.replace("article: 3}", "article: 3, role: support}"),
        "{file}:33: statement 'filing-time': cites: an in-scope statement needs at least one cite with role 'basis' "
        "— add the source the statement rests on (or set 'scope: out')"),
    "misspelt field": (
        "notes/filing.yml", NOTE.replace("    verdict:\n", "    verdikt:\n"),
        "{file}:17: statement 'filing-needed': verdikt: unknown field — did you mean 'verdict'?"),
    "bad YAML": (
        "notes/filing.yml", NOTE.replace('zh: ["测试备案要多久？"]', 'zh: ["测试备案要多久？"'),
        "{file}:30: bad YAML: did not find expected ',' or ']' — fix the YAML syntax (indentation, quotes, brackets)"),
    "unknown instrument": (
        "notes/filing.yml", NOTE.replace("{instrument: test-notice,", "{instrument: test-notise,"),
        "{file}:25: statement 'filing-needed': cites[1].instrument: 'test-notise' is not in the registry — use an "
        "instrument id of corpus/registry.yml, or add the instrument there"),
    "cite to a missing article": (
        "notes/filing.yml", NOTE.replace("article: 3}", "article: 9}"),
        "{file}:34: statement 'filing-time': cites[0].article: regulations/test-measures-2020.zh.md has no Art. 9 "
        "(it has Arts. 1-3) — cite an article that exists"),
    "cite to a superseded version": (
        "notes/filing.yml", NOTE.replace("test-measures-2020.zh.md, article: 3}", "test-measures-2010.zh.md, article: 2}"),
        "{file}:34: statement 'filing-time': cites[0]: regulations/test-measures-2010.zh.md is the 2010 version of "
        "'test-measures', superseded by regulations/test-measures-2020.zh.md (the registry does not mark Art. 2 "
        "outdated) — cite the matching article of regulations/test-measures-2020.zh.md, or add 'outdated: true' if "
        "the statement shows what changed"),
    "duplicate statement id": (
        "notes/instrument-test-notice.yml", (
            "id: instrument-test-notice\ntitle_en: T\ntitle_zh: 题\nkind: project note\nauthority: A\n"
            "reviewed: 2026-11-28\nchecked_against: [x]\nstatements:\n  - id: filing-time\n"
            "    questions: {en: [\"What does the Test Notice say?\"], zh: [\"测试通知规定了什么？\"]}\n"
            "    text: {en: a, zh: b}\n    cites: [{instrument: test-notice, article: null, verified: false}]\n"),
        "{file}:9: statement 'filing-time': id: also used at {notes}/filing.yml:26 — give each statement its own id"),
    "duplicate question": (
        "notes/instrument-test-notice.yml", STAND_IN.replace('zh: ["测试通知规定了什么？"]', 'zh: ["测试备案要多久？"]'),
        "{file}:10: statement 'test-notice-says': questions.zh[0]: '测试备案要多久？' is also a question of statement "
        "'filing-time' ({notes}/filing.yml:26) — keep each phrasing in one statement"),
    "unmapped shared file": (
        "guides/other/new.en.md", "<!--\nprovider: Other\n-->\n# New\n\nSome text.\n",
        "{file}: not in the registry — list 'guides/other/new.en.md' under an instrument version's files, or match "
        "it with a source's files glob, in {root}/registry.yml"),
    "registry: unknown status": (
        "registry.yml", REGISTRY.replace("status: superseded", "status: replaced"),
        "{file}:10: instrument 'test-measures': versions[0].status: expected one of: in force, superseded, amended, "
        "unknown. Got: 'replaced' — use one of these"),
    "registry: outdated article that does not exist": (
        "registry.yml", REGISTRY.replace("  - id: test-notice\n", "    outdated_articles:\n      - {version: \"2020\", "
                                         "articles: [4], reason_en: r, reason_zh: r}\n  - id: test-notice\n"),
        "{file}:18: instrument 'test-measures': outdated_articles[0].articles[0]: regulations/test-measures-2020.zh.md "
        "has no Art. 4 (it has Arts. 1-3) — cite an article that exists"),
    "registry: conflict with a missing article": (
        "registry.yml", REGISTRY.replace("article: 2}]", "article: 12}]"),
        "{file}:33: conflict 'guide-says-no-filing': contradicts[0].article: regulations/test-measures-2020.zh.md has "
        "no Art. 12 (it has Arts. 1-3) — cite an article that exists"),
    "registry: stand-in note missing": (
        "registry.yml", REGISTRY.replace("notes: [notes/instrument-test-notice.yml]", "notes: [notes/instrument-x.yml]"),
        "{file}:24: instrument 'test-notice': notes[0]: notes/instrument-x.yml is not a note in the corpus — correct "
        "the path (notes/<file>.yml)"),
    "glossary: alias twice": (
        "glossary.yml", GLOSSARY.replace("zh: [测试备案]", "zh: [测试备案, 测试备案]"),
        "{file}:4: term 'test-filing': zh[1]: '测试备案' is listed twice in this term — keep each alias in one term"),
    "bad eval item": (
        "DATASET", ITEM.replace('"split": "dev"', '"split": "train"'),
        "{file}:1: item 't-001': tags.split: expected one of: dev, test. Got: 'train' — use one of these"),
    "eval item without a reference": (
        "DATASET", ITEM.replace('"reference": "Yes, Art. 2.", ', ""),
        "{file}:1: item 't-001': reference: missing — add 'reference'"),
    "eval gold source missing": (
        "DATASET", ITEM.replace('"article_no": 2', '"article_no": 7'),
        "{file}:1: item 't-001': reference_context_ids[0].article_no: regulations/test-measures-2020.zh.md has no "
        "Art. 7 (it has Arts. 1-3) — cite an article that exists"),
}


def break_one(tmp_path: Path, rel: str, text: str) -> tuple[Path, Path, Path]:
    """The tiny corpus with one file replaced: (root, datasets, the file)."""
    root, datasets = tiny_corpus(tmp_path)
    path = write(datasets, "set.jsonl", text + "\n") if rel == "DATASET" else write(root, rel, text)
    return root, datasets, path


def check(capsys: pytest.CaptureFixture[str], root: Path, datasets: Path) -> tuple[int, list[str], str]:
    code = main(["check", "--corpus", str(root), "--datasets", str(datasets)])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


def test_the_tiny_corpus_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, datasets = tiny_corpus(tmp_path)
    code, lines, err = check(capsys, root, datasets)
    assert (code, lines) == (0, [])
    assert err.strip() == "ok: 5 documents and 1 eval items, no problems"


@pytest.mark.parametrize(("rel", "text", "expected"), CASES.values(), ids=CASES.keys())
def test_one_problem_is_one_line_with_file_line_field_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              rel: str, text: str, expected: str) -> None:
    root, datasets, path = break_one(tmp_path, rel, text)
    code, lines, err = check(capsys, root, datasets)
    assert code == 1
    assert lines == [expected.format(file=display_path(path), notes=display_path(root / "notes"),
                                     root=display_path(root))]
    assert "1 problem(s)" in err and "Traceback" not in err


def test_every_problem_is_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, datasets = tiny_corpus(tmp_path)
    write(root, "notes/filing.yml", NO_TEXT_EN.replace("role: support}", "role: primary}"))
    write(root, "registry.yml", REGISTRY.replace("article: 2}]", "article: 12}]"))
    write(datasets, "set.jsonl", ITEM.replace('"split": "dev"', '"split": "train"') + "\n")
    code, lines, err = check(capsys, root, datasets)
    assert code == 1 and "4 problem(s)" in err
    assert [line.split(": ", 3)[1:3] for line in lines] == [
        ["statement 'filing-needed'", "text.en"], ["statement 'filing-needed'", "cites[1].role"],
        ["conflict 'guide-says-no-filing'", "contradicts[0].article"], ["item 't-001'", "tags.split"]]


def test_outdated_true_accepts_a_deliberate_cite_of_an_old_version_and_is_itself_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, datasets = tiny_corpus(tmp_path)
    old = NOTE.replace("test-measures-2020.zh.md, article: 3}", "test-measures-2010.zh.md, article: 2, outdated: true}")
    write(root, "notes/filing.yml", old)
    assert check(capsys, root, datasets)[:2] == (0, [])
    write(root, "notes/filing.yml", NOTE.replace("article: 3}", "article: 3, outdated: true}"))
    code, lines, _ = check(capsys, root, datasets)
    assert code == 1 and len(lines) == 1 and lines[0].endswith(
        "cites[0].outdated: regulations/test-measures-2020.zh.md is not superseded and the registry marks no "
        "outdated article here — remove 'outdated: true'")


def test_the_project_corpus_and_eval_datasets_are_clean() -> None:
    roots = default_corpus_dirs()
    if len(roots) < 2:
        pytest.skip("../shared/corpus is not present")
    report = run_check(roots, [DEFAULT_DATASETS])
    assert [str(p) for p in report.problems] == []
    assert report.documents > 150 and report.items > 200


def test_write_schemas_writes_a_file_per_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.schema import export

    monkeypatch.setattr(export, "SCHEMA_DIR", tmp_path / "schemas")
    monkeypatch.setattr(export.write_schemas, "__defaults__", (tmp_path / "schemas",))
    assert main(["check", "--write-schemas"]) == 0
    assert sorted(p.name for p in (tmp_path / "schemas").iterdir()) == [
        "eval-item.schema.json", "glossary.schema.json", "lead-judgment.schema.json", "note.schema.json",
        "registry.schema.json"]
    assert capsys.readouterr().out.count("wrote ") == 5


# --- ingest runs the same validation ------------------------------------------------------------------------


def ingest_args(root: Path, data: Path) -> list[str]:
    return ["--corpus", str(root), "--data-dir", str(data), "--embedding", "fake"]


def index_state(root: Path, data: Path) -> tuple[str, list[str]]:
    settings = Settings(corpus_dirs=(root,), data_dir=data, embedding="fake")
    store = IndexStore(settings, make_embedder(settings))
    active = store.active()
    assert active is not None
    return active.collection, [c.chunk_id for c in store.load().chunks]


def test_ingest_skips_a_malformed_note_with_its_line_and_strict_keeps_the_previous_index(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = tiny_corpus(tmp_path)
    data = tmp_path / "data"
    assert main(["ingest", *ingest_args(root, data)]) == 0
    before = index_state(root, data)
    path = write(root, "notes/filing.yml", NO_TEXT_EN)
    line = f"{display_path(path)}:20: statement 'filing-needed': text.en: missing — add an English text"
    capsys.readouterr()

    assert main(["ingest", "--strict", *ingest_args(root, data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Corpus problems (strict mode, nothing ingested)") and f"  {line}\n" in err
    assert "Traceback" not in err
    assert index_state(root, data) == before

    assert main(["ingest", *ingest_args(root, data)]) == 0
    assert capsys.readouterr().err.splitlines() == [f"skipped {line}"]
    chunks = index_state(root, data)[1]
    assert not any("notes/filing.yml" in c for c in chunks) and any("instrument-test-notice" in c for c in chunks)


def test_ingest_keeps_a_note_with_a_broken_reference_and_warns(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = tiny_corpus(tmp_path)
    data = tmp_path / "data"
    path = write(root, "notes/filing.yml", NOTE.replace("article: 3}", "article: 9}"))
    assert main(["ingest", "--strict", *ingest_args(root, data)]) == 2
    assert "has no Art. 9" in capsys.readouterr().err
    assert main(["ingest", *ingest_args(root, data)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"warning {display_path(path)}:34: statement 'filing-time': cites[0].article: "
        "regulations/test-measures-2020.zh.md has no Art. 9 (it has Arts. 1-3) — cite an article that exists"]
    assert any("notes/filing.yml" in c for c in index_state(root, data)[1])


def test_ingest_with_a_malformed_registry_is_a_message_not_a_traceback(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = tiny_corpus(tmp_path)
    data = tmp_path / "data"
    assert main(["ingest", *ingest_args(root, data)]) == 0
    before = index_state(root, data)
    path = write(root, "registry.yml", REGISTRY.replace("status: superseded", "status: replaced"))
    capsys.readouterr()
    assert main(["ingest", *ingest_args(root, data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {display_path(path)}:10: instrument 'test-measures': versions[0].status")
    assert "Traceback" not in err and index_state(root, data) == before


# --- the regime model, through its own loader and citation check ----------------------------------------------

REGIME_CASES = {
    "schema": ("        status: not-needed\n        reason:\n          en: \"Served from outside",
               "        status: maybe\n        reason:\n          en: \"Served from outside", 195,
               "rule 'filing-offshore': field 'status': Input should be 'needed', 'not-needed', 'depends' or "
               "'not-possible' (got 'maybe') — correct it in the regime model (schema: assistant/regime/model.py)"),
    "citation": ("internet-information-services-measures-2024.zh.md, article: 4}\n          - {doc: regulations/non",
                 "internet-information-services-measures-2024.zh.md, article: 99}\n          - {doc: regulations/non",
                 283, "rule 'filing-needed': regulations/internet-information-services-measures-2024.zh.md has no "
                 "article 99 — correct it in the regime model (schema: assistant/regime/model.py)"),
}


@pytest.mark.parametrize(("old", "new", "line", "message"), REGIME_CASES.values(), ids=REGIME_CASES.keys())
def test_a_broken_regime_model_is_one_line_with_the_rule_it_names(tmp_path: Path, old: str, new: str, line: int,
                                                                  message: str) -> None:
    roots = default_corpus_dirs()
    if len(roots) < 2:
        pytest.skip("../shared/corpus is not present")
    project = tmp_path / "corpus"
    shutil.copytree(roots[0], project)
    regime = project / "regime.yml"
    text = regime.read_text(encoding="utf-8")
    assert text.count(old) == 1
    regime.write_text(text.replace(old, new), encoding="utf-8")
    report = run_check([project, roots[1]], [DEFAULT_DATASETS])
    assert [str(p) for p in report.problems] == [f"{display_path(regime)}:{line}: {message}"]


def test_a_reading_of_an_item_no_dataset_has_is_a_problem(tmp_path: Path) -> None:
    from assistant.check import judgment_problems

    line = {"item": "faq-001", "unit": "a#1", "label": "answers", "why": "states it", "lead": "X"}
    (tmp_path / "leads.jsonl").write_text(json.dumps(line) + "\n" + json.dumps({**line, "item": "gone-7"}) + "\n"
                                          + json.dumps({**line, "label": "maybe"}) + "\n", encoding="utf-8")
    items = load_dataset(DEFAULT_DATASETS / "faq.jsonl")
    problems = [str(p) for p in judgment_problems(tmp_path, items)]
    assert len(problems) == 2, problems
    assert any("gone-7" in p and "no eval item has this id" in p for p in problems)
    assert any("leads.jsonl:3" in p and "label" in p for p in problems)
