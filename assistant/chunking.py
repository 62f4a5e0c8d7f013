"""Chunking stage: ``Document`` -> ``Chunk``s along the legal structure.

- Regulations: one chunk per article (第X条); an article longer than the embedding window is split at
  paragraph, item and sentence boundaries (。；) and every part repeats the header path when embedded.
  A chunk never spans two articles; text after the last article under a new heading is an annex. Its sentences
  are facets (what can be quoted), and so are the questions its clauses answer (``asked.py``, matched only).
- Guides: one chunk per heading section; a FAQ ``### question`` block stays whole with its answer.
- Project notes: one chunk per statement and language.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from .asked import derived_questions
from .models import Chunk, Document, Kind
from .text import (
    ARTICLE_START,
    HEADING,
    QUESTION_LABEL,
    article_label,
    chinese_number,
    detect_language,
    sentences,
    statements,
)

# multilingual-e5-small reads 512 tokens; Chinese runs ~1 token per character, so stay well below.
MAX_ARTICLE_CHARS = 450
MAX_GUIDE_CHARS = 1200


def chunk_id(doc_id: str, position: int, embed_text: str) -> str:
    """Stable id from (doc_id, position, content hash): unchanged text keeps its id and embedding."""
    digest = hashlib.sha1(embed_text.encode("utf-8")).hexdigest()[:16]
    return f"{doc_id}#{position}:{digest}"


def chunk_document(doc: Document) -> list[Chunk]:
    if doc.kind == Kind.PROJECT_NOTE:
        return _number(doc, _note_pieces(doc))
    if doc.kind in (Kind.PROVIDER_GUIDE, Kind.BLOG):
        return _number(doc, _guide_pieces(doc))
    return _number(doc, _regulation_pieces(doc))


def _number(doc: Document, pieces: Iterator[dict]) -> list[Chunk]:
    """Chunks in document order; each unit is followed by its facets (questions or sentences) that point at it."""
    chunks: list[Chunk] = []
    for piece in pieces:
        facets = piece.pop("facets", ())
        if not piece["text"].strip():
            continue
        unit = _numbered(doc, len(chunks), piece)
        chunks.append(unit)
        for facet, text in dict.fromkeys(facets):
            chunks.append(_numbered(doc, len(chunks), {
                "text": text, "title_path": unit.title_path, "article_no": unit.article_no, "part": unit.part,
                "statement_id": unit.statement_id, "annex": unit.annex, "language": detect_language(text),
                "facet": facet, "parent": unit.chunk_id}))
    return chunks


def drop_repeated_facets(chunks: list[Chunk], guides: set[str], max_docs: int = 2) -> list[Chunk]:
    """Without the sentence facets of guides (``guides``: their doc_ids) that recur in more than ``max_docs``
    guide pages: boilerplate (a line on every Tencent page about authorization codes) names a topic and
    answers nothing, yet it matched every question on that topic above the page that answers it (issue #11).
    Regulations keep theirs: an article repeated across versions of a text is still the law."""
    docs: dict[str, set[str]] = {}
    for chunk in chunks:
        if chunk.facet == "sentence" and chunk.doc_id in guides:
            docs.setdefault(chunk.text, set()).add(chunk.doc_id)
    return [c for c in chunks if c.facet != "sentence" or len(docs.get(c.text, ())) <= max_docs]


def _numbered(doc: Document, position: int, piece: dict) -> Chunk:
    draft = Chunk(chunk_id="", doc_id=doc.doc_id, position=position, **piece)
    return replace(draft, chunk_id=chunk_id(doc.doc_id, position, draft.embed_text))


# --- regulations ---------------------------------------------------------------------------------------------


def split_articles(body: str) -> list[tuple[int | None, list[str], str]]:
    """(article_no, heading path, text) per article; annex sections get article_no None.

    A line starting with 第X条 starts an article only if X follows the previous article number, so a
    paragraph that happens to begin with a cross-reference ("第五条规定的……") stays inside its article.
    """
    articles: list[tuple[int | None, list[str], str]] = []
    headings: dict[int, str] = {}
    current_no: int | None = None
    current_path: list[str] = []
    lines: list[str] = []
    last_no = 0

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text and (current_no is not None or last_no > 0):
            articles.append((current_no, current_path, text))
        lines.clear()

    for line in body.splitlines():
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if current_no is not None or last_no > 0:
                flush()
                current_no = None  # a heading ends the article before it; text until the next article is annex
            headings = {lvl: t for lvl, t in headings.items() if lvl < level}
            headings[level] = heading.group(2)
            current_path = [headings[k] for k in sorted(headings) if k > 1]
            continue
        start = ARTICLE_START.match(line)
        if start:
            try:
                number = chinese_number(start.group(1))
            except ValueError:
                number = -1
            if number == last_no + 1:
                flush()
                current_no, last_no = number, number
                current_path = [headings[k] for k in sorted(headings) if k > 1]
        lines.append(line)
    flush()
    return articles


def split_long(text: str, limit: int) -> list[str]:
    """Split at paragraphs, then at 。；; pieces are verbatim substrings of ``text``."""
    if len(text) <= limit:
        return [text]
    units = [u for u in re.split(r"(?<=\n)|(?<=[。；;！？!?])", text) if u]
    parts, current = [], ""
    for unit in units:
        if current and len(current) + len(unit) > limit:
            parts.append(current)
            current = ""
        while len(unit) > limit:  # one sentence longer than the window: cut it (rare)
            parts.append(unit[:limit])
            unit = unit[limit:]
        current += unit
    if current:
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _regulation_pieces(doc: Document) -> Iterator[dict]:
    title = f"《{doc.title}》"
    if not any(no is not None for no, _, _ in split_articles(doc.body)):
        # A text without articles (e.g. the partial pilot notice): paragraphs under their headings.
        yield from _section_pieces(doc, MAX_ARTICLE_CHARS)
        return
    articles = split_articles(doc.body)
    by_number = {no: text for no, _, text in articles if no is not None}
    for article_no, path, text in articles:
        label = article_label(article_no) if article_no is not None else "附录"
        title_path = " › ".join([title, *[p for p in path if p != doc.title], label])
        for part, piece in enumerate(split_long(text, MAX_ARTICLE_CHARS)):
            asked = derived_questions(piece, by_number) if article_no is not None else []
            yield {"text": piece, "title_path": title_path, "article_no": article_no, "part": part,
                   "language": "zh", "annex": article_no is None,
                   "facets": [("sentence", sent) for sent in sentences(piece)] + [("derived", q) for q in asked]}


# --- guides ----------------------------------------------------------------------------------------------------


@dataclass
class _Section:
    """One heading of a guide page: the lines directly under it (``own``) and its sub-headings; line numbers
    index the page body, so every text taken from a section is a verbatim slice of it."""

    level: int
    heading: str
    path: list[str]
    start: int  # the heading line (or 0 for the text before the first heading)
    own_end: int = 0  # end of the lines directly under the heading
    end: int = 0  # end of the whole subtree
    children: list[_Section] = field(default_factory=list)


def _outline(lines: list[str]) -> _Section:
    """The heading tree of a Markdown page (the root holds the text before the first heading)."""
    root = _Section(level=0, heading="", path=[], start=0)
    stack = [root]
    for i, (line, fenced) in enumerate(zip(lines, _fenced(lines), strict=True)):
        m = None if fenced else HEADING.match(line)  # "# Fetch raw HTML" in a code block is a comment
        if not m:
            continue
        level = len(m.group(1))
        while stack[-1].level >= level:
            done = stack.pop()
            done.end = i
        parent = stack[-1]
        if not parent.children:
            parent.own_end = i
        section = _Section(level=level, heading=m.group(2), path=[*parent.path, m.group(2)], start=i)
        parent.children.append(section)
        stack.append(section)
    for section in stack:
        section.end = len(lines)
    for section in _walk(root):
        if not section.children:
            section.own_end = section.end
    return root


def _walk(section: _Section) -> Iterator[_Section]:
    yield section
    for child in section.children:
        yield from _walk(child)


def _units(section: _Section, lines: list[str], content: list[bool]) -> Iterator[tuple[_Section, str]]:
    """(section, text) per answer unit: a question heading keeps everything under it (its answer may sit
    under sub-headings such as "处理办法"); another heading gives its own lines, then its children. Lines
    that are metadata (``content`` False) never make a unit on their own."""
    heading = section.heading.strip("*# ").strip()
    if section.level and NAVIGATION.match(heading):
        return
    whole = section.level and is_question(heading)
    stop = section.end if whole else section.own_end
    body = [i for i in range(section.start + (1 if section.level else 0), stop) if content[i] and lines[i].strip()]
    if body:
        first, last = (section.start if section.level else body[0]), body[-1]
        yield section, "\n".join(lines[first:last + 1]).strip()
    if not whole:
        for child in section.children:
            yield from _units(child, lines, content)


# Navigation and boilerplate sections of guides: retrieval never needs them and they crowd out answers.
NAVIGATION = re.compile(r"^(?:参见|相关文档|相关链接|相关阅读|see also|related (?:documents|links|topics))$", re.IGNORECASE)
# A heading that names no topic of its own: matched together with the page title.
GENERIC_HEADING = re.compile(r"^(?:\d+[.、]\s*)?(?:概述|简介|详细内容|说明|操作场景|操作步骤|注意事项|前提条件|处理办法|"
                             r"解决方法|问题描述|可能原因|原因|示例|overview|details|description|steps|notes?)$",
                             re.IGNORECASE)
QUESTION_WORDS = re.compile(r"[?？]|吗|如何|怎么|怎样|什么|为什么|为何|是否|能否|可否|可以|哪些|哪里|多久|多长|需要|"
                            r"^(?:how|what|why|when|where|which|who|can|could|do|does|is|are|should|will|must|may)\b",
                            re.IGNORECASE)
SOURCE_LINE = re.compile(r"^>\s*(?:来源|原始资料|source)[:：].*$", re.IGNORECASE)


def is_question(heading: str) -> bool:
    return bool(QUESTION_WORDS.search(heading)) and not GENERIC_HEADING.match(heading)


def question_facet(title: str, heading: str) -> str:
    """The text a section is matched on as a question: a question heading alone, another heading with its
    page title (so "操作场景" reads "备案注销咨询 操作场景")."""
    heading = heading.strip("*# ").strip()
    if not heading or heading == title:
        return title
    return heading if is_question(heading) else f"{title} {heading}"


def _content_lines(lines: list[str]) -> list[bool]:
    """False for lines that are not content: fenced blocks (YAML metadata, an agent skill's shell commands) and
    source lines of the distilled guides. They stay in a unit's verbatim text when they sit inside it, but never
    start or end one, and are never quoted."""
    return [not fenced and not SOURCE_LINE.match(line) for line, fenced in zip(lines, _fenced(lines), strict=True)]


def _fenced(lines: list[str]) -> list[bool]:
    """True for the lines of fenced code blocks, their ``` fences included."""
    marks, inside = [], False
    for line in lines:
        fence = line.strip().startswith("```")
        marks.append(inside or fence)
        inside = inside != fence
    return marks


# An agent skill's definition (a SKILL.md: "instructions for an AI agent, kept only as context") answers only through
# its worked Q/A examples; its prerequisites, workflow and tone rules are about the agent ("Prerequisite check:
# Python >= 3.9 required" led "do we really need to install the Huawei Cloud app for the face check?"). The
# skill's knowledge base (references/knowledge-base.md) is content and stays whole.
AGENT_SKILL = re.compile(r"(?:^|/)SKILL\.md$", re.IGNORECASE)


def qa_questions(text: str) -> list[str]:
    """The questions of the Q/A pairs in a section ("**Q**: 备案数量已达上限怎么办？")."""
    return [QUESTION_LABEL.sub("", line).strip(" *_") for line in text.splitlines() if QUESTION_LABEL.match(line)]


def _section_pieces(doc: Document, limit: int) -> Iterator[dict]:
    lang = "en" if doc.language == "en" else "zh"
    body = _strip_inner_front_matter(doc.body)
    lines = body.splitlines()
    skill = bool(AGENT_SKILL.search(doc.extra.get("path", "")))
    for section, text in _units(_outline(lines), lines, _content_lines(lines)):
        heading = section.heading
        asked = qa_questions(text)
        if skill and not (asked and _quotable(text)):
            continue  # (an example whose answer is all in a code block has nothing to quote)
        title_path = " › ".join([doc.title, *[p for p in section.path if p != doc.title]])
        # A Q/A pair is matched on its question as well as its heading ("Example 2: Cancel access filing…").
        facets = ([("question", question_facet(doc.title, heading))] if heading else []) + [("question", q) for q in asked]
        # A FAQ question block stays whole with its answer; other long sections split at paragraphs.
        pieces = [text] if heading and is_question(heading.strip("*# ").strip()) else split_long(text, limit)
        for part, piece in enumerate(pieces):
            yield {"text": piece, "title_path": title_path, "part": part, "language": lang,
                   "facets": (facets if part == 0 else []) + [("sentence", s) for s in _quotable(piece)]}


def _quotable(text: str) -> list[str]:
    """The sentences of a guide's text that can be quoted: neither source lines nor code."""
    lines = text.splitlines()
    clean = "\n".join(line for line, content in zip(lines, _content_lines(lines), strict=True) if content)
    return [s for s in statements(clean) if s in text]


def _guide_pieces(doc: Document) -> Iterator[dict]:
    if doc.extra.get("format") == "yaml":  # YAML guide files have no headings: blocks of lines
        lang = "en" if doc.language == "en" else "zh"
        for part, piece in enumerate(split_long(doc.body, MAX_GUIDE_CHARS)):
            yield {"text": piece, "title_path": doc.title, "part": part, "language": lang}
        return
    yield from _section_pieces(doc, MAX_GUIDE_CHARS)


def _strip_inner_front_matter(body: str) -> str:
    """Some guides carry a second YAML block (title/sources) after their comment header: not content."""
    stripped = body.lstrip()
    if stripped.startswith("---\n"):
        end = stripped.find("\n---", 4)
        if end > 0:
            return stripped[end + 4 :]
    return body


# --- project notes ---------------------------------------------------------------------------------------------


def _note_pieces(doc: Document) -> Iterator[dict]:
    for st in doc.statements:
        for lang in ("en", "zh"):
            verdict = st.verdict.get(lang, "")
            text = "\n".join(p for p in (verdict, st.text[lang]) if p)
            title = doc.title_en if lang == "en" else doc.title
            yield {"text": text, "title_path": title, "statement_id": st.id, "language": lang,
                   "context": "\n".join(st.questions.get(lang, ())),
                   "facets": [("question", q) for q in st.questions.get(lang, ())]}
