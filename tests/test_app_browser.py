"""The chat end to end: a real Assistant on a small fixture index, served on 127.0.0.1, driven by Chromium.

Debian's Chromium (``apt-get install chromium fonts-noto-cjk``) through Playwright's Python package; never
``playwright install``. The screenshot lands in ``test-artifacts/chat.png``.
"""

from __future__ import annotations

import importlib
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.feedback import FeedbackStore
from assistant.models import Answer
from assistant.render import answer_text
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ENGLISH = "Does my personal blog need Bei'an?"
CHINESE = "外资可以持有ICP许可证吗？"
FAILING = "please trigger a simulated backend failure"
ANSWER_TIMEOUT_MS = 60_000


class FailsOnTrigger:
    """The real Assistant, except that one question raises, as a crashing backend would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def corpus_version(self) -> str:
        return str(self.inner.corpus_version)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        if question == FAILING:
            raise RuntimeError("simulated backend failure")
        answer: Answer = self.inner.ask(question, **kwargs)
        return answer


@dataclass
class Served:
    url: str
    settings: Settings
    assistant: Any
    seconds_to_listen: float


def _requirements() -> tuple[Any, Any]:
    """(build_small_index, Assistant), or skip with the reason the test cannot run yet."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium fonts-noto-cjk")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright==1.65.2 (never `playwright install`)")
    try:
        fixtures = importlib.import_module("tests.fixtures")
        build_small_index = fixtures.build_small_index
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"tests/fixtures.py::build_small_index is not available yet: {exc}")
    try:
        assistant_module = importlib.import_module("assistant.assistant")
    except ImportError as exc:
        pytest.skip(f"assistant/assistant.py cannot be imported yet: {exc}")
    return build_small_index, assistant_module.Assistant


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    build_small_index, assistant_class = _requirements()
    import app

    settings = build_small_index(tmp_path_factory.mktemp("browser"))
    assistant = FailsOnTrigger(assistant_class.from_settings(settings))
    port = _free_port()
    started = time.perf_counter()
    blocks = app.launch(settings, port=port, assistant=assistant, block=False)
    served = Served(f"http://127.0.0.1:{port}/", settings, assistant.inner, time.perf_counter() - started)
    yield served
    blocks.close()


@pytest.fixture(scope="module")
def page(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url.rstrip("/"))
        page = context.new_page()
        dialogs: list[str] = []

        def record_dialog(dialog: Any) -> None:  # an alert() here means injected script ran
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", record_dialog)
        page.goto(served.url)
        page.wait_for_selector("#question textarea", timeout=ANSWER_TIMEOUT_MS)
        yield page
        assert dialogs == [], f"a script ran in the page: {dialogs}"
        browser.close()


def ask(page: Any, question: str, *, example: bool = False) -> Any:
    """Type a question and press Enter (or click its example), wait for the new bot message to leave its
    placeholder and return it."""
    bots = page.locator('#chat [data-testid="bot"]')
    before = bots.count()
    if example:
        page.get_by_role("button", name=question, exact=True).click()
    else:
        page.locator("#question textarea").fill(question)
        page.locator("#question textarea").press("Enter")
    page.wait_for_function(
        "n => { const c = document.querySelectorAll('#chat [data-testid=\"bot\"]'); "
        "return c.length > n && !c[c.length - 1].innerText.includes('Searching the corpus'); }",
        arg=before, timeout=ANSWER_TIMEOUT_MS)
    return bots.last


def wait_for_sources(page: Any, expected: Answer) -> None:
    """The sources panel (set with the last streamed chunk) shows the answer to ``expected.question``."""
    page.wait_for_function(
        "q => { const p = document.querySelector('#sources .icp-question'); return p !== null && p.innerText.endsWith(q)"
        " && document.querySelectorAll('#sources li.icp-src').length === document.querySelectorAll('#sources li').length; }",
        arg=expected.question, timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#sources li.icp-src").count() == len(expected.citations)


def check_answer(page: Any, bot: Any, expected: Answer) -> None:
    """The verdict first and bold, [n] markers linked to entries of the sources panel."""
    wait_for_sources(page, expected)
    assert bot.inner_text().strip()
    assert not expected.abstained, f"the fixture index should answer {expected.question!r}"
    assert expected.citations, "an answer without citations cannot be checked"
    content = bot.locator(".message-content").first
    first = content.locator("p").first
    if expected.verdict:
        assert first.locator("strong").count() == 1
        verdict_start = expected.verdict.split("[")[0].strip()[:30]
        assert first.inner_text().startswith(verdict_start)
    for citation in expected.citations:
        link = content.locator(f'a[href="#src-{citation.n}"]').first
        assert link.inner_text() == f"[{citation.n}]"
        entry = page.locator(f"#sources li#src-{citation.n}")
        assert entry.count() == 1
        assert f"《{citation.title}》" in entry.inner_text()
        if citation.article_no is not None:
            assert f"第{citation.article_no}条" in entry.inner_text()
        if citation.warning:
            assert entry.locator(".icp-warning").is_visible()
    # Following a marker shows its entry with the quote opened.
    first_n = expected.citations[0].n
    content.locator(f'a[href="#src-{first_n}"]').first.click()
    entry = page.locator(f"#sources li#src-{first_n}")
    entry.scroll_into_view_if_needed()
    assert entry.is_visible()


def test_chat_answers_cites_rates_and_copies(served: Served, page: Any) -> None:
    started = time.perf_counter()
    bot = ask(page, ENGLISH)
    seconds_to_first_answer = time.perf_counter() - started
    expected = served.assistant.ask(ENGLISH, history=None, as_of=None, language=None, mode="extractive")
    check_answer(page, bot, expected)
    corpus = str(served.assistant.corpus_version)

    # Like with a comment: the record is in the SQLite store with question, citations and corpus version.
    page.locator("#feedback-comment textarea").fill("clear answer")
    page.locator("#like-btn").click()
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('saved')",
                           timeout=ANSWER_TIMEOUT_MS)
    record = FeedbackStore.from_settings(served.settings).all()[-1]
    assert (record.rating, record.question, record.comment) == ("like", ENGLISH, "clear answer")
    assert [c["n"] for c in record.citations] == [c.n for c in expected.citations]
    assert record.corpus_version == corpus

    # Copy for a ticket: the clipboard holds the plain text with footnotes and the disclaimer.
    page.locator("#copy-btn").click()
    page.wait_for_function("() => navigator.clipboard.readText().then(t => t.length > 0)", timeout=10_000)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#ticket-text textarea").input_value()
    assert copied == answer_text(expected, corpus)
    assert copied.splitlines()[-1] == f"Based on the corpus as of {corpus}; not legal advice"
    assert expected.citations[0].doc_id in copied

    # Chinese question, asked by clicking its example, as the second turn of the same conversation.
    bot = ask(page, CHINESE, example=True)
    expected_zh = served.assistant.ask(CHINESE, history=[ENGLISH], as_of=None, language=None, mode="extractive")
    assert expected_zh.language == "zh"
    check_answer(page, bot, expected_zh)

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#chat").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    print(f"server listening after {served.seconds_to_listen:.1f}s; first answer after {seconds_to_first_answer:.1f}s")


def test_failures_are_messages_and_the_app_keeps_serving(served: Served, page: Any) -> None:
    bot = ask(page, FAILING)
    assert "simulated backend failure" in bot.inner_text()
    assert "still running" in bot.inner_text()

    page.get_by_text("Options / 选项").click()
    page.locator("#as-of textarea, #as-of input").first.fill("2024-13-45")
    bot = ask(page, ENGLISH)
    assert "YYYY-MM-DD" in bot.inner_text()
    page.locator("#as-of textarea, #as-of input").first.fill("")

    # The next question is answered as usual.
    bot = ask(page, ENGLISH)
    expected = served.assistant.ask(ENGLISH)
    wait_for_sources(page, expected)
    assert "failed" not in bot.inner_text() and "YYYY-MM-DD" not in bot.inner_text()
    assert bot.locator('a[href^="#src-"]').count() >= len(expected.citations)


def test_question_with_html_stays_inert(served: Served, page: Any) -> None:
    question = "<img src=x onerror=alert(1)><script>alert(2)</script> Does my personal blog need Bei'an?"
    bot = ask(page, question)
    wait_for_sources(page, served.assistant.ask(question))
    user = page.locator('#chat [data-testid="user"]').last
    assert "<script>alert(2)</script>" in user.inner_text()
    assert page.locator("#chat img[src='x'], #sources img, #chat script, #sources script").count() == 0
    assert bot.is_visible()


def test_chromium_is_debian_package() -> None:
    # Guards the CI setup: the test must never rely on a Playwright-downloaded browser.
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing")
    assert shutil.which("chromium") is not None
