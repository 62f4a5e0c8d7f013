"""Property: any note the schema accepts ingests; any note it rejects is reported in one-line problems; nothing
crashes. Notes are the tiny corpus's note with random fields removed or replaced by values of any type, and
arbitrary text. The index is real Chroma in a temp folder with the fake embedder (re-ingest ~50 ms).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assistant.corpus import scan_corpus
from assistant.embeddings import make_embedder
from assistant.index import IndexStore
from assistant.ingest import ingest
from assistant.schema import NoteFile, display_path
from assistant.settings import Settings
from tests.tiny_corpus import NOTE, tiny_corpus, write

BASE: dict[str, Any] = yaml.safe_load(NOTE)
NOTE_FILE = "notes/filing.yml"

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 40), st.floats(allow_nan=False, width=32),
    st.text(max_size=12), st.sampled_from(["", " ", "basis", "support", "out", "2026-11-28", "filing"]),
    st.lists(st.text(max_size=6), max_size=3), st.dictionaries(st.sampled_from(["en", "zh", "doc", "x"]),
                                                               st.text(max_size=6), max_size=3))


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field path of the note (keys and list indexes), parents before children."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from paths(value, prefix + (key,))


PATHS = list(paths(BASE))


@st.composite
def mutated_notes(draw: st.DrawFn) -> dict[str, Any]:
    note = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = note
        for key in path[:-1]:
            try:
                parent = parent[key]
            except (KeyError, IndexError, TypeError):
                break
        else:
            key = path[-1]
            # A replaced parent may have changed kind (a dict became a list): a key must fit the kind it meets.
            present = (key in parent if isinstance(parent, dict)
                       else isinstance(parent, list) and isinstance(key, int) and key < len(parent))
            if present:
                if draw(st.booleans()):
                    del parent[key]
                else:
                    parent[key] = draw(ANY_VALUE)
    return note


def accepted(text: str) -> bool:
    try:
        raw = yaml.safe_load(text)
        return isinstance(raw, dict) and NoteFile.model_validate(raw).id == "filing"
    except (yaml.YAMLError, ValidationError):
        return False


@pytest.fixture(scope="module")
def corpus() -> Iterator[tuple[Path, Settings]]:
    with tempfile.TemporaryDirectory() as folder:
        root, _ = tiny_corpus(Path(folder))
        fake = Settings(corpus_dirs=(root,), data_dir=Path(folder) / "data", embedding="fake")
        ingest(fake)
        yield root, fake


def assert_reported_or_ingested(root: Path, fake: Settings, text: str) -> None:
    path = write(root, NOTE_FILE, text)
    prepared, report = ingest(fake)
    ids = {d.doc_id for d in prepared.documents}
    mine = [p for p in prepared.problems if p.path == str(path)]
    indexed = {c.doc_id for c in IndexStore(fake, make_embedder(fake)).load().chunks}
    if accepted(text):
        assert NOTE_FILE in ids and NOTE_FILE in indexed and not mine
    else:
        assert NOTE_FILE not in ids and NOTE_FILE not in indexed and mine
        for problem in mine:
            line = str(problem)
            assert "\n" not in line and line.startswith(display_path(path)) and " — " in line, line
    assert report.documents == len(prepared.documents)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(note=mutated_notes())
def test_a_mutated_note_is_ingested_if_valid_else_reported(corpus: tuple[Path, Settings], note: dict[str, Any]) -> None:
    assert_reported_or_ingested(*corpus, yaml.safe_dump(note, allow_unicode=True, sort_keys=False))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200), st.sampled_from(["", "- a\n", "id: [\n", "statements: {}\n", "~\n"])))
def test_arbitrary_text_as_a_note_never_crashes_ingest(corpus: tuple[Path, Settings], text: str) -> None:
    assert_reported_or_ingested(*corpus, text)


@settings(max_examples=200, deadline=None)
@given(note=mutated_notes())
def test_the_scan_agrees_with_the_schema(note: dict[str, Any]) -> None:
    """The same property without the index, on more examples (the scan is what ingest runs first)."""
    text = yaml.safe_dump(note, allow_unicode=True, sort_keys=False)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), NOTE_FILE, text)
        scan = scan_corpus([Path(folder)])
    assert bool(scan.documents) == accepted(text)
    assert bool(scan.problems) != accepted(text) and all(p.path == str(path) for p in scan.problems)
