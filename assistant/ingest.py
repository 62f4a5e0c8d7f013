"""Ingest pipeline: corpus roots -> documents (+ registry metadata) -> chunks -> index generation.

``ingest`` is what the CLI, the app's start-up check and the tests call; each stage lives in its own
module and this one only wires them together. It validates what ``icp-assistant check`` validates for the
corpus: a malformed file is a ``problem`` and is skipped; a broken reference between files (a cite to a
missing article, an unmapped file) is a ``warning`` and the file is kept; ``strict`` makes both fatal before
the index is touched. A malformed registry is always fatal (documents would lose their status).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .chunking import chunk_document, drop_repeated_facets
from .corpus import CorpusScan, Problem, scan_corpus
from .crosscheck import corpus_problems
from .embeddings import make_embedder
from .errors import CorpusError
from .index import IndexStore, IngestReport
from .models import Chunk, Document, Kind, Status
from .registry import Registry, load_registry
from .settings import Settings

REGISTRY_FILE = "registry.yml"


@dataclass(frozen=True)
class PreparedCorpus:
    scan: CorpusScan
    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    registry: Registry | None
    warnings: tuple[Problem, ...] = ()  # cross-reference problems of files that were kept

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Files that could not be used (skipped)."""
        return self.scan.problems

    @property
    def corpus_version(self) -> str:
        """The newest date a document carries (effective or reviewed): "the corpus as of <date>"."""
        dates = [d.date_effective for d in self.documents if d.date_effective]
        return max(dates).isoformat() if dates else ""


def registry_file(roots: Sequence[Path]) -> Path | None:
    """``registry.yml`` of the first root that has one."""
    return next((root / REGISTRY_FILE for root in roots if (root / REGISTRY_FILE).is_file()), None)


def find_registry(roots: Sequence[Path]) -> Registry | None:
    """The registry of the first root that has one; ``SchemaError`` (a ``CorpusError``) if it is malformed."""
    path = registry_file(roots)
    return load_registry(path) if path else None


def annotate(doc: Document, registry: Registry) -> Document:
    """Attach the registry's status, dates, supersession, authority and known conflicts to a document."""
    instrument = registry.instrument_for(doc.doc_id)
    version = registry.version_for(doc.doc_id)
    changes: dict = {}
    if instrument is not None:
        changes["instrument_id"] = instrument.id
        if doc.kind not in (Kind.PROJECT_NOTE, Kind.PROVIDER_GUIDE, Kind.BLOG):
            changes["kind"] = Kind(instrument.kind)
    if version is not None:
        changes["status"] = Status(version.status)
        changes["date_effective"] = version.date_effective or doc.date_effective
        changes["date_promulgated"] = version.date_promulgated or doc.date_promulgated
        changes["superseded_by"] = version.superseded_by or ""
        changes["version"] = version.version or doc.version
    conflicts = registry.conflicts_for(doc.doc_id)
    if conflicts:
        changes["warnings"] = tuple((c.warning_en, c.warning_zh) for c in conflicts)
        changes["contradicts"] = tuple(dict.fromkeys((r.doc, r.article) for c in conflicts for r in c.contradicts))
    outdated = tuple(_article_warnings(replace(doc, **changes), registry))
    if outdated:
        changes["outdated_articles"] = outdated
    return replace(doc, **changes)


def _article_warnings(doc: Document, registry: Registry) -> list[tuple[int, str, str]]:
    """(article, en, zh) for articles of this text that no longer state the law or moved in the text in force."""
    out = []
    for article in range(1, (doc.expected_articles or 0) + 1):
        reason_en = registry.outdated_reason(doc.doc_id, article, "en")
        if reason_en:
            out.append((article, reason_en, registry.outdated_reason(doc.doc_id, article, "zh") or reason_en))
        moved = registry.renumbered_to(doc.doc_id, article)
        if moved is not None and moved != article and doc.superseded_by:
            out.append((article, f"This article is Art. {moved} of the text now in force ({doc.superseded_by}).",
                        f"该条在现行文本中为第{moved}条（{doc.superseded_by}）。"))
    return out


def prepare(settings: Settings) -> PreparedCorpus:
    """Scan, annotate and chunk every corpus root (no embedding, no index)."""
    scan = scan_corpus(settings.corpus_dirs)
    registry = find_registry(settings.corpus_dirs)
    documents = tuple(annotate(d, registry) if registry else d for d in scan.documents)
    guides = {d.doc_id for d in documents if d.kind in (Kind.PROVIDER_GUIDE, Kind.BLOG)}
    chunks = tuple(drop_repeated_facets([c for d in documents for c in chunk_document(d)], guides))
    warnings = corpus_problems(documents, registry, registry_file(settings.corpus_dirs))
    return PreparedCorpus(scan=scan, documents=documents, chunks=chunks, registry=registry, warnings=tuple(warnings))


def ingest(settings: Settings, *, strict: bool = False, rebuild: bool = False,
           progress: Callable[[int, int], None] | None = None, wait_s: float = 0.0,
           notify: Callable[[str], None] | None = None) -> tuple[PreparedCorpus, IngestReport]:
    """Bring the index in line with the corpus. Malformed files are skipped and broken references kept with a
    warning; with ``strict`` either is fatal and the index is left as it was.

    One ingest at a time per index: while another holds the index lease this waits up to ``wait_s`` seconds
    (``math.inf``: no limit), then raises ``IndexBusyError``; ``notify`` hears about waiting and take-overs.
    """
    prepared = prepare(settings)
    if strict and (prepared.problems or prepared.warnings):
        raise CorpusError("Corpus problems (strict mode, nothing ingested):\n"
                          + "\n".join(f"  {p}" for p in (*prepared.problems, *prepared.warnings)))
    if not prepared.documents:
        raise CorpusError("No documents found in the corpus roots: "
                          + ", ".join(str(r) for r in settings.corpus_dirs))
    store = IndexStore(settings, make_embedder(settings))
    report = store.sync(prepared.documents, prepared.chunks, rebuild=rebuild,
                        corpus_version=prepared.corpus_version, progress=progress, wait_s=wait_s, notify=notify)
    return prepared, report
