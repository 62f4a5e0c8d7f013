"""Test corpora and indexes built in temporary folders (never in the repository)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, Settings

SHARED = PROJECT_ROOT.parent / "shared" / "corpus"
PROJECT_CORPUS = PROJECT_ROOT / "corpus"
SMALL_SUBSET = (
    "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md",
    "regulations/internet-information-services-measures-2011.zh.md",
    "regulations/internet-information-services-measures-2024.zh.md",
    "regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md",
    "regulations/telecommunications-regulations-2016.zh.md",
    "regulations/cybersecurity-law-2025.zh.md",
    "guides/tencentcloud/tencentcloud-intl-beian-chan-pin-jian-jie-bei-an-dui-xiang.en.md",
    "guides/blog/remotepad-what-is-the-china-icp-license.en.md",
)
# A provider FAQ page (one question heading per entry): answers cite it by provider, page and section.
PROVIDER_FAQ = "guides/tencentcloud/tencentcloud-intl-beian-chang-jian-wen-ti-bei-an-qian-zi-xun-neng-fou-jin-xing-bei-an.zh.md"


def require_shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/corpus is not present")
    return SHARED


def copy_subset(target: Path, files: tuple[str, ...] = SMALL_SUBSET) -> Path:
    """A small shared-corpus root: copies of a few real files, made at test time in a temp folder."""
    shared = require_shared()
    for rel in files:
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / rel, target / rel)
    return target


def fake_settings(tmp_path: Path, files: tuple[str, ...]) -> Settings:
    """One corpus root of copies of ``files`` and a fresh data folder, with the fake embedder."""
    root = copy_subset(tmp_path / "corpus", files)
    return Settings(corpus_dirs=(root,), data_dir=tmp_path / "data", embedding="fake")


def small_settings(tmp_path: Path, embedding: str = "fake", extra: tuple[str, ...] = (), **changes: object) -> Settings:
    """Settings for the project's own notes (and ``regime.yml``) plus a small subset of the shared corpus, with
    ``extra`` shared files added to the subset."""
    subset = copy_subset(tmp_path / "shared-subset", SMALL_SUBSET + extra)
    return Settings(corpus_dirs=(PROJECT_CORPUS, subset), data_dir=tmp_path / "data", embedding=embedding,
                    **changes)  # type: ignore[arg-type]


def build_small_index(tmp_path: Path, embedding: str = "fake", extra: tuple[str, ...] = (), **changes: object) -> Settings:
    """Ingest the small corpus (plus ``extra`` shared files) into a fresh data folder and return its settings."""
    from assistant.ingest import ingest

    settings = small_settings(tmp_path, embedding, extra, **changes)
    ingest(settings)
    return settings
