"""Who may use the chat: open on loopback only; off localhost, hashed users or an authenticating proxy.

``access_for(settings, host)`` decides before anything is served: users from a file (``--users FILE`` /
``ICP_USERS_FILE``) or from ``ICP_USERS`` turn on Gradio's login page; ``--trust-proxy-auth`` takes the user
from a header set by a reverse proxy that authenticated it (requests without it get 401); without either,
a non-loopback bind is refused with ``ConfigError``. Passwords are stored as salted scrypt hashes
(``icp-assistant users add NAME`` writes the line), never in clear.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .settings import Settings

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~50 ms and 16 MB per check: slows guessing, fine for a login
MIN_PASSWORD = 8
NAME = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
MAX_HEADER_USER = 256
REFUSAL = (
    "Refusing to serve on {host} without authentication: anyone who can reach that address could use the app "
    "and its feedback store. Either add users (`icp-assistant users add NAME --users FILE`, then `icp-assistant "
    "serve --host {host} --users FILE`, or set ICP_USERS), or run behind a reverse proxy that authenticates "
    "users and pass --trust-proxy-auth (see docs/deployment.md). To serve this machine only, use --host 127.0.0.1."
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), with a fresh 16-byte salt per user."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        expected = base64.b64decode(digest, validate=True)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r),
                             p=int(p), dklen=len(expected), maxmem=256 * 1024 * 1024)
    except ValueError:  # malformed hash (checked at load) or absurd parameters
        return False
    return scheme == "scrypt" and hmac.compare_digest(got, expected)


_DUMMY = hash_password("timing-equaliser", salt=b"\0" * 16)


@dataclass(frozen=True)
class Users:
    """Names and password hashes. ``verify`` costs the same for unknown names (no user enumeration by timing)."""

    hashes: dict[str, str] = field(default_factory=dict)

    def verify(self, name: str, password: str) -> bool:
        encoded = self.hashes.get(name)
        ok = verify_password(password, encoded or _DUMMY)
        return ok and encoded is not None


def parse_users(text: str, source: str) -> dict[str, str]:
    """``name:hash`` entries (lines or commas; blank lines and ``#`` comments skipped); ConfigError names the entry."""
    users: dict[str, str] = {}
    for number, entry in enumerate(re.split(r"[\n,]", text), 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        name, _, encoded = entry.partition(":")
        if not NAME.fullmatch(name) or not _well_formed(encoded):
            raise ConfigError(f"{source}, entry {number}: expected `name:scrypt$...` as written by "
                              f"`icp-assistant users add NAME`. Got: {entry[:40]!r}")
        users[name] = encoded
    return users


def _well_formed(encoded: str) -> bool:
    parts = encoded.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(p.isdigit() for p in parts[1:4])


def load_users(settings: Settings) -> Users | None:
    """The users of ``settings.users_file`` and ``settings.users`` (the latter wins on a name), or None."""
    users: dict[str, str] = {}
    if settings.users_file is not None:
        try:
            text = settings.users_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the users file {settings.users_file}: {exc}") from exc
        users.update(parse_users(text, str(settings.users_file)))
    if settings.users:
        users.update(parse_users(settings.users, "ICP_USERS"))
    if (settings.users_file is not None or settings.users) and not users:
        raise ConfigError(f"No users in {settings.users_file or 'ICP_USERS'}: add one with `icp-assistant users add NAME`.")
    return Users(users) if users else None


def add_user(path: Path, name: str, password: str) -> bool:
    """Add ``name`` to the users file (or replace its password); True when it replaced one. Written atomically, 0600."""
    if not NAME.fullmatch(name):
        raise ConfigError(f"A user name is 1-64 of A-Z a-z 0-9 . _ @ + -. Got: {name!r}")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"The password must have at least {MIN_PASSWORD} characters.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        kept = [line for line in lines if line.partition(":")[0].strip() != name]
        kept.append(f"{name}:{hash_password(password)}")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp creates it 0600: hashes are not for everyone
            out.write("\n".join(kept) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"Cannot write the users file {path}: {exc}") from exc
    return len(kept) == len(lines)


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


@dataclass(frozen=True)
class Access:
    """How the app is guarded: ``open`` (loopback only), ``password`` (Gradio login) or ``proxy`` (header)."""

    mode: str
    users: Users | None = None
    header: str = ""

    def launch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``gr.Blocks.launch``."""
        if self.mode == "password":
            return {"auth": self._login, "auth_message": "Sign in to use the ICP Assistant / 请登录"}
        if self.mode == "proxy":
            return {"auth_dependency": self.proxy_user}
        return {}

    async def _login(self, name: str, password: str) -> bool:
        # Must be a coroutine function: Gradio awaits only those, and would take a returned awaitable as "true".
        # scrypt takes ~50 ms: off the event loop, so a login does not stall every other session.
        return await asyncio.to_thread((self.users or Users()).verify, name, password)

    def proxy_user(self, request: Any) -> str | None:
        """The user the proxy vouches for; None (Gradio answers 401) when the header is missing or malformed."""
        value = (request.headers.get(self.header) or "").strip()
        if not value or len(value) > MAX_HEADER_USER or not value.isprintable():
            return None
        return value


def access_for(settings: Settings, host: str) -> Access:
    """The guard for serving on ``host``; ConfigError when a non-loopback bind would be open to anyone."""
    users = load_users(settings)
    if settings.trust_proxy_auth and users is not None:
        raise ConfigError("Give either users (--users / ICP_USERS) or --trust-proxy-auth, not both: with a proxy "
                          "that authenticates, the app takes the user from its header.")
    if settings.trust_proxy_auth:
        if not re.fullmatch(r"[A-Za-z0-9-]+", settings.proxy_user_header):
            raise ConfigError(f"The proxy user header must be a header name. Got: {settings.proxy_user_header!r}")
        return Access("proxy", header=settings.proxy_user_header)
    if users is not None:
        return Access("password", users=users)
    if is_loopback(host):
        return Access("open")
    raise ConfigError(REFUSAL.format(host=host))


def request_user(request: Any) -> str | None:
    """The signed-in user of a Gradio request (login or proxy header), None on an open loopback app."""
    name = getattr(request, "username", None)
    return str(name) if name else None

