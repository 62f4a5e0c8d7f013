"""``icp-assistant check``: validate every corpus file and eval item, and report every problem at once.

Each problem is one line: ``<file>:<line>: <entry>: <field>: <problem> — <fix>``. What is checked:
every document of every corpus root (notes against ``NoteFile``), ``registry.yml`` and ``glossary.yml``
against their schemas, the references between them (``crosscheck.corpus_problems``), glossary aliases used
by two terms, ``regime.yml`` (its own loader and ``check_citations``), every eval item of the datasets
(``EvalItemSpec``) with its gold sources (document and article must exist), and the expert readings of leads
(``evals/judgments``, ``LeadJudgmentSpec``) with their items. ``run_check`` returns a
``CheckReport``; the CLI prints it and exits 1 when it has problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .corpus import scan_corpus
from .crosscheck import CorpusIndex, corpus_problems
from .errors import CorpusError, RegimeModelError
from .evaluation.dataset import EvalItem, read_dataset, read_judgments
from .ingest import annotate, registry_file
from .registry import Registry, load_glossary, load_registry
from .schema import LineMap, Problem, SchemaError, display_path, issue
from .settings import PROJECT_ROOT

DEFAULT_DATASETS = PROJECT_ROOT / "evals" / "datasets"
JUDGMENTS = PROJECT_ROOT / "evals" / "judgments"
HELD_BACK = PROJECT_ROOT / "evals" / "blind"
GLOSSARY_FILE = "glossary.yml"
REGIME_FILE = "regime.yml"


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[Problem, ...]
    documents: int  # corpus documents that parsed
    items: int  # eval items that parsed

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counted = f"{self.documents} documents and {self.items} eval items"
        return f"{len(self.problems)} problem(s) in {counted}" if self.problems else f"ok: {counted}, no problems"


def run_check(roots: Sequence[Path], datasets: Sequence[Path] = ()) -> CheckReport:
    """Check the corpus roots and the dataset files (``*.jsonl`` files, or folders of them)."""
    scan = scan_corpus(roots)
    problems = [Problem(root, issue("", "", "corpus root not found", "pass an existing folder with --corpus"))
                for root, count in scan.per_root.items() if count < 0]
    problems += scan.problems
    registry, registry_path = None, registry_file(roots)
    if registry_path is None:
        problems.append(Problem(str(roots[0]) if roots else ".", issue(
            "", "", "no registry.yml in the corpus roots", "include the project's corpus/ folder with --corpus")))
    else:
        try:
            registry = load_registry(registry_path)
        except SchemaError as exc:
            problems += exc.problems
    documents = [annotate(d, registry) if registry else d for d in scan.documents]
    problems += corpus_problems(documents, registry, registry_path)
    problems += glossary_problems(roots)
    problems += regime_problems(roots, registry)
    index = CorpusIndex(documents, registry, registry_path)
    items: list[tuple[Path, EvalItem]] = []
    for path in dataset_files(datasets):
        found, bad = read_dataset(path)
        problems += bad
        items += [(path, item) for item in found]
    if documents:  # without a corpus every gold source would be "missing": the root problem says it all
        problems += item_problems(items, index)
    if any(Path(p).resolve() == DEFAULT_DATASETS.resolve() for p in datasets):
        problems += judgment_problems(JUDGMENTS, [i for _, i in items])
    return CheckReport(tuple(problems), len(documents), len(items))


def judgment_problems(folder: Path, items: Sequence[EvalItem]) -> list[Problem]:
    """The readings' own problems, and readings of items that no dataset (nor held-back set) has."""
    labels, problems = read_judgments(folder)
    known = {i.id for i in items} | {i.id for f in sorted(HELD_BACK.glob("*.jsonl")) for i in read_dataset(f)[0]}
    for item_id in sorted({i for i, _ in labels} - known):
        problems.append(Problem(str(folder), issue(f"item '{item_id}'", "item", "no eval item has this id",
                                                   "read leads of existing items only")))
    return problems


def dataset_files(paths: Sequence[Path]) -> list[Path]:
    """The ``*.jsonl`` files of folders (in name order) and the files given; a missing path is kept (reported)."""
    return [f for p in paths for f in (sorted(p.glob("*.jsonl")) if p.is_dir() else [p])]


def _find(roots: Sequence[Path], name: str) -> Path | None:
    return next((root / name for root in roots if (root / name).is_file()), None)


def glossary_problems(roots: Sequence[Path]) -> list[Problem]:
    """The glossary's schema problems, and aliases that two terms share (a question would route to both)."""
    path = _find(roots, GLOSSARY_FILE)
    if path is None:
        return []
    try:
        glossary = load_glossary(path)
    except CorpusError as exc:
        return list(exc.problems) if isinstance(exc, SchemaError) else [Problem(str(path), str(exc))]
    lines, first, problems = LineMap.of_file(path), dict[str, str](), list[Problem]()
    for i, term in enumerate(glossary.terms):
        for lang, aliases in (("en", term.en), ("zh", term.zh)):
            for k, alias in enumerate(aliases):
                owner = first.setdefault(alias.casefold(), term.id)
                if owner != term.id or any(a.casefold() == alias.casefold() for a in aliases[:k]):
                    whose = "listed twice in this term" if owner == term.id else f"also an alias of term '{owner}'"
                    problems.append(Problem(str(path), issue(f"term '{term.id}'", f"{lang}[{k}]", f"{alias!r} is {whose}",
                                                             "keep each alias in one term"),
                                            lines.line(("terms", i, lang, k))))
    return problems


def regime_problems(roots: Sequence[Path], registry: Registry | None) -> list[Problem]:
    """``regime.yml`` through its own loader (first problem) and citation check (every cite)."""
    from .regime import check_citations, load_regime_model

    path = _find(roots, REGIME_FILE)
    if path is None:
        return []
    try:
        model = load_regime_model(path)
    except RegimeModelError as exc:
        return [_regime_problem(path, str(exc).removeprefix(f"{path}: "))]
    if registry is None:
        return []
    return [_regime_problem(path, message) for message in check_citations(model, roots, registry)]


def _regime_problem(path: Path, message: str) -> Problem:
    """A regime problem with the line of the rule, fact, obligation or conflict it names."""
    entry = re.match(r"(?:rule|fact|derived fact|obligation|conflict) '([^']+)'", message)
    text = path.read_text(encoding="utf-8") if entry else ""
    line = None
    if entry:
        found = re.search(rf"^\s*(?:-\s*)?id:\s*['\"]?{re.escape(entry.group(1))}['\"]?\s*$", text, re.MULTILINE)
        line = text.count("\n", 0, found.start()) + 1 if found else None
    fix = "" if " — " in message else " — correct it in the regime model (schema: assistant/regime/model.py)"
    return Problem(str(path), message + fix, line)


def item_problems(items: Sequence[tuple[Path, EvalItem]], index: CorpusIndex) -> Iterator[Problem]:
    """Gold sources that do not exist (document, or article of it); ids repeated across dataset files."""
    lines: dict[Path, dict[str, int]] = {}
    first: dict[str, str] = {}
    for path, item in items:
        if path not in lines:
            lines[path] = _item_lines(path)
        line, where = lines[path].get(item.id), f"item '{item.id}'"
        here = f"{display_path(path)}:{line}"
        if first.setdefault(item.id, here) != here:
            yield Problem(str(path), issue(where, "id", f"also used at {first[item.id]}", "give each item its own id"),
                          line)
        for k, ref in enumerate(item.reference_context_ids):
            found = index.reference(ref.doc_id, ref.article_no)
            if found:
                field = {"doc": "doc_id", "article": "article_no"}[found[0]]
                yield Problem(str(path), issue(where, f"reference_context_ids[{k}].{field}", *found[1:]), line)


def _item_lines(path: Path) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            lines.setdefault(raw["id"].strip(), number)
    return lines
