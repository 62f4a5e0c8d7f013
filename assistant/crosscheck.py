"""Cross-checks: the references between corpus files that no single file's schema can check.

``corpus_problems`` checks, for documents that parsed: every note cite names a document (and article, 第X条)
that exists and is in force, or says ``outdated: true``; every instrument cite names a registry instrument
without full text that has a stand-in note; statement ids and question phrasings are not repeated; every
registry file, note, outdated or renumbered article and conflict points at something real; every
non-note document maps to exactly one registry entry. Ingest reports these as warnings (fatal with
``--strict``); ``icp-assistant check`` reports them with everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from .chunking import split_articles
from .models import Document, Kind, NoteCite, Status
from .registry import Registry
from .schema import LineMap, Problem, display_path, issue

NOT_ARTICLED = (Kind.PROJECT_NOTE, Kind.PROVIDER_GUIDE, Kind.BLOG)
Found = tuple[str, str, str]  # (field below the entry, problem, fix)


def normalized(question: str) -> str:
    """A question phrasing as compared for duplicates: case, spaces and the final question mark ignored."""
    return re.sub(r"\s+", " ", question.casefold()).strip().rstrip("?？").strip()


class CorpusIndex:
    """The parsed corpus as the checks look things up: documents, their articles, file lines."""

    def __init__(self, documents: Sequence[Document], registry: Registry | None, registry_path: Path | None) -> None:
        self.docs = {d.doc_id: d for d in documents}
        self.registry = registry
        self.registry_path = registry_path
        self._articles: dict[str, frozenset[int]] = {}
        self._lines: dict[str, LineMap] = {}

    def articles(self, doc_id: str) -> frozenset[int]:
        if doc_id not in self._articles:
            doc = self.docs[doc_id]
            numbers = () if doc.kind in NOT_ARTICLED else (n for n, _, _ in split_articles(doc.body) if n)
            self._articles[doc_id] = frozenset(numbers)
        return self._articles[doc_id]

    def line(self, path: str | Path, loc: Sequence[str | int]) -> int | None:
        key = str(path)
        if key not in self._lines:
            self._lines[key] = LineMap.of_file(path)
        return self._lines[key].line(loc)

    def problem(self, path: str | Path, loc: Sequence[str | int], message: str) -> Problem:
        return Problem(str(path), message, self.line(path, loc))

    def reference(self, doc_id: str, article: int | None) -> Found | None:
        """Why ``doc_id`` (and ``article``) cannot be cited, or None when both exist."""
        if doc_id not in self.docs:
            return ("doc", f"{doc_id} is not in the corpus",
                    "correct the path (relative to a corpus root, e.g. regulations/<file>.zh.md)")
        articles = self.articles(doc_id)
        if article is None or article in articles:
            return None
        if not articles:
            return "article", f"{doc_id} has no numbered articles", "cite the whole document with 'article: null'"
        return ("article", f"{doc_id} has no Art. {article} (it has Arts. {min(articles)}-{max(articles)})",
                "cite an article that exists")

    def in_force(self, doc_id: str) -> str:
        """doc_id of the version of ``doc_id``'s instrument in force, or ""."""
        version = self.registry.version_for(doc_id) if self.registry else None
        instrument = self.registry.instrument(version.instrument_id) if self.registry and version else None
        current = [v for v in (instrument.versions if instrument else ()) if v.status in (Status.IN_FORCE, Status.AMENDED)]
        return current[-1].files[0] if current and current[-1].files else ""

    def currency(self, doc_id: str, article: int | None) -> tuple[str, str] | None:
        """(problem, fix) when ``doc_id`` is not the text in force or the registry marks ``article`` outdated."""
        doc = self.docs[doc_id]
        version = self.registry.version_for(doc_id) if self.registry else None
        label = f"the {version.version} version of '{version.instrument_id}'" if version else "a text"
        reason = self.registry.outdated_reason(doc_id, article) if self.registry and article else None
        marked = f"the registry marks Art. {article} of it outdated" if reason else ""
        if doc.status == Status.SUPERSEDED:
            current = self.in_force(doc_id) or doc.superseded_by
            moved = self.registry.renumbered_to(doc_id, article) if self.registry and article else None
            current = current or "the text in force"
            target = f"Art. {moved} of {current}" if moved else f"the matching article of {current}" if article else current
            problem = f"{doc_id} is {label}, superseded by {current}"
            problem += f"; {marked}" if marked else f" (the registry does not mark Art. {article} outdated)" if article else ""
            return problem, f"cite {target}, or add 'outdated: true' if the statement shows what changed"
        if reason:
            return (f"{doc_id} is {label}, in force, but {marked} ({reason.split('. ')[0].rstrip('.')})",
                    "cite the amending instrument, or add 'outdated: true' if the statement relies only on the part "
                    "still in force")
        return None


def corpus_problems(documents: Sequence[Document], registry: Registry | None,
                    registry_path: Path | None) -> list[Problem]:
    """Every cross-reference problem of the parsed corpus (see the module docstring)."""
    index = CorpusIndex(documents, registry, registry_path)
    problems = list(note_problems(index))
    if registry is not None and registry_path is not None:
        problems += registry_problems(index, registry, registry_path)
        problems += mapping_problems(index, registry, registry_path)
    return problems


def note_problems(index: CorpusIndex) -> Iterator[Problem]:
    statement_at: dict[str, str] = {}  # statement id -> file:line of its first definition
    question_at: dict[str, tuple[tuple[str, int], str, str]] = {}  # phrasing -> (statement key, id, file:line)
    for doc in sorted((d for d in index.docs.values() if d.kind == Kind.PROJECT_NOTE), key=lambda d: d.doc_id):
        path = Path(doc.root) / doc.doc_id
        for i, st in enumerate(doc.statements):
            where, key = f"statement '{st.id}'", (str(path), i)
            at = f"{display_path(path)}:{index.line(path, ('statements', i, 'id'))}"
            if st.id in statement_at:
                yield index.problem(path, ("statements", i, "id"), issue(
                    where, "id", f"also used at {statement_at[st.id]}", "give each statement its own id"))
            statement_at.setdefault(st.id, at)
            for lang in ("en", "zh"):
                for k, question in enumerate(st.questions.get(lang, ())):
                    first = question_at.setdefault(normalized(question), (key, st.id, at))
                    if first[0] != key:
                        problem = f"{question!r} is also a question of statement '{first[1]}' ({first[2]})"
                    elif any(normalized(q) == normalized(question) for q in st.questions[lang][:k]):
                        problem = f"{question!r} is listed twice"
                    else:
                        continue
                    yield index.problem(path, ("statements", i, "questions", lang, k), issue(
                        where, f"questions.{lang}[{k}]", problem, "keep each phrasing in one statement"))
            for j, cite in enumerate(st.cites):
                for field, problem, fix in cite_problems(index, cite):
                    loc = ("statements", i, "cites", j) + ((field,) if field else ())
                    yield index.problem(path, loc, issue(where, f"cites[{j}]" + (f".{field}" if field else ""),
                                                         problem, fix))


def cite_problems(index: CorpusIndex, cite: NoteCite) -> Iterator[Found]:
    if cite.doc:
        missing = index.reference(cite.doc, cite.article)
        if missing:
            yield missing
            return
        current = index.currency(cite.doc, cite.article)
        if current and not cite.outdated:
            yield "", *current
        elif cite.outdated and not current:
            yield ("outdated", f"{cite.doc} is not superseded and the registry marks no outdated article here",
                   "remove 'outdated: true'")
        return
    registry = index.registry
    instrument = registry.instrument(cite.instrument) if registry else None
    if registry is None:  # an invalid registry is reported on its own; a missing one is reported here
        if index.registry_path is None:
            yield ("instrument", "cannot be checked: no registry.yml in the corpus roots",
                   "add the project's corpus/ folder to the corpus roots")
    elif instrument is None:
        yield ("instrument", f"'{cite.instrument}' is not in the registry",
               "use an instrument id of corpus/registry.yml, or add the instrument there")
    elif instrument.full_text:
        text = index.in_force(next((f for v in instrument.versions for f in v.files), ""))
        yield ("instrument", f"'{cite.instrument}' has a full text in the corpus",
               f"cite the text instead: doc: {text or '<its file>'}, article: <number>")
    elif registry.stand_in_note(cite.instrument) is None:
        yield ("instrument", f"'{cite.instrument}' has no stand-in note in the registry",
               f"add notes: [notes/<note>.yml] to instrument '{cite.instrument}' in corpus/registry.yml")


def registry_problems(index: CorpusIndex, registry: Registry, path: Path) -> Iterator[Problem]:
    def at(loc: tuple[str | int, ...], where: str, field: str, found: tuple[str, str]) -> Problem:
        return index.problem(path, loc, issue(where, field, *found))

    for i, inst in enumerate(registry.instruments):
        where, loc = f"instrument '{inst.id}'", ("instruments", i)
        files = {v.version: v.files for v in inst.versions}
        for j, version in enumerate(inst.versions):
            for k, f in enumerate(version.files):
                if f not in index.docs:
                    yield at(loc + ("versions", j, "files", k), where, f"versions[{j}].files[{k}]",
                             (f"{f} is not in the corpus", "correct the path, or add the file to a corpus root"))
        if inst.full_text and not any(files.values()):
            yield at(loc + ("full_text",), where, "full_text", ("true, but no version lists a file",
                                                                 "list the text under its version's files, or set false"))
        for k, note in enumerate(inst.notes):
            if note not in index.docs or index.docs[note].kind != Kind.PROJECT_NOTE:
                yield at(loc + ("notes", k), where, f"notes[{k}]", (f"{note} is not a note in the corpus",
                                                                    "correct the path (notes/<file>.yml)"))
        for k, entry in enumerate(inst.outdated_articles):
            for m, article in enumerate(entry.articles):
                for f in files.get(entry.version, ()):
                    found = index.reference(f, article) if f in index.docs else None
                    if found:
                        yield at(loc + ("outdated_articles", k, "articles", m), where,
                                 f"outdated_articles[{k}].articles[{m}]", found[1:])
        for k, move in enumerate(inst.renumbered):
            for label, article, field in ((move.from_version, move.from_article, "from_article"),
                                          (move.to_version, move.to_article, "to_article")):
                texts = [f for f in files.get(label, ()) if f in index.docs]
                found = index.reference(texts[0], article) if texts else None
                if found:
                    yield at(loc + ("renumbered", k, field), where, f"renumbered[{k}].{field}", found[1:])
    for k, source in enumerate(registry.sources):
        for m, pattern in enumerate(source.files):
            if not any(fnmatchcase(d, pattern) for d in index.docs):
                yield at(("sources", k, "files", m), f"source '{source.id}'", f"files[{m}]",
                         (f"{pattern!r} matches no corpus file", "correct the pattern, or remove it"))
    for k, conflict in enumerate(registry.conflicts):
        where = f"conflict '{conflict.id}'"
        if conflict.doc not in index.docs:
            yield at(("conflicts", k, "doc"), where, "doc", (f"{conflict.doc} is not in the corpus", "correct the path"))
        for m, ref in enumerate(conflict.contradicts):
            found = index.reference(ref.doc, ref.article)
            if found:
                yield at(("conflicts", k, "contradicts", m, found[0]), where, f"contradicts[{m}].{found[0]}", found[1:])


def mapping_problems(index: CorpusIndex, registry: Registry, path: Path) -> Iterator[Problem]:
    """Every document but a note maps to exactly one instrument version or source of the registry."""
    for doc in sorted(index.docs.values(), key=lambda d: d.doc_id):
        if doc.kind == Kind.PROJECT_NOTE:
            continue
        owners = [f"{i.id} {v.version}" for i in registry.instruments for v in i.versions if doc.doc_id in v.files]
        owners += [s.id for s in registry.sources if any(fnmatchcase(doc.doc_id, p) for p in s.files)]
        if len(owners) == 1:
            continue
        problem = "not in the registry" if not owners else f"maps to {len(owners)} registry entries ({', '.join(owners)})"
        fix = (f"list '{doc.doc_id}' under an instrument version's files, or match it with a source's files glob, "
               f"in {display_path(path)}") if not owners else "keep it in exactly one of them"
        yield Problem(str(Path(doc.root) / doc.doc_id), issue("", "", problem, fix))
