"""feedback.py against a real SQLite file in tmp_path."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from assistant.errors import FeedbackError
from assistant.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.settings import Settings

CITATIONS = [{"n": 1, "doc_id": "regulations/a.zh.md", "article_no": 5, "title": "互联网信息服务管理办法"}]


def add_two(store: FeedbackStore) -> None:
    store.add(rating="like", question="Does my personal blog need Bei'an?", answer="**Yes** [1]",
              citations=CITATIONS, mode="extractive", corpus_version="2026-11-28", language="en")
    store.add(rating="dislike", question="外资可以持有ICP许可证吗？", answer="**视情况而定**", citations=[],
              mode="extractive", corpus_version="2026-11-28", comment="  没有引用条文 ", language="zh",
              as_of="2025-01-01")


def test_add_and_read_back(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "data" / FEEDBACK_FILE)
    record = store.add(rating="like", question="q", answer="a", citations=CITATIONS, corpus_version="v1")
    assert record.id == 1
    [stored] = store.all()
    assert stored == record
    assert stored.citations == CITATIONS
    assert stored.created_at.endswith("+00:00")


def test_records_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    add_two(FeedbackStore(path))
    reopened = FeedbackStore(path).all()
    assert [r.rating for r in reopened] == ["like", "dislike"]
    assert reopened[1].comment == "没有引用条文"
    assert reopened[1].question == "外资可以持有ICP许可证吗？"
    assert reopened[1].as_of == "2025-01-01"


def test_unknown_rating_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    with pytest.raises(FeedbackError, match="Expected one of: like, dislike"):
        store.add(rating="meh", question="q", answer="a")
    assert store.all() == []


def test_export_csv(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    add_two(store)
    target = tmp_path / "out.csv"
    assert store.export(target, "csv") == 2
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["rating"] for r in rows] == ["like", "dislike"]
    assert json.loads(rows[0]["citations"]) == CITATIONS
    assert rows[1]["question"] == "外资可以持有ICP许可证吗？"
    assert rows[0]["corpus_version"] == "2026-11-28"


def test_export_jsonl(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    add_two(store)
    target = tmp_path / "out.jsonl"
    assert store.export(target, "jsonl") == 2
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["citations"] == CITATIONS
    assert lines[1]["comment"] == "没有引用条文"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_overwrites_existing_file(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    add_two(store)
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    store.export(target, "jsonl")
    assert "old" not in target.read_text(encoding="utf-8")


@pytest.mark.parametrize("target, message", [
    ("", "is a directory"),
    ("missing/out.csv", "directory does not exist"),
    ("corpus/out.csv", "inside"),
    ("corpus/notes/out.csv", "inside"),
    (FEEDBACK_FILE, "inside"),
])
def test_export_refuses_bad_targets(tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "corpus" / "notes").mkdir(parents=True)
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    add_two(store)
    with pytest.raises(FeedbackError, match=message):
        store.export(tmp_path / target, "csv", forbidden=[tmp_path / "corpus"])
    assert len(store.all()) == 2


def test_export_refuses_unknown_format(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    with pytest.raises(FeedbackError, match=r"Expected one of: csv, jsonl\. Got: 'xml'"):
        store.export(tmp_path / "out.xml", "xml")


def test_export_refuses_a_target_inside_the_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(corpus_dirs=(corpus,), data_dir=tmp_path / "data")
    add_two(FeedbackStore.from_settings(settings))
    assert (tmp_path / "data" / FEEDBACK_FILE).is_file()
    store = FeedbackStore.from_settings(settings)
    assert store.export(tmp_path / "out.jsonl", "jsonl", forbidden=settings.corpus_dirs) == 2  # as the CLI calls it
    with pytest.raises(FeedbackError, match="inside"):
        store.export(corpus / "out.csv", "csv", forbidden=settings.corpus_dirs)


def test_unreadable_store_raises_feedback_error(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FeedbackError, match="Cannot open the feedback store"):
        FeedbackStore(path)


def test_the_user_name_is_stored_and_exported(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FEEDBACK_FILE)
    named = store.add(rating="like", question="q", answer="a", user_name="alice")
    anonymous = store.add(rating="dislike", question="q", answer="a")
    assert [r.user_name for r in store.all()] == ["alice", None] == [named.user_name, anonymous.user_name]
    store.export(tmp_path / "out.csv", "csv")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [r["user_name"] for r in csv.DictReader(f)] == ["alice", ""]


def test_a_store_from_before_user_names_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / FEEDBACK_FILE
    with sqlite3.connect(path) as conn:  # the schema of the first release, with one record
        conn.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, "
                     "rating TEXT NOT NULL CHECK (rating IN ('like', 'dislike')), comment TEXT NOT NULL DEFAULT '', "
                     "question TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL, mode TEXT NOT NULL "
                     "DEFAULT '', corpus_version TEXT NOT NULL DEFAULT '', language TEXT NOT NULL DEFAULT '', "
                     "as_of TEXT NOT NULL DEFAULT '')")
        conn.execute("INSERT INTO feedback (created_at, rating, question, answer, citations) "
                     "VALUES ('2025-01-01T00:00:00+00:00', 'like', 'old question', 'a', '[]')")
    conn.close()
    store = FeedbackStore(path)
    store.add(rating="like", question="new question", answer="a", user_name="bob")
    FeedbackStore(path)  # opening a migrated file again changes nothing
    assert [(r.id, r.question, r.user_name) for r in store.all()] == [(1, "old question", None), (2, "new question", "bob")]
