"""Tests for assistant/registry.py and the data it loads: corpus/registry.yml, corpus/glossary.yml, corpus/notes."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from assistant.errors import CorpusError
from assistant.models import Status
from assistant.registry import Glossary, Registry, load_glossary, load_registry
from assistant.schema import NoteFile, validate_note
from assistant.text import chinese_number

PROJECT = Path(__file__).resolve().parents[1]
CORPUS = PROJECT / "corpus"
SHARED = PROJECT.parent / "shared" / "corpus"
NOTES = sorted((CORPUS / "notes").glob("*.yml"))
METADATA_FILES = {"README.md", "MANIFEST.tsv", "manifest.tsv"}  # describe the corpus; not documents
CURRENT = {Status.IN_FORCE, Status.AMENDED}
UNCITED_NOTES = {"scope"}  # out-of-scope notices: they say what the assistant does not cover, so cite nothing
EXPECTED_IDS = {
    "order-292", "telecom-regulations", "mii-order-33", "miit-order-68", "miit-order-42", "telecom-catalogue",
    "fie-telecom-provisions", "negative-list-2024", "miit-2015-ecommerce-notice", "miit-2024-pilot-notice",
    "miit-2025-pilot-followup", "miit-2023-app-filing-notice", "miit-2017-domain-notice", "miit-order-43",
    "mps-order-33", "international-networking-interim-provisions", "cybersecurity-law", "e-commerce-law",
    "website-management-rules-2005",
}
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpus is not available")

@cache
def articles_in(doc_id: str) -> frozenset[int]:
    """Article numbers of a shared document, from the 第X条 lines that open each article."""
    text = (SHARED / doc_id).read_text(encoding="utf-8")
    return frozenset(chinese_number(m) for m in re.findall(r"^第([零〇一二两三四五六七八九十百千]+)条", text, re.MULTILINE))


def doc_exists(doc_id: str) -> bool:
    return (CORPUS / doc_id).is_file() if doc_id.startswith("notes/") else (SHARED / doc_id).is_file()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(CORPUS / "registry.yml")


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary(CORPUS / "glossary.yml")


def test_chinese_number() -> None:
    assert [chinese_number(s) for s in ("一", "十", "十二", "二十", "二十四", "七十九", "一百", "一百零五")] == [
        1, 10, 12, 20, 24, 79, 100, 105]


# --- registry schema ---------------------------------------------------------------------------------------

def test_registry_has_the_agreed_instrument_ids(registry: Registry) -> None:
    assert EXPECTED_IDS <= {i.id for i in registry.instruments}
    ids = [i.id for i in registry.instruments] + [s.id for s in registry.sources]
    assert len(ids) == len(set(ids))


def test_instruments_are_complete(registry: Registry) -> None:
    for inst in registry.instruments:
        assert inst.title_zh and inst.title_en and inst.versions, inst.id
        if inst.full_text:
            assert any(v.files for v in inst.versions), f"{inst.id}: full_text but no files"
        for note in inst.notes:
            assert (CORPUS / note).is_file(), f"{inst.id}: note {note} missing"


def test_supersession_chain_is_consistent(registry: Registry) -> None:
    for inst in registry.instruments:
        labels = {v.version: v for v in inst.versions}
        for v in inst.versions:
            if v.status is Status.SUPERSEDED:
                assert v.superseded_by_version in labels, f"{inst.id} {v.version}: superseded without successor"
            if v.superseded_by_version:
                newer = labels[v.superseded_by_version]
                assert newer.version != v.version
                assert v.superseded_by == (newer.files[0] if newer.files else "")
                if v.date_effective and newer.date_effective:
                    assert newer.date_effective > v.date_effective, f"{inst.id} {v.version}"
        current = [v for v in inst.versions if v.status in CURRENT]
        assert len(current) <= 1, f"{inst.id}: more than one version in force"
        if inst.full_text and any(v.status is not Status.UNKNOWN for v in inst.versions):
            assert len(current) == 1 and current[0].files, f"{inst.id}: needs exactly one version in force with text"


@needs_shared
def test_every_files_entry_exists(registry: Registry) -> None:
    for inst in registry.instruments:
        for v in inst.versions:
            for f in v.files:
                assert (SHARED / f).is_file(), f"{inst.id} {v.version}: {f} missing"


@needs_shared
def test_every_shared_file_maps_to_exactly_one_instrument_or_source(registry: Registry) -> None:
    from fnmatch import fnmatchcase

    for path in sorted(p for p in SHARED.rglob("*") if p.is_file() and p.name not in METADATA_FILES):
        doc_id = path.relative_to(SHARED).as_posix()
        owners = [i.id for i in registry.instruments for v in i.versions if doc_id in v.files]
        owners += [s.id for s in registry.sources if any(fnmatchcase(doc_id, pat) for pat in s.files)]
        assert len(owners) == 1, f"{doc_id} maps to {owners}"
        assert registry.instrument_for(doc_id) is not None


@needs_shared
def test_outdated_and_renumbered_articles_exist(registry: Registry) -> None:
    for inst in registry.instruments:
        files = {v.version: v.files for v in inst.versions}
        for entry in inst.outdated_articles:
            for f in files[entry.version]:
                assert set(entry.articles) <= articles_in(f), f"{inst.id}: {entry.articles}"
        for move in inst.renumbered:
            assert move.from_article in articles_in(files[move.from_version][0])
            assert move.to_article in articles_in(files[move.to_version][0])


def test_lookups(registry: Registry) -> None:
    csl_2016 = "regulations/cybersecurity-law-2016.zh.md"
    filing = "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md"
    assert registry.renumbered_to(csl_2016, 24) == 26
    assert registry.renumbered_to(csl_2016, 21) == 23
    assert registry.renumbered_to("regulations/cybersecurity-law-2025.zh.md", 26) is None
    version = registry.version_for(csl_2016)
    assert version is not None and version.status is Status.SUPERSEDED
    assert version.superseded_by == "regulations/cybersecurity-law-2025.zh.md"
    assert "verification" in (registry.outdated_reason(filing, 13, "en") or "")
    assert "电子验证标识" in (registry.outdated_reason(filing, 25, "zh") or "")
    assert registry.outdated_reason(filing, 5, "en") is None
    inst = registry.instrument_for("guides/tencentcloud/tencentcloud-intl-beian-ci-hui-biao.zh.md")
    assert inst is not None and inst.id == "tencentcloud-guides"
    assert getattr(registry.instrument_for("notes/instrument-miit-order-42.yml"), "id", None) == "miit-order-42"
    assert registry.instrument_for("guides/unknown/x.md") is None
    assert {c.id for c in registry.conflicts_for("guides/blog/remotepad-what-is-the-china-icp-license.en.md")} >= {
        "blog-51-percent"}


@needs_shared
def test_conflicts_point_to_real_docs_and_articles(registry: Registry) -> None:
    assert registry.conflicts
    for c in registry.conflicts:
        assert doc_exists(c.doc), f"{c.id}: {c.doc}"
        assert c.claim and c.warning_en and c.warning_zh and c.contradicts
        for ref in c.contradicts:
            assert doc_exists(ref.doc), f"{c.id}: {ref.doc}"
            assert ref.article is None or ref.article in articles_in(ref.doc), f"{c.id}: {ref.doc} Art. {ref.article}"


# --- notes -------------------------------------------------------------------------------------------------

def _load_note(path: Path) -> NoteFile:
    return validate_note(path.read_text(encoding="utf-8"), path)  # SchemaError lists every problem


@pytest.mark.parametrize("path", NOTES, ids=[p.stem for p in NOTES])
def test_note_schema_and_cites(path: Path, registry: Registry) -> None:
    note = _load_note(path)
    assert note.id == path.stem
    for st in note.statements:
        where = f"{path.name}:{st.id}"
        assert st.cites or (path.stem in UNCITED_NOTES and st.scope == "out"), f"{where}: no cites"
        for cite in st.cites:
            if cite.instrument:
                instrument = registry.instrument(cite.instrument)
                assert instrument and not instrument.full_text, f"{where}: {cite.instrument}"
                assert registry.stand_in_note(cite.instrument), f"{where}: {cite.instrument} has no stand-in note"
            else:
                assert cite.doc is not None
                if cite.doc.startswith("notes/") or SHARED.is_dir():
                    assert doc_exists(cite.doc), f"{where}: {cite.doc} missing"
                if cite.article is not None and SHARED.is_dir():
                    assert cite.article in articles_in(cite.doc), f"{where}: {cite.doc} has no Art. {cite.article}"


def test_statement_ids_unique_across_notes() -> None:
    ids = [st.id for p in NOTES for st in _load_note(p).statements]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


# --- glossary ----------------------------------------------------------------------------------------------

def test_glossary_terms(glossary: Glossary) -> None:
    assert len(glossary.terms) >= 40
    assert len({t.id for t in glossary.terms}) == len(glossary.terms)
    for t in glossary.terms:
        assert t.en and t.zh and t.definition_en and t.definition_zh, t.id
    aliases = [a.lower() for t in glossary.terms for a in t.en + t.zh]
    assert len(aliases) == len(set(aliases)), sorted({a for a in aliases if aliases.count(a) > 1})


@pytest.mark.parametrize(("text", "expected"), [
    ("Does my blog need beian?", "备案"),
    ("Does my blog need Bei'an?", "备案"),
    ("bei an for a personal site", "备案"),
    ("外商独资企业可以做电商吗", "WFOE"),
    ("How do I get an ICP lisence?", "ICP证"),
    ("公安备案多久办完", "public security filing"),
    ("Is EDI needed for a marketplace?", "在线数据处理与交易处理"),
])
def test_expand(glossary: Glossary, text: str, expected: str) -> None:
    assert expected in glossary.expand(text)


@pytest.mark.parametrize(("text", "term"), [
    ("Is the police (public security) filing mandatory?", "psb-filing"),  # a bracket between a name's words
    ("Do I need a public-security filing?", "psb-filing"),
])
def test_a_name_is_found_across_brackets_and_hyphens(glossary: Glossary, text: str, term: str) -> None:
    assert term in [t.id for t in glossary.find(text)]


def test_synonyms_are_the_other_chinese_names_of_the_terms_a_chinese_text_names(glossary: Glossary) -> None:
    found = glossary.synonyms("个人可以做网站备案吗？")
    assert "非经营性互联网信息服务备案" in found  # the law's word for the everyday one
    assert "网站备案" not in found and not any(name.isascii() for name in found)  # not the word used, no English
    assert glossary.synonyms("Does my blog need beian?") == []  # English terms: ``expand`` gives their Chinese names


def test_find_prefers_longest_match_and_word_boundaries(glossary: Glossary) -> None:
    assert [t.id for t in glossary.find("公安备案")] == ["psb-filing"]  # not also "beian"
    assert [t.id for t in glossary.find("non-commercial website")] == ["non-commercial"]
    assert [t.id for t in glossary.find("外商独资企业")] == ["wfoe"]
    assert "edi" not in [t.id for t in glossary.find("the credit card was approved")]  # no "edi" inside "credit"
    assert [t.id for t in glossary.find("ICP filing and ICP filing")] == ["beian"]
    expanded = glossary.expand("ICP filing, icp FILING")
    assert len(expanded) == len(set(expanded))


@pytest.mark.parametrize("text", [
    "Do I need an ICP-Filing?", "icp   filing for my blog", "The ICP FILING NUMBER", "beian", "Bei’an", "BEI-AN",
    "外商独资企业能否备案", "公安联网备案", "the credit card", "filing ICP", "", "ＩＣＰ filing", "Kelvin: ICP filing",
])
def test_mentions_equals_a_search_of_the_terms_patterns(glossary: Glossary, text: str) -> None:
    # ``mentions`` rules texts out by a plain substring before running a pattern; it must never change the answer
    for term in glossary.terms:
        by_pattern = any(p.search(text) for t, _, p in glossary._patterns if t is term)
        assert glossary.mentions(term, text) == by_pattern, (term.id, text)


# --- malformed files ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [
    "- just a list\n",
    "instruments: [ {id: x\n",
    "instruments:\n  - {title_zh: t, title_en: t, kind: law, versions: [{version: '1', status: in force}]}\n",
    "instruments:\n  - {id: x, title_zh: t, title_en: t, kind: law, versions: [{version: '1', status: valid}]}\n",
    "instruments:\n  - {id: x, title_zh: t, title_en: t, kind: statute, versions: [{version: '1', status: in force}]}\n",
    ("instruments:\n  - {id: x, title_zh: t, title_en: t, kind: law,"
    " versions: [{version: '1', status: superseded, superseded_by: '9'}]}\n"),
    ("instruments:\n  - {id: x, title_zh: t, title_en: t, kind: law, versions: [{version: '1', status: in force}]}\n"
    "  - {id: x, title_zh: t, title_en: t, kind: law, versions: [{version: '1', status: in force}]}\n"),
])
def test_malformed_registry_raises_corpus_error_naming_the_path(tmp_path: Path, content: str) -> None:
    assert_malformed(tmp_path / "registry.yml", content, load_registry)


@pytest.mark.parametrize("content", [
    "terms: [{id: a, en: [x], definition_en: d, definition_zh: d}]\n",
    "terms: [{id: a, en: x, zh: [y], definition_en: d, definition_zh: d}]\n",
    ("terms: [{id: a, en: [x], zh: [y], definition_en: d, definition_zh: d},"
    " {id: a, en: [z], zh: [w], definition_en: d, definition_zh: d}]\n"),
])
def test_malformed_glossary_raises_corpus_error_naming_the_path(tmp_path: Path, content: str) -> None:
    assert_malformed(tmp_path / "glossary.yml", content, load_glossary)


def assert_malformed(path: Path, content: str, loader: Callable[[Path], object]) -> None:
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=re.escape(str(path))):
        loader(path)


def test_missing_registry_file_raises_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"absent\.yml"):
        load_registry(tmp_path / "absent.yml")
