"""Serving off localhost: ``icp-assistant serve --host 0.0.0.0`` refuses without credentials; with a users
file, headless Chromium signs in through Gradio's login page, asks a question and rates the answer, and the
feedback record names the user.

The server is the real console script in a child process (worktree code first on PYTHONPATH) on a small
fixture index; the browser reaches it on 127.0.0.1. Debian's Chromium through Playwright, as in
test_app_browser.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.access import add_user
from assistant.feedback import FeedbackStore
from assistant.settings import PROJECT_ROOT, Settings
from tests.fixtures import build_small_index
from tests.test_app_browser import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, ENGLISH, _free_port, _requirements

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

COMMAND = Path(sys.executable).parent / "icp-assistant"
PASSWORD = "correct horse battery"


def serve_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]),
           "ICP_EMBEDDING": settings.embedding, "ICP_DATA_DIR": str(settings.data_dir),
           "ICP_CORPUS_DIRS": os.pathsep.join(str(d) for d in settings.corpus_dirs)}
    for name in ("ICP_USERS", "ICP_USERS_FILE", "ICP_TRUST_PROXY_AUTH"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    _requirements()
    if not COMMAND.exists():
        pytest.skip("the icp-assistant console script is not installed")
    return build_small_index(tmp_path_factory.mktemp("auth"))


def test_serving_on_all_interfaces_without_credentials_is_refused(index: Settings) -> None:
    port = _free_port()
    done = subprocess.run([str(COMMAND), "serve", "--host", "0.0.0.0", "--port", str(port)], env=serve_env(index),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: Refusing to serve on 0.0.0.0 without authentication")
    assert "icp-assistant users add" in done.stderr and "--trust-proxy-auth" in done.stderr


@pytest.fixture(scope="module")
def server(index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    users = tmp_path_factory.mktemp("users") / "users.txt"
    add_user(users, "alice", PASSWORD)
    port = _free_port()
    log = users.parent / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(COMMAND), "serve", "--host", "0.0.0.0", "--port", str(port), "--users", str(users)],
                                env=serve_env(index), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_listening(url, proc, log)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until_listening(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"serve did not listen within {timeout} s: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture()
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-US")
        page.goto(server)
        yield page
        browser.close()


def sign_in(page: Any, name: str, password: str) -> None:
    page.locator('input[data-testid="textbox"]').first.fill(name)
    page.locator('input[type="password"]').fill(password)
    page.get_by_role("button", name="Login").click()


def test_sign_in_ask_and_rate_as_a_named_user(index: Settings, page: Any) -> None:
    page.wait_for_selector('input[type="password"]', timeout=ANSWER_TIMEOUT_MS)  # the login page, not the chat
    assert page.locator("#question textarea").count() == 0
    sign_in(page, "alice", "wrong password")
    page.get_by_text("Incorrect Credentials", exact=False).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#question textarea").count() == 0

    sign_in(page, "alice", PASSWORD)
    page.wait_for_selector("#question textarea", timeout=ANSWER_TIMEOUT_MS)
    page.locator("#question textarea").fill(ENGLISH)
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(
        "() => { const c = document.querySelectorAll('#chat [data-testid=\"bot\"]'); "
        "return c.length > 0 && !c[c.length - 1].innerText.includes('Searching the corpus'); }",
        timeout=ANSWER_TIMEOUT_MS)
    assert page.locator('#chat [data-testid="bot"]').last.inner_text().strip()
    feedback = page.get_by_role("button", name="Feedback and ticket text / 反馈与工单")  # closed at first
    if feedback.get_attribute("aria-expanded") != "true":
        feedback.click()
    page.wait_for_function("() => document.querySelector('#ticket-text textarea')?.value.length > 0",
                           timeout=ANSWER_TIMEOUT_MS)  # the answer finished streaming
    page.locator("#like-btn").click()
    page.wait_for_function("() => document.querySelector('#feedback-status').innerText.includes('saved')",
                           timeout=ANSWER_TIMEOUT_MS)
    record = FeedbackStore.from_settings(index).all()[-1]
    assert (record.user_name, record.rating, record.question) == ("alice", "like", ENGLISH)
