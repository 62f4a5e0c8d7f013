"""A tiny, complete corpus root that passes ``icp-assistant check``, written into a temp folder.

Two versions of one regulation (2010 superseded, 2020 in force), an instrument without full text and its
stand-in note, a provider guide, a registry, a glossary, one topical note and one eval dataset. Tests break
one thing at a time with ``replace`` (line numbers stay put) and expect exactly one problem line.
"""

from __future__ import annotations

from pathlib import Path

REGISTRY = """\
instruments:
  - id: test-measures
    title_zh: 测试办法
    title_en: Test Measures
    kind: department rule
    full_text: true
    versions:
      - version: "2010"
        date_effective: 2010-01-01
        status: superseded
        superseded_by: "2020"
        files: [regulations/test-measures-2010.zh.md]
      - version: "2020"
        date_effective: 2020-01-01
        status: in force
        files: [regulations/test-measures-2020.zh.md]
  - id: test-notice
    title_zh: 测试通知
    title_en: Test Notice
    kind: notice
    full_text: false
    versions:
      - {version: "2021", status: in force, files: []}
    notes: [notes/instrument-test-notice.yml]
sources:
  - id: test-guides
    kind: provider guide
    files: ["guides/test/*"]
conflicts:
  - id: guide-says-no-filing
    doc: guides/test/guide.en.md
    claim: "No filing is needed."
    contradicts: [{doc: regulations/test-measures-2020.zh.md, article: 2}]
    warning_en: "Wrong: Art. 2 requires a filing."
    warning_zh: "有误：第二条要求备案。"
"""

GLOSSARY = """\
terms:
  - id: test-filing
    en: [test filing, test recordal]
    zh: [测试备案]
    definition_en: "The filing the Test Measures require."
    definition_zh: "测试办法规定的备案。"
"""


def regulation(year: int, articles: list[str]) -> str:
    body = "\n\n".join(f"第{'一二三四五'[i]}条 {text}" for i, text in enumerate(articles))
    return (f'---\ntitle: "测试办法"\ntitle_en: "Test Measures"\ndocument_number: "测试部令第1号"\n'
            f'date_effective: "{year}-01-01"\nstatus: "in force"\n---\n# 测试办法\n\n{body}\n')


GUIDE = "<!--\nprovider: Test Cloud\nlanguage: en\n-->\n# Test filing FAQ\n\n### Do I need a filing?\n\nNo.\n"

NOTE = """\
id: filing
title_en: Test filing
title_zh: 测试备案
kind: project note
authority: "Project note: ranks below primary texts."
reviewed: 2026-11-28
checked_against:
  - "regulations/test-measures-2020.zh.md Arts. 2, 3"
statements:
  - id: filing-needed
    questions:
      en:
        - "Do I need a test filing?"
        - "Is the test filing required?"
      zh:
        - "需要测试备案吗？"
    verdict:
      en: "Yes — every website needs a test filing."
      zh: "需要——每个网站都要办理测试备案。"
    text:
      en: "Art. 2 of the Test Measures requires a filing before a website opens."
      zh: "测试办法第二条要求网站开通前备案。"
    cites:
      - {doc: regulations/test-measures-2020.zh.md, article: 2}
      - {instrument: test-notice, article: null, verified: false, role: support}
  - id: filing-time
    questions:
      en: ["How long does a test filing take?"]
      zh: ["测试备案要多久？"]
    text:
      en: "The administration decides within 20 working days (Art. 3)."
      zh: "管理部门在二十个工作日内作出决定（第三条）。"
    cites:
      - {doc: regulations/test-measures-2020.zh.md, article: 3}
"""

STAND_IN = """\
id: instrument-test-notice
title_en: Test Notice (no full text)
title_zh: 测试通知（无全文）
kind: project note
authority: "Project note: stands in for a text that is not in the corpus."
reviewed: 2026-11-28
checked_against: ["secondary sources"]
statements:
  - id: test-notice-says
    questions: {en: ["What does the Test Notice say?"], zh: ["测试通知规定了什么？"]}
    text: {en: "The Test Notice extends filing to apps.", zh: "测试通知把备案扩展到App。"}
    cites:
      - {instrument: test-notice, article: null, verified: false}
"""

ITEM = ('{"id": "t-001", "user_input": "Do I need a test filing?", "reference": "Yes, Art. 2.", "verdict": "Yes", '
        '"key_facts": ["A filing is required"], "reference_context_ids": [{"doc_id": '
        '"regulations/test-measures-2020.zh.md", "article_no": 2}], '
        '"tags": {"topic": "filing", "difficulty": "easy", "language": "en", "split": "dev"}}')

FILES = {
    "registry.yml": REGISTRY,
    "glossary.yml": GLOSSARY,
    "regulations/test-measures-2010.zh.md": regulation(2010, ["为了测试，制定本办法。", "网站应当备案。"]),
    "regulations/test-measures-2020.zh.md": regulation(
        2020, ["为了测试，制定本办法。", "网站开通前应当备案。", "管理部门应当在二十个工作日内作出决定。"]),
    "guides/test/guide.en.md": GUIDE,
    "notes/filing.yml": NOTE,
    "notes/instrument-test-notice.yml": STAND_IN,
}


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def tiny_corpus(folder: Path) -> tuple[Path, Path]:
    """(corpus root, datasets folder) of a corpus without problems."""
    root = folder / "corpus"
    for rel, text in FILES.items():
        write(root, rel, text)
    datasets = folder / "datasets"
    write(datasets, "set.jsonl", ITEM + "\n")
    return root, datasets
