"""Corpus parsing on the real shared files and on malformed ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.corpus import parse_date, parse_effective, parse_status, scan_corpus
from assistant.models import Kind, Status
from tests.fixtures import require_shared

REG = """---
title: "测试办法"
title_en: "Test Measures"
document_number: "测试部令第1号"
date_effective: "2020-01-01 (Art. 3)"
status: "in force"
article_check: "found 3 articles; expected 3"
---
# 测试办法

第一条 为了测试，制定本办法。

第二条 依照本办法第一条的规定，
第一条所称测试，是指测试。

第三条 本办法自2020年1月1日起施行。
"""


NOTE_HEAD = """title_en: T
title_zh: 题
kind: project note
authority: Project note.
reviewed: 2026-11-28
checked_against: [a text]
"""


def write(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_every_shared_file_parses_with_doc_id_relative_to_its_root() -> None:
    shared = require_shared()
    scan = scan_corpus([shared])
    assert scan.problems == ()
    ids = {d.doc_id for d in scan.documents}
    assert "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md" in ids
    assert any(i.startswith("guides/tencentcloud/") for i in ids)
    assert scan.per_root[str(shared)] == len(scan.documents)


def test_regulation_headers_become_typed_records() -> None:
    scan = scan_corpus([require_shared()])
    docs = {d.doc_id: d for d in scan.documents}
    order33 = docs["regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md"]
    assert order33.kind == Kind.DEPARTMENT_RULE
    assert order33.status == Status.AMENDED
    assert order33.date_effective == date(2005, 3, 20)
    assert order33.expected_articles == 29
    assert docs["regulations/internet-information-services-measures-2024.zh.md"].status == Status.IN_FORCE
    assert docs["regulations/internet-information-services-measures-2024.zh.md"].date_effective == date(2025, 1, 20)
    assert docs["regulations/cybersecurity-law-2025.zh.md"].kind == Kind.LAW
    assert docs["partial/miit-vats-opening-pilot-notice-2024.PARTIAL.zh.md"].partial
    assert docs["guides/blog/remotepad-what-is-the-china-icp-license.en.md"].kind == Kind.BLOG


@pytest.mark.parametrize(("value", "expected"), [
    ("2005-03-20 (Art. 29) -- seen in text", date(2005, 3, 20)),
    ("2000年9月25日", date(2000, 9, 25)),
    ("not stated in the excerpt", None),
    ("2024-13-45", None),
    (None, None),
])
def test_dates_are_parsed_defensively(value: object, expected: date | None) -> None:
    assert parse_date(value) == expected


def test_effective_date_of_a_revision_is_the_revision_date() -> None:
    assert parse_effective("2002-01-01 (Art. 17); revised text in force 2022-05-01 per source") == date(2022, 5, 1)


@pytest.mark.parametrize(("value", "expected"), [
    ("in force (flk metadata 'in_force'); NOTE ... labels it superseded", Status.IN_FORCE),
    ("superseded by the 2022 revision", Status.SUPERSEDED),
    ("in force as amended (department rule); THIS TEXT IS OUTDATED", Status.AMENDED),
    ("unknown / not verified", Status.UNKNOWN),
])
def test_status_from_free_text(value: str, expected: Status) -> None:
    assert parse_status(value) == expected


@pytest.mark.parametrize(("rel", "data", "problem"), [
    ("regulations/bad-utf8.zh.md", b"---\ntitle: x\n---\n\xff\xfe body", "not valid UTF-8"),
    ("regulations/no-header.zh.md", "第一条 没有头。", "no header"),
    ("regulations/open-header.zh.md", "---\ntitle: x\n第一条 没有结束。", "not closed"),
    ("regulations/bad-yaml.zh.md", "---\ntitle: [unclosed\n---\n第一条 内容。", "bad YAML"),
    ("regulations/empty-body.zh.md", "---\ntitle: x\n---\n\n", "empty body"),
    ("regulations/empty.zh.md", "", "empty file"),
    ("guides/x/no-provider.en.md", "<!--\nlanguage: en\n-->\n# T\ntext", "no 'provider'"),
    ("notes/bad-note.yml", "id: bad-note\n" + NOTE_HEAD + "statements: []\n", "statements: empty"),
    ("notes/uncited.yml", "id: uncited\n" + NOTE_HEAD + "statements:\n  - id: s\n    questions: {en: [q], zh: [问]}\n"
     "    text: {en: a, zh: b}\n", "statement 's': cites: an in-scope statement needs at least one cite"),
    ("notes/misnamed.yml", "id: other\n" + NOTE_HEAD + "statements:\n  - id: s\n    questions: {en: [q], zh: [问]}\n"
     "    text: {en: a, zh: b}\n    cites: [{doc: regulations/good.zh.md, article: 1}]\n", "'other' is not the file name"),
])
def test_malformed_files_are_reported_and_the_rest_still_parses(tmp_path: Path, rel: str, data: str | bytes,
                                                                problem: str) -> None:
    write(tmp_path, "regulations/good.zh.md", REG)
    bad = write(tmp_path, rel, data)
    scan = scan_corpus([tmp_path])
    assert [d.doc_id for d in scan.documents] == ["regulations/good.zh.md"]
    assert len(scan.problems) == 1
    assert scan.problems[0].path == str(bad)
    assert problem in scan.problems[0].message


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "regulations/huge.zh.md", REG + "第四条 " + "长" * (6 * 1024 * 1024))
    scan = scan_corpus([tmp_path])
    assert scan.documents == () and "too large" in scan.problems[0].message


def test_duplicate_doc_id_across_roots_keeps_the_first(tmp_path: Path) -> None:
    write(tmp_path / "a", "regulations/x.zh.md", REG)
    write(tmp_path / "b", "regulations/x.zh.md", REG.replace("测试办法", "另一个"))
    scan = scan_corpus([tmp_path / "a", tmp_path / "b"])
    assert [d.title for d in scan.documents] == ["测试办法"]
    assert "duplicate doc_id" in scan.problems[0].message


def test_symlink_loop_and_missing_root_do_not_hang(tmp_path: Path) -> None:
    write(tmp_path, "regulations/good.zh.md", REG)
    (tmp_path / "regulations" / "loop").symlink_to(tmp_path, target_is_directory=True)
    scan = scan_corpus([tmp_path, tmp_path / "missing"])
    assert len(scan.documents) == 1
    assert scan.per_root[str(tmp_path / "missing")] == -1
