"""Chroma server mode: a real ``chroma run`` server on 127.0.0.1, stopped and restarted on the same folder.

Ingest and questions go through ``chromadb.HttpClient``; several assistants ("app processes") share the
server; a server that is down is a named error with a message, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.assistant import Assistant
from assistant.errors import StoreUnavailableError
from assistant.ingest import ingest
from assistant.settings import PROJECT_ROOT, Settings
from tests.fixtures import small_settings

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).parent / "chroma"
QUESTIONS = ("Does my personal blog need Bei'an?", "外资可以持有ICP许可证吗？", "What is the fine for no filing?")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """``chroma run`` in a subprocess; ``start`` waits for the heartbeat, ``stop`` sends SIGTERM."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = path.parent / f"chroma-{port}.log"

    def start(self, timeout: float = 60) -> None:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                          "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"chroma run did not answer within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    if not CHROMA.exists():
        pytest.skip("the chroma console script is not installed")
    srv = ChromaServer(tmp_path / "chroma-server", free_port())
    srv.start()
    yield srv
    srv.stop()


def server_settings(tmp_path: Path, srv: ChromaServer) -> Settings:
    return small_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=srv.port)


def answers(assistant: Assistant) -> list[tuple[str | None, list[tuple[str, int | None]]]]:
    out = []
    for question in QUESTIONS:
        answer = assistant.ask(question)
        out.append((answer.verdict, [(c.doc_id, c.article_no) for c in answer.citations]))
    return out


def test_ingest_and_ask_through_the_server_and_survive_a_restart(tmp_path: Path, server: ChromaServer) -> None:
    settings = server_settings(tmp_path, server)
    _, report = ingest(settings)
    assert report.chunks > 100
    assert not (settings.data_dir / "chroma").exists()  # nothing went into the embedded store
    first = Assistant.from_settings(settings)
    before = answers(first)
    assert any(citations for _, citations in before)
    assert (server.path / "chroma.sqlite3").is_file()

    server.stop()
    first._checked_at = float("-inf")  # the next question checks the index pointer (as after REFRESH_S)
    during = first.ask(QUESTIONS[0])  # search runs in memory: the running assistant keeps answering
    assert [(c.doc_id, c.article_no) for c in during.citations] == before[0][1]
    assert any(f"127.0.0.1:{server.port}" in n for n in during.notices)  # and names the outage
    server.start()  # same folder, same port

    assert answers(Assistant.from_settings(settings)) == before  # the data persisted
    assert answers(first) == before  # and the assistant that saw the outage recovers by itself
    _, again = ingest(settings)
    assert (again.embedded, again.collection) == (0, report.collection)


def test_two_assistants_share_one_server_and_see_a_new_generation(tmp_path: Path, server: ChromaServer) -> None:
    settings = server_settings(tmp_path, server)
    ingest(settings)
    one, two = Assistant.from_settings(settings), Assistant.from_settings(settings)
    assert answers(one) == answers(two)
    # A re-ingest by a third party (changed corpus) swaps the generation and drops the old one: processes
    # started after it load the new one, running ones follow the pointer at their next check (every REFRESH_S).
    extra = settings.corpus_dirs[1] / "guides" / "extra" / "note.en.md"
    extra.parent.mkdir(parents=True)
    extra.write_text("<!--\nprovider: test\nlanguage: en\n-->\n# Zebra hosting\n\nZebra hosting needs a filing.\n",
                     encoding="utf-8")
    _, report = ingest(settings)
    assert report.added > 0
    three = Assistant.from_settings(settings)
    assert three.index.info.collection == report.collection
    assert any(c.doc_id == "guides/extra/note.en.md" for c in three.index.chunks)
    assert one.refresh(force=True) and two.refresh(force=True)
    assert answers(one) == answers(two) == answers(three)
    assert one.index.info.collection == two.index.info.collection == report.collection


def test_an_app_without_a_local_copy_has_a_child_read_the_generation(tmp_path: Path, server: ChromaServer,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Server mode, no snapshot on this host: the records are read over HTTP by a child process, which leaves the
    snapshot this process loads (reading them here would keep ~140 MB in the app)."""
    import shutil

    from assistant.index import IndexStore

    settings = server_settings(tmp_path, server)
    ingest(settings)
    before = answers(Assistant.from_settings(settings))
    shutil.rmtree(settings.data_dir / "snapshots")  # as on another app host

    def not_here(*_: object) -> None:
        raise AssertionError("the records were read in the app process")

    monkeypatch.setattr(IndexStore, "_read_all", not_here)
    again = Assistant.from_settings(settings)
    assert answers(again) == before
    assert (settings.data_dir / "snapshots" / f"{again.index.info.collection}.json").is_file()


APP_PROCESS = """
import json, sys
from assistant.assistant import Assistant
from assistant.settings import Settings
a = Assistant.from_settings(Settings.from_env())
out = []
for q in sys.argv[1:]:
    ans = a.ask(q)
    out.append([ans.verdict, [[c.doc_id, c.article_no] for c in ans.citations]])
print(json.dumps(out))
"""


def test_two_app_processes_answer_alike_from_one_server(tmp_path: Path, server: ChromaServer) -> None:
    settings = server_settings(tmp_path, server)
    ingest(settings)
    env = {**os.environ, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(server.port), "ICP_EMBEDDING": "fake",
           "ICP_CORPUS_DIRS": os.pathsep.join(str(d) for d in settings.corpus_dirs),
           "ICP_DATA_DIR": str(tmp_path / "app-data")}
    procs = [subprocess.Popen([sys.executable, "-c", APP_PROCESS, *QUESTIONS], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    first, second = (json.loads(out) for out, _ in outputs)
    assert first == second
    in_process = Assistant.from_settings(settings)
    assert [[v, [tuple(c) for c in cs]] for v, cs in first] == [[v, cs] for v, cs in answers(in_process)]
    # On the app host: a copy of the generation served (a cache for the next start), nothing else.
    generation = in_process.index.info.collection
    written = sorted(p.relative_to(tmp_path / "app-data").as_posix() for p in (tmp_path / "app-data").rglob("*"))
    assert written == ["snapshots", f"snapshots/{generation}.json", f"snapshots/{generation}.npy"]


def test_a_server_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    settings = small_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=port)
    with pytest.raises(StoreUnavailableError) as raised:
        Assistant.from_settings(settings)
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message and "chroma run" in message
    with pytest.raises(StoreUnavailableError):
        ingest(settings)


@pytest.mark.parametrize("command", [["ask", "Does my blog need filing?"], ["ingest"], ["stats"]])
def test_cli_with_a_server_that_is_down_prints_an_error_and_exits_non_zero(
        tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    code = cli.main([*command, "--chroma-url", f"http://127.0.0.1:{port}", "--embedding", "fake",
                     "--corpus", str(PROJECT_ROOT / "corpus"), "--data-dir", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and f"127.0.0.1:{port}" in err and "Traceback" not in err


def test_the_installed_command_exits_non_zero_with_a_message(tmp_path: Path) -> None:
    port = free_port()
    command = Path(sys.executable).parent / "icp-assistant"
    if not command.exists():
        pytest.skip("the icp-assistant console script is not installed")
    env = {**os.environ, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(port), "ICP_EMBEDDING": "fake"}
    proc = subprocess.run([str(command), "ask", "Does my blog need filing?"], env=env, capture_output=True, check=False,
                          text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr
