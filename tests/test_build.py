"""An index build beside the chat (``serve --build``): progress while it runs, a message instead of an answer
before any index exists, answers once it is done, a failure in the banner, and the page following it in Chromium.
The ingest is the real one on the small corpus (fake embedder), held at a gate after its first progress report
so the running state can be looked at."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.build import BuildRun, BuildStatus, ingest_in_child
from assistant.errors import CorpusError, IndexMissingError
from assistant.ingest import ingest
from assistant.settings import Settings
from tests.fixtures import small_settings

QUESTION = "Does my personal blog need Bei'an?"


def gated(gate: threading.Event, reported: threading.Event) -> Callable[..., Any]:
    """The real ingest, after reporting 100 of 1,000 chunks and waiting for ``gate``."""
    def run(settings: Settings, *, progress: Callable[[int, int], None], **kwargs: Any) -> Any:
        progress(100, 1000)
        reported.set()
        assert gate.wait(60)
        return ingest(settings, progress=progress, **kwargs)
    return run


def test_status_counts_chunks_and_estimates_the_rest() -> None:
    status = BuildStatus("running", done=250, total=1000, elapsed_s=10.0)
    assert status.eta_s == pytest.approx(30.0)
    assert "250 of 1,000 chunks (25 %), about 30 s left" in status.banner(answering=False)
    assert "previous index answers meanwhile" in status.banner(answering=True)
    assert BuildStatus("running", done=5, total=1000, elapsed_s=1.0).eta_s is None  # too early to say
    assert BuildStatus("done", 10, 10).banner(answering=True) == ""


def test_a_build_beside_the_chat_answers_when_done(tmp_path: Path) -> None:
    import app

    settings = small_settings(tmp_path, "fake", ())
    gate, reported = threading.Event(), threading.Event()
    build = BuildRun(settings, gated(gate, reported)).start()
    assert reported.wait(30)
    backend = app.Backend(settings, build=build)
    with pytest.raises(IndexMissingError, match="Building the index: 100 of 1,000 chunks") as caught:
        backend.ask(QUESTION, [], None, "", "extractive")
    assert "icp-assistant ingest" not in app.error_message(caught.value)  # no "run ingest" hint meanwhile
    _, banner = app._status(backend, "")
    assert "Building the index" in banner and "ingest" not in banner  # no "run ingest" hint meanwhile
    gate.set()
    assert build.wait(60).state == "done"
    answer = backend.ask(QUESTION, [], None, "", "extractive")
    assert answer.citations and not answer.abstained
    assert app._status(backend, "")[1] == ""


def test_a_failed_build_is_said_in_the_banner(tmp_path: Path) -> None:
    import app

    def broken(settings: Settings, **_: Any) -> Any:
        raise CorpusError("No documents found in the corpus roots: /nowhere")

    settings = small_settings(tmp_path, "fake", ())
    build = BuildRun(settings, broken).start()
    assert build.wait(30).state == "failed"
    _, banner = app._status(app.Backend(settings, build=build), "")
    assert "The index build failed: No documents found" in banner


def test_the_default_build_runs_in_a_child_process_and_reports_back(tmp_path: Path) -> None:
    """The real ``ingest_in_child``: progress and the report come back, and the index is there to answer."""
    import app

    settings = small_settings(tmp_path, "fake", ())
    seen: list[tuple[int, int]] = []
    _, report = ingest_in_child(settings, progress=lambda d, t: seen.append((d, t)), wait_s=5, notify=print)
    assert report.chunks > 0 and report.embedded == report.chunks
    assert seen and seen[-1] == (report.chunks, report.chunks)
    build = BuildRun(settings).start()
    status = build.wait(120)
    assert (status.state, status.done) == ("done", report.chunks)  # unchanged: nothing embedded again
    answer = app.Backend(settings, build=build).ask(QUESTION, [], None, "", "extractive")
    assert answer.citations and not answer.abstained


def test_a_build_process_that_fails_says_why(tmp_path: Path) -> None:
    settings = small_settings(tmp_path, "fake", ()).with_(corpus_dirs=(tmp_path / "nowhere",))
    build = BuildRun(settings).start()
    status = build.wait(120)
    assert status.state == "failed" and "nowhere" in status.message


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_page_shows_the_build_and_then_answers(tmp_path: Path) -> None:
    from tests.test_app_browser import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, _free_port, ask

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium fonts-noto-cjk")
    sync_api = pytest.importorskip("playwright.sync_api")
    import app

    settings = small_settings(tmp_path, "fake", ())
    gate, reported = threading.Event(), threading.Event()
    build = BuildRun(settings, gated(gate, reported))
    port = _free_port()
    started = time.perf_counter()
    blocks = app.launch(settings, port=port, block=False, build=build)
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            banner = page.locator("#status-banner")
            banner.get_by_text("Building the index", exact=False).wait_for(timeout=ANSWER_TIMEOUT_MS)
            seconds_to_page = time.perf_counter() - started
            assert "100 of 1,000 chunks" in banner.inner_text()
            assert "Building the index" in ask(page, QUESTION).inner_text()  # the progress, not an answer
            gate.set()
            banner.wait_for(state="hidden", timeout=ANSWER_TIMEOUT_MS)  # the timer saw the build end
            ask(page, QUESTION).locator("a.icp-chip").first.wait_for(timeout=ANSWER_TIMEOUT_MS)  # a cited answer
            browser.close()
        print(f"page with build progress after {seconds_to_page:.1f}s")
    finally:
        gate.set()
        blocks.close()
