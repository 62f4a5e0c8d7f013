"""Access control off localhost (access.py, ``serve``, ``users add``): hashed users, the proxy header, refusal.

The login page in a real browser is in test_app_auth_browser.py.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.access import Access, access_for, add_user, hash_password, is_loopback, load_users, verify_password
from assistant.errors import ConfigError
from assistant.feedback import FeedbackStore
from assistant.settings import PROJECT_ROOT, Settings

PASSWORD = "correct horse battery"


def test_hash_and_verify() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$16384$8$1$")  # a fresh salt each time
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password("correct horse battery!", first)
    assert not verify_password(PASSWORD, "scrypt$16384$8$1$not-base64$x") and not verify_password(PASSWORD, "")


def test_users_from_a_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "users"
    assert add_user(path, "alice", PASSWORD) is False
    assert add_user(path, "bob", "another password") is False
    assert add_user(path, "alice", "a new password") is True  # replaced, not duplicated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [line.split(":")[0] for line in path.read_text().splitlines()] == ["bob", "alice"]
    carol = f"carol:{hash_password('carol password')}"
    users = load_users(Settings(users_file=path, users=f"# comment\n{carol},"))
    assert users is not None and sorted(users.hashes) == ["alice", "bob", "carol"]
    assert users.verify("alice", "a new password") and not users.verify("alice", PASSWORD)
    assert users.verify("carol", "carol password")
    assert not users.verify("mallory", "a new password")  # unknown name: same cost, no


@pytest.mark.parametrize(("text", "message"), [
    ("alice", "entry 1"), ("alice:plain-password", "entry 1"), ("ok:scrypt$1$2$3$a$b\nbad name:scrypt$1$2$3$a$b", "entry 2"),
    ("# only a comment\n", "No users"),
])
def test_a_malformed_users_file_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "users"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_users(Settings(users_file=path))


@pytest.mark.parametrize(("name", "password"), [("bad name", PASSWORD), ("a:b", PASSWORD), ("alice", "short")])
def test_add_user_refuses_bad_names_and_short_passwords(tmp_path: Path, name: str, password: str) -> None:
    with pytest.raises(ConfigError):
        add_user(tmp_path / "users", name, password)
    assert not (tmp_path / "users").exists()


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.org", False), ("", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_access_decisions(tmp_path: Path) -> None:
    users_file = tmp_path / "users"
    add_user(users_file, "alice", PASSWORD)
    assert access_for(Settings(), "127.0.0.1").mode == "open"
    with pytest.raises(ConfigError, match=r"Refusing to serve on 0\.0\.0\.0 without authentication") as refused:
        access_for(Settings(), "0.0.0.0")
    assert "icp-assistant users add" in str(refused.value) and "--trust-proxy-auth" in str(refused.value)
    assert access_for(Settings(users_file=users_file), "0.0.0.0").mode == "password"
    assert access_for(Settings(users_file=users_file), "127.0.0.1").mode == "password"  # users given: log in
    proxy = access_for(Settings(trust_proxy_auth=True), "10.0.0.5")
    assert (proxy.mode, proxy.header) == ("proxy", "X-Forwarded-User")
    with pytest.raises(ConfigError, match="not both"):
        access_for(Settings(users_file=users_file, trust_proxy_auth=True), "0.0.0.0")
    with pytest.raises(ConfigError, match="header name"):
        access_for(Settings(trust_proxy_auth=True, proxy_user_header="X-User: evil"), "0.0.0.0")


def test_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"ICP_USERS_FILE": str(tmp_path / "u"), "ICP_TRUST_PROXY_AUTH": "yes",
                       "ICP_PROXY_USER_HEADER": "Remote-User", "ICP_USERS": "a:b"}.items():
        monkeypatch.setenv(key, value)
    s = Settings.from_env()
    assert (s.users_file, s.trust_proxy_auth, s.proxy_user_header, s.users) == (tmp_path / "u", True, "Remote-User", "a:b")
    monkeypatch.setenv("ICP_TRUST_PROXY_AUTH", "0")
    assert Settings.from_env().trust_proxy_auth is False
    assert Settings.from_env(trust_proxy_auth=True).trust_proxy_auth is True  # a flag beats the environment


class Headers:
    def __init__(self, **values: str) -> None:
        self.headers = {k.replace("_", "-"): v for k, v in values.items()}


@pytest.mark.parametrize(("headers", "user"), [
    ({"X_Forwarded_User": "alice"}, "alice"), ({}, None), ({"X_Forwarded_User": "  "}, None),
    ({"X_Forwarded_User": "a\x00b"}, None), ({"X_Forwarded_User": "x" * 300}, None),
])
def test_the_proxy_header_names_the_user(headers: dict[str, str], user: str | None) -> None:
    assert Access("proxy", header="X-Forwarded-User").proxy_user(Headers(**headers)) == user


# --- the command line ---------------------------------------------------------------------------------------


def test_users_add_reads_the_password_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "users"
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["users", "add", "alice", "--users", str(path), "--password-stdin"]) == 0
    assert capsys.readouterr().out.strip() == f"added alice in {path}"
    users = load_users(Settings(users_file=path))
    assert users is not None and users.verify("alice", PASSWORD)
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["users", "add", "bob", "--users", str(path), "--password-stdin"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err


def test_users_add_prompts_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["users", "add", "alice", "--users", str(tmp_path / "users")]) == 2
    assert "differ" in capsys.readouterr().err and not (tmp_path / "users").exists()
    monkeypatch.delenv("ICP_USERS_FILE", raising=False)
    assert cli.main(["users", "add", "alice"]) == 2
    assert "--users FILE" in capsys.readouterr().err


def test_serve_off_localhost_without_credentials_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ICP_USERS", "ICP_USERS_FILE", "ICP_TRUST_PROXY_AUTH"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["serve", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Refusing to serve on 0.0.0.0 without authentication") and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_the_installed_command_refuses_and_listens_nowhere(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "icp-assistant"
    if not command.exists():
        pytest.skip("the icp-assistant console script is not installed")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]),
           "ICP_DATA_DIR": str(tmp_path)}
    for name in ("ICP_USERS", "ICP_USERS_FILE", "ICP_TRUST_PROXY_AUTH"):
        env.pop(name, None)
    done = subprocess.run([str(command), "serve", "--host", "0.0.0.0", "--port", str(port)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: Refusing to serve on 0.0.0.0") and "Traceback" not in done.stderr
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens


# --- the proxy setup, served ------------------------------------------------------------------------------------


class StubAssistant:
    """Answers without an index: this test is about who may ask, not what is answered."""

    corpus_version = "2026-01-01"

    def ask(self, question: str, **kwargs: Any) -> Any:
        from assistant.models import Answer

        return Answer(question=question, language="en", verdict="Yes.", points=("A point.",), citations=(),
                      abstained=False, notices=(), as_of=None, timings_ms={"total": 1.0})


@pytest.fixture()
def proxied(tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    import app

    settings = Settings(data_dir=tmp_path / "data", trust_proxy_auth=True, proxy_user_header="X-Remote-User")
    port = _free_port()
    blocks = app.launch(settings, port=port, assistant=StubAssistant(), block=False)
    yield f"http://127.0.0.1:{port}/", settings
    blocks.close()


def status_of(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_behind_a_proxy_the_header_is_required_and_names_the_feedback(proxied: tuple[str, Settings]) -> None:
    from gradio_client import Client

    url, settings = proxied
    assert status_of(url, {}) == 401
    assert status_of(f"{url}config", {}) == 401
    assert status_of(f"{url}config", {"X-Remote-User": ""}) == 401
    assert status_of(url, {"X-Remote-User": "alice"}) == 200
    assert status_of(f"{url}gradio_api/app_id", {}) == 200  # the load balancer's health check needs no user
    client = Client(url, headers={"X-Remote-User": "alice"}, verbose=False)
    client.predict("Does my blog need filing?", [], "Auto", "", "Extractive (quotes the corpus)", api_name="/respond")
    status, _ = client.predict("useful", api_name="/like_last")
    assert "saved" in status
    deadline = time.monotonic() + 10
    while not FeedbackStore.from_settings(settings).all() and time.monotonic() < deadline:
        time.sleep(0.1)
    [record] = FeedbackStore.from_settings(settings).all()
    assert (record.user_name, record.comment, record.question) == ("alice", "useful", "Does my blog need filing?")
