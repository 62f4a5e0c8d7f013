"""Corpus stage: find the corpus roots, parse every file's header into a typed ``Document``.

Hands on ``Document``s (and a list of ``Problem``s for files that could not be used) to chunking.
Headers are free text written by people: dates and status are parsed defensively.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from .errors import CorpusError
from .models import Document, Kind, NoteStatement, Status
from .schema import LineMap, Problem, SchemaError, issue, note_statements, validate_note

MAX_FILE_BYTES = 5 * 1024 * 1024  # the largest real file is ~60 KB; anything this big is a mistake
DOCUMENT_SUFFIXES = (".md", ".yml", ".yaml")
# Data files of a root that are not documents.
NOT_DOCUMENTS = {"README.md", "registry.yml", "glossary.yml", "regime.yml"}


@dataclass(frozen=True)
class CorpusScan:
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]
    per_root: dict[str, int]  # root -> number of documents it gave (missing roots: -1)


def iter_corpus_files(root: Path) -> Iterator[Path]:
    """Document files below ``root``, sorted; symlinked folders are not followed (no loops)."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(DOCUMENT_SUFFIXES) and name not in NOT_DOCUMENTS and not name.startswith("."):
                yield Path(dirpath) / name


def scan_corpus(roots: Iterable[Path]) -> CorpusScan:
    """Parse every document of every root. A bad file becomes a ``Problem``; the rest still parse."""
    documents: dict[str, Document] = {}
    problems: list[Problem] = []
    per_root: dict[str, int] = {}
    for root in roots:
        if not root.is_dir():
            per_root[str(root)] = -1
            continue
        count = 0
        for path in iter_corpus_files(root):
            doc_id = path.relative_to(root).as_posix()
            try:
                doc = parse_file(path, root=root, doc_id=doc_id)
            except SchemaError as exc:  # a note: one problem per field
                problems.extend(exc.problems)
                continue
            except CorpusError as exc:
                problems.append(Problem(str(path), str(exc)))
                continue
            if doc_id in documents:
                problems.append(Problem(str(path), f"duplicate doc_id {doc_id!r}: already read from {documents[doc_id].root}; skipped — rename one of the two files"))
                continue
            documents[doc_id] = doc
            count += 1
        per_root[str(root)] = count
    return CorpusScan(tuple(documents.values()), tuple(problems), per_root)


def read_text(path: Path) -> str:
    try:
        if path.is_symlink() and not path.resolve().is_file():
            raise CorpusError("broken symbolic link — fix or remove the link")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(f"file too large ({size:,} bytes; limit {MAX_FILE_BYTES:,}) — split it or remove it")
        data = path.read_bytes()
    except (OSError, RuntimeError) as exc:  # RuntimeError: pathlib's "Symlink loop"
        raise CorpusError(f"cannot read: {exc} — check the file and its permissions") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"not valid UTF-8 (byte {exc.start}) — save the file as UTF-8") from exc
    if "\x00" in text:
        raise CorpusError("contains NUL bytes (binary file?) — remove it from the corpus")
    return text.lstrip("\ufeff").replace("\r\n", "\n")


def parse_file(path: Path, *, root: Path, doc_id: str) -> Document:
    """Parse one file by its header: YAML front matter, an HTML comment block, or a YAML file."""
    text = read_text(path)
    if not text.strip():
        raise CorpusError("empty file — write its content or remove it")
    if doc_id.startswith("notes/"):
        return parse_note(text, doc_id=doc_id, root=root)
    if path.suffix in (".yml", ".yaml"):
        header = _comment_header(text, prefix="# ")
        body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        doc = _guide_document(header, body, doc_id=doc_id, root=root)
        return replace(doc, extra={**doc.extra, "format": "yaml"})
    if text.startswith("---\n"):
        header, body = _front_matter(text)
        return _regulation_document(header, body, doc_id=doc_id, root=root)
    if text.startswith("<!--"):
        end = text.find("-->")
        if end < 0:
            raise CorpusError("HTML comment header is not closed ('-->' missing) — end the header with '-->'")
        header = _key_values(text[4:end].splitlines())
        return _guide_document(header, text[end + 3 :], doc_id=doc_id, root=root)
    raise CorpusError("no header: expected YAML front matter ('---') or an HTML comment block ('<!--') — start the file with one")


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    end = text.find("\n---", 4)
    if end < 0:
        raise CorpusError("YAML front matter is not closed (second '---' missing) — add a line '---' after the header")
    try:
        header = yaml.safe_load(text[4:end])
    except yaml.YAMLError as exc:
        raise CorpusError(f"bad YAML front matter: {exc}".splitlines()[0] + " — fix the header's YAML syntax") from exc
    if not isinstance(header, dict):
        raise CorpusError("YAML front matter is not a mapping — write 'key: value' lines")
    return header, text[end + 4 :].lstrip("-\n")


def _key_values(lines: Iterable[str]) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for line in lines:
        key, sep, value = line.strip().partition(":")
        if sep and key and " " not in key.strip():
            header[key.strip().lower()] = value.strip()
    return header


def _comment_header(text: str, prefix: str) -> dict[str, Any]:
    lines = []
    for line in text.splitlines():
        if not line.startswith(prefix.strip()):
            break
        lines.append(line[len(prefix) :] if line.startswith(prefix) else "")
    return _key_values(lines)


def parse_date(value: Any) -> date | None:
    """First YYYY-MM-DD (or YYYY年M月D日) in a free-text header value; None when there is none."""
    if isinstance(value, date):
        return value
    text = str(value or "")
    m = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.search(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_effective(value: Any) -> date | None:
    """Effective date of *this* text: for a consolidated revision the revision's date, not the original's."""
    text = str(value or "")
    if re.search(r"revised|amended|revision", text, flags=re.IGNORECASE):
        dates = re.findall(r"\d{4}-\d{1,2}-\d{1,2}", text)
        if dates:
            return parse_date(dates[-1])
    return parse_date(text)


def parse_status(value: Any) -> Status:
    """Status from free text: what the text says first decides ("in force ... NOTE ... superseded")."""
    text = str(value or "").strip().lower()
    if "outdated" in text or "as amended" in text:
        return Status.AMENDED
    if text.startswith("in force"):
        return Status.IN_FORCE
    if "superseded" in text or "repealed" in text:
        return Status.SUPERSEDED
    if "in force" in text or "in_force" in text:
        return Status.IN_FORCE
    return Status.UNKNOWN


def parse_kind(document_number: str, title: str) -> Kind:
    """The kind of a primary text from its document number (the registry may override it)."""
    if "主席令" in document_number or (title.startswith("中华人民共和国") and title.endswith("法")):
        return Kind.LAW
    if "国务院令" in document_number:
        return Kind.ADMINISTRATIVE_REGULATION
    if re.search(r"部令|局令", document_number):
        return Kind.DEPARTMENT_RULE
    return Kind.NOTICE


def _expected_articles(value: Any) -> int | None:
    m = re.search(r"expected (\d+)", str(value or "")) or re.search(r"found (\d+) articles", str(value or ""))
    return int(m.group(1)) if m else None


def _regulation_document(header: dict[str, Any], body: str, *, doc_id: str, root: Path) -> Document:
    title = str(header.get("title") or "").strip()
    if not title:
        raise CorpusError("YAML front matter has no 'title' — add 'title: <the official title>'")
    if not body.strip():
        raise CorpusError("empty body — add the text below the header")
    number = str(header.get("document_number") or "")
    partial = "PARTIAL" in str(header.get("completeness", "")).upper() or doc_id.startswith("partial/")
    return Document(
        doc_id=doc_id,
        root=str(root),
        title=title,
        title_en=str(header.get("title_en") or ""),
        kind=parse_kind(number, title),
        language="zh" if str(header.get("language", "zh")).startswith("zh") else str(header.get("language")),
        body=body,
        issuer=str(header.get("issuing_body") or ""),
        document_number=number,
        date_promulgated=parse_date(header.get("date_promulgated")),
        date_effective=parse_effective(header.get("date_effective")),
        status=parse_status(header.get("status")),
        version=str(header.get("version_of_this_text") or ""),
        source=str(header.get("source") or ""),
        partial=partial,
        expected_articles=_expected_articles(header.get("article_check")),
    )


def _guide_document(header: dict[str, Any], body: str, *, doc_id: str, root: Path) -> Document:
    if not body.strip():
        raise CorpusError("empty body — add the text below the header")
    provider = str(header.get("provider") or "")
    if not provider:
        raise CorpusError("guide header has no 'provider' — add 'provider: <name>' to the header")
    heading = re.search(r"^#{1,3} +(.+)$", body, flags=re.MULTILINE)
    title = str(header.get("title") or (heading.group(1).strip() if heading else Path(doc_id).stem))
    is_blog = "blog" in provider.lower() or "blog" in str(header.get("kind", "")).lower()
    lang = str(header.get("language") or "")
    return Document(
        doc_id=doc_id,
        root=str(root),
        title=title,
        title_en=title if lang == "en" else "",
        kind=Kind.BLOG if is_blog else Kind.PROVIDER_GUIDE,
        language="zh" if lang.startswith("zh") else (lang or "en"),
        body=body,
        issuer=provider,
        source=str(header.get("source") or ""),
        status=Status.UNKNOWN,
        extra={"provider": provider, "path": str(header.get("path") or "")},
    )


def note_body(statements: Iterable[NoteStatement]) -> str:
    """The readable text of a note; every chunk's quoted text appears in it verbatim."""
    parts = []
    for st in statements:
        for lang in ("en", "zh"):
            parts.append("\n".join(p for p in (st.verdict.get(lang, ""), st.text[lang]) if p))
    return "\n\n".join(parts) + "\n"


def parse_note(text: str, *, doc_id: str, root: Path) -> Document:
    """A project note (``corpus/notes/*.yml``), validated by ``assistant.schema.NoteFile``.

    Every problem of the file is reported at once (``SchemaError``: file, line, statement, field and fix).
    """
    note = validate_note(text, root / doc_id)
    stem = Path(doc_id).stem
    if note.id != stem:
        raise SchemaError([Problem(str(root / doc_id), issue("", "id", f"{note.id!r} is not the file name {stem!r}",
                                                             f"write 'id: {stem}' (or rename the file)"),
                                   LineMap(text).line(("id",)))])
    statements = note_statements(note)
    return Document(
        doc_id=doc_id,
        root=str(root),
        title=note.title_zh,
        title_en=note.title_en,
        kind=Kind.PROJECT_NOTE,
        language="en+zh",
        body=note_body(statements),
        issuer="icp-assistant project note",
        date_effective=note.reviewed,
        status=Status.IN_FORCE,
        version=f"reviewed {note.reviewed.isoformat()}",
        source=note.authority,
        statements=statements,
    )
