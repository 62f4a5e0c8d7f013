"""Citations of the regime model: readable labels, and a check that every cited source exists in the corpus.

Labels come from the registry (instrument titles, provider names); without it they fall back to ids.
``check_citations`` reads the corpus the way ingest does (``scan_corpus`` + ``chunk_document``) and reports
each cite whose document, article, note statement, instrument or registry conflict is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.chunking import chunk_document
from assistant.corpus import scan_corpus
from assistant.models import Kind
from assistant.registry import Instrument, Registry

from .model import CiteSpec, RegimeModel


def cite_label(cite: CiteSpec, registry: Registry | None) -> tuple[str, str]:
    """(English, Chinese) label, e.g. ("Internet Information Services Measures ... (2024), Art. 4", "《…》第4条")."""
    if cite.note:
        return f"Project note, statement '{cite.note}'", f"项目笔记「{cite.note}」"
    if cite.instrument:
        found = registry.instrument(cite.instrument) if registry else None
        en, zh = (found.short_en or found.title_en, f"《{found.title_zh}》") if found else (cite.instrument,) * 2
        return _with_article(en, zh, cite.article, cite.verified)
    doc = cite.doc or ""
    owner = registry.instrument_for(doc) if registry else None
    if cite.practice:
        name = owner.title_en if owner and owner.title_en else doc
        issuer = owner.issuer.split(" (")[0] if owner and owner.issuer else doc
        return f"{name} (provider practice)", f"{issuer}指南（服务商实践）"
    if isinstance(owner, Instrument):
        version = registry.version_for(doc) if registry else None
        year = f", {version.version} text" if version else ""
        partial = " (partial)" if doc.startswith("partial/") else ""
        en = f"{owner.short_en or owner.title_en}{year}{partial}"
        zh = f"《{owner.title_zh}》" + (f"（{version.version}年）" if version else "") + ("（节选）" if partial else "")
        return _with_article(en, zh, cite.article, True)
    return _with_article(doc, doc, cite.article, True)


def _with_article(en: str, zh: str, article: int | None, verified: bool) -> tuple[str, str]:
    if article is not None:
        en, zh = f"{en}, Art. {article}", f"{zh}第{article}条"
    if not verified:
        en, zh = f"{en} (not verified in a full text)", f"{zh}（未经全文核实）"
    return en, zh


def _all_cites(model: RegimeModel) -> Iterator[tuple[str, CiteSpec]]:
    for _, rule in model.rules():
        yield from ((f"rule '{rule.id}'", c) for c in rule.cites)
    for conflict in model.conflicts:
        for position in conflict.positions:
            yield from ((f"conflict '{conflict.id}' ({position.source})", c) for c in position.cites)


def check_citations(model: RegimeModel, corpus_dirs: Iterable[Path], registry: Registry) -> list[str]:
    """Every cite that names a document, article, note statement, instrument or conflict that does not exist."""
    scan = scan_corpus(corpus_dirs)
    docs = {d.doc_id: d for d in scan.documents}
    statements = {s.id for d in scan.documents if d.kind == Kind.PROJECT_NOTE for s in d.statements}
    articles: dict[str, set[int]] = {}
    problems = []
    for where, cite in _all_cites(model):
        if cite.note and cite.note not in statements:
            problems.append(f"{where}: note statement '{cite.note}' is not in corpus/notes")
        elif cite.instrument and registry.instrument(cite.instrument) is None:
            problems.append(f"{where}: instrument '{cite.instrument}' is not in the registry")
        elif cite.instrument and registry.instrument(cite.instrument).full_text:  # type: ignore[union-attr]
            problems.append(f"{where}: instrument '{cite.instrument}' has a full text: cite its doc and article")
        elif cite.doc and cite.doc not in docs:
            problems.append(f"{where}: document '{cite.doc}' is not in the corpus")
        elif cite.doc and cite.article is not None:
            if cite.doc not in articles:
                articles[cite.doc] = {c.article_no for c in chunk_document(docs[cite.doc]) if c.article_no}
            if cite.article not in articles[cite.doc]:
                problems.append(f"{where}: {cite.doc} has no article {cite.article}")
    conflict_ids = {c.id for c in registry.conflicts}
    for conflict in model.conflicts:
        if conflict.registry_conflict and conflict.registry_conflict not in conflict_ids:
            problems.append(f"conflict '{conflict.id}': registry conflict '{conflict.registry_conflict}' is not in the registry")
    return problems
