"""Offline guarantee: the suite's own guard works, and the app process reaches no host outside this machine.

The app test starts ``icp-assistant serve`` with a ``sitecustomize`` guard on PYTHONPATH that refuses and
logs every non-loopback connection and name lookup, without the telemetry switches in the environment
(the app must set them itself), loads the page, asks a question, and asserts nothing was logged.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.settings import Settings

OUTSIDE = ("203.0.113.1", 80)  # TEST-NET-3: never routable


def test_the_suite_guard_refuses_an_outside_connection() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        with pytest.raises(OSError, match="blocked outside connection"):
            sock.connect(OUTSIDE)
        with pytest.raises(OSError, match="blocked outside connection"):
            sock.connect_ex(OUTSIDE)
    with pytest.raises(OSError, match="blocked outside connection"):
        socket.create_connection(OUTSIDE, timeout=1)


@pytest.mark.parametrize("address", [("example.com", 443), ("2001:db8::1", 80, 0, 0), ("10.0.0.1", 8000)])
def test_the_suite_guard_refuses_names_ipv6_and_private_addresses(address: tuple) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(OSError, match="blocked"):
        sock.connect(address)


def test_the_suite_guard_lets_loopback_through() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            conn, _ = server.accept()
            conn.close()


GUARD = textwrap.dedent('''
    """Test guard: refuse and log every connection or name lookup that leaves this machine."""
    import errno, ipaddress, os, socket

    _LOG = os.environ["OFFLINE_GUARD_LOG"]

    def _log(line):
        with open(_LOG, "a", encoding="utf-8") as handle:
            handle.write(line + "\\n")

    def _local(host):
        host = str(host or "").split("%")[0]
        if host in ("", "localhost") or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
        except ValueError:
            return False

    def _allowed(address):
        return isinstance(address, (str, bytes)) or (isinstance(address, tuple) and _local(address[0]))

    _connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto
    _getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if not _allowed(address):
            _log(f"BLOCKED connect {address!r} pid={os.getpid()}")
            raise OSError(errno.ENETUNREACH, "offline guard: outside connection refused")
        return _connect(self, address)

    def connect_ex(self, address):
        if not _allowed(address):
            _log(f"BLOCKED connect_ex {address!r} pid={os.getpid()}")
            return errno.ENETUNREACH
        return _connect_ex(self, address)

    def sendto(self, data, *args):
        address = args[-1]
        if not _allowed(address):
            _log(f"BLOCKED sendto {address!r} pid={os.getpid()}")
            raise OSError(errno.ENETUNREACH, "offline guard: outside datagram refused")
        return _sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if not _local(name):
            _log(f"BLOCKED getaddrinfo {name!r} pid={os.getpid()}")
            raise socket.gaierror(socket.EAI_NONAME, "offline guard: name lookup refused")
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
    socket.getaddrinfo = getaddrinfo
    _log(f"guard loaded pid={os.getpid()}")
''')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return bytes(response.read())


def ask_through_the_app(base: str, question: str) -> str:
    body = json.dumps({"data": [question, [], "Auto", "", "Extractive (quotes the corpus)"]}).encode()
    request = urllib.request.Request(f"{base}/gradio_api/call/respond", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    return http_get(f"{base}/gradio_api/call/respond/{event_id}").decode("utf-8")


@pytest.mark.slow
def test_the_app_process_reaches_no_outside_host(tmp_path: Path, small_index: Settings) -> None:
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log = tmp_path / "outside.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADIO_ANALYTICS_ENABLED", "ANONYMIZED_TELEMETRY", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=str(guard_dir), OFFLINE_GUARD_LOG=str(log))
    port = free_port()
    command = [str(Path(sys.executable).parent / "icp-assistant"), "serve", "--host", "127.0.0.1", "--port", str(port),
               "--embedding", small_index.embedding, "--data-dir", str(small_index.data_dir),
               *[a for root in small_index.corpus_dirs for a in ("--corpus", str(root))]]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        page = b""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = http_get(base + "/")
                break
            except OSError:
                time.sleep(0.5)
        if not page:
            detail = proc.stderr.read().decode(errors="replace")[-3000:] if proc.poll() is not None else "timeout"  # type: ignore[union-attr]
            pytest.fail(f"the app did not serve its page: {detail}")
        assert b"ICP Assistant" in page
        http_get(base + "/gradio_api/info")
        stream = ask_through_the_app(base, "Does my personal blog need Bei'an?")
        assert "event: complete" in stream and "Sources" in stream
        time.sleep(3)  # anything launched in the background after start-up gets its chance to call out
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert f"guard loaded pid={proc.pid}" in lines  # the guard really ran inside the app process
    assert [line for line in lines if line.startswith("BLOCKED")] == []
