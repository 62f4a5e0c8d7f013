"""The eval report: configurations side by side, targets, per-item diff against the baseline, a chart.

``item_problems`` names what is wrong with one item (missing fact, wrong article, extra citation, false or
missed abstention, invalid citation, retrieval miss, error); ``diff_items`` compares a run with the committed
baseline by those problems, then by score, so the report says which items improved, regressed and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.gate import check_thresholds, load_thresholds, target_rows
from assistant.evaluation.metrics import source_matches
from assistant.evaluation.scoring import ANSWERED_METRICS, ItemResult, summarize

TABLE_METRICS = (
    "lead", "wrong_lead_rate", "lead_strict", "wrong_lead_rate_strict", "lead_read", "wrong_lead_rate_read", "leads",
    "leads_unread",
    "doc_hit@1", "doc_hit@5", "doc_mrr", "article_hit@1", "article_hit@5", "article_mrr", "raw_doc_hit@5",
    "raw_article_hit@5",
    "citation_precision_doc", "citation_recall_doc", "citation_precision_article", "citation_recall_article",
    "citation_valid", "invalid_citations", "key_fact_coverage", "abstention_precision", "abstention_recall",
    "false_abstention_rate", *(f"{m}_answered" for m in ANSWERED_METRICS), "latency_p50_ms", "latency_p95_ms", "errors",
)
# Summed per item to break ties when the problems did not change.
ITEM_SCORE_METRICS = ("lead", "doc_mrr", "article_mrr", "citation_precision_article", "citation_recall_article",
                      "key_fact_coverage")
# A per-item score change smaller than this is float noise (sums taken in another order), not a change.
DIFF_TOLERANCE = 1e-6
CHART_METRICS = ("lead", "raw_doc_hit@5", "doc_hit@5", "article_hit@5", "citation_precision_article", "citation_recall_article",
                 "key_fact_coverage", "abstention_recall", "false_abstention_rate")


def item_problems(result: ItemResult) -> list[str]:
    """What is wrong with one item, each as "<kind>: <detail>" (empty when the item is fully right)."""
    if result.error:
        return [f"error: {result.error}"]
    problems = []
    if result.metrics.get("lead") == 0.0:
        problems.append(f"wrong lead: {result.lead_reason or 'the first line answers another question'}")
    elif result.metrics.get("lead_read") == 0.0:
        problems.append("wrong lead: an expert read it as answering another question (evals/judgments)")
    if result.should_abstain:
        if not result.abstained:
            problems.append("missed abstention: answered an out-of-scope question")
    elif result.abstained:
        problems.append("false abstention: abstained on an answerable question")
    if result.metrics.get("citation_valid") == 0.0:
        detail = "; ".join(f"{k} {v}" for k, v in sorted(result.citation_problems.items()))
        problems.append(f"invalid citation: {detail}")
    if result.should_abstain or result.abstained:
        return problems
    if result.metrics.get("doc_hit@5") == 0.0:
        problems.append("retrieval miss: no gold document in the top 5")
    gold = [(g[0], g[1]) for g in result.gold]
    # Off-gold citations beside a gold one are extras (hurting precision); without any gold one, wrong.
    kind = "extra citation" if result.metrics.get("citation_recall_article", 0.0) > 0 else "wrong article"
    for c in result.citations:
        ref = (c["doc_id"], c["article_no"])
        if not any(source_matches(ref, g, "article") for g in gold):
            where = f"{c['doc_id']} Art. {c['article_no']}" if c["article_no"] is not None else c["doc_id"]
            problems.append(f"{kind}: cited {where}")
    problems.extend(f"missing fact: {fact}" for fact in result.missing_facts)
    return problems


@dataclass(frozen=True)
class ItemDiff:
    id: str
    status: str  # improved | regressed | unchanged | new
    gained: tuple[str, ...]  # problems the run has and the baseline had not
    resolved: tuple[str, ...]  # problems the baseline had and the run has not
    score_delta: float


def item_score(result: ItemResult) -> float:
    return sum(v for v in (result.metrics.get(m, math.nan) for m in ITEM_SCORE_METRICS) if not math.isnan(v))


def diff_items(baseline: Sequence[ItemResult], current: Sequence[ItemResult]) -> list[ItemDiff]:
    """Each current item against the baseline item with the same id."""
    before = {r.id: r for r in baseline}
    diffs = []
    for result in current:
        old = before.get(result.id)
        if old is None:
            diffs.append(ItemDiff(result.id, "new", tuple(item_problems(result)), (), 0.0))
            continue
        now, then = item_problems(result), item_problems(old)
        gained = tuple(p for p in now if p not in then)
        resolved = tuple(p for p in then if p not in now)
        delta = item_score(result) - item_score(old)
        if gained:
            status = "regressed"
        elif resolved:
            status = "improved"
        elif abs(delta) > DIFF_TOLERANCE:
            status = "improved" if delta > 0 else "regressed"
        else:
            status = "unchanged"
        diffs.append(ItemDiff(result.id, status, gained, resolved, delta))
    return diffs


def fmt(value: float, metric: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric.endswith("_ms"):
        return f"{value:.0f}"
    if metric in ("errors", "invalid_citations", "items"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def summary_table(summaries: Mapping[str, Mapping[str, float]]) -> list[str]:
    configs = list(summaries)
    lines = ["| metric | " + " | ".join(configs) + " |", "|---|" + "---|" * len(configs)]
    for metric in ("items", *TABLE_METRICS):
        lines.append(f"| {metric} | " + " | ".join(fmt(summaries[c].get(metric, math.nan), metric) for c in configs)
                     + " |")
    return lines


def diff_section(config: str, baseline: Sequence[ItemResult] | None, results: Sequence[ItemResult]) -> list[str]:
    lines = [f"### {config}", ""]
    if baseline is None:
        return [*lines, f"No committed baseline (`evals/baseline/{config}.jsonl`); run with `--save-baseline`.", ""]
    diffs = diff_items(baseline, results)
    counts = {s: sum(1 for d in diffs if d.status == s) for s in ("improved", "regressed", "unchanged", "new")}
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    lines.append("")
    for status in ("regressed", "improved"):
        for d in (d for d in diffs if d.status == status):
            why = [f"now: {p}" for p in d.gained] + [f"fixed: {p}" for p in d.resolved]
            why = why or [f"item score {d.score_delta:+.2f}"]
            lines.append(f"- **{d.id}** {status}: " + "; ".join(why))
    return [*lines, ""]


def problems_section(results: Sequence[ItemResult]) -> list[str]:
    lines = []
    for r in results:
        problems = item_problems(r)
        if problems:
            lines.append(f"- **{r.id}** ({r.language}, {r.topic}): " + "; ".join(problems))
    return lines or ["- none"]


def write_chart(summaries: Mapping[str, Mapping[str, float]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = list(summaries)
    width = 0.8 / max(1, len(configs))
    fig, ax = plt.subplots(figsize=(12, 4.5))
    for i, config in enumerate(configs):
        values = [summaries[config].get(m, math.nan) for m in CHART_METRICS]
        ax.bar([x + i * width for x in range(len(CHART_METRICS))], [0 if math.isnan(v) else v for v in values],
               width, label=config)
    ax.set_xticks([x + width * (len(configs) - 1) / 2 for x in range(len(CHART_METRICS))], CHART_METRICS,
                  rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(ncols=min(6, len(configs)), loc="upper center", bbox_to_anchor=(0.5, 1.15))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render_report(day: str, split: str, runs: Mapping[str, Sequence[ItemResult]],
                  baselines: Mapping[str, Sequence[ItemResult] | None], *, seconds: Mapping[str, float],
                  dataset: str, chart_name: str, limits: Mapping[str, Mapping[str, float]] | None) -> str:
    summaries = {c: summarize(r) for c, r in runs.items()}
    lines = [f"# Eval report {day}", "", f"Dataset `{dataset}`, split **{split}**; configurations: "
             + ", ".join(f"{c} ({seconds.get(c, math.nan):.0f} s)" for c in runs) + ".", "",
             f"![metrics by configuration]({chart_name})", "", "## Configurations side by side", "",
             *summary_table(summaries), "",
             "Key-fact similarity thresholds (calibrated on the reference answers): "
             + "; ".join(f"{c} {fmt(s['fact_threshold'])} (TPR {fmt(s['fact_threshold_tpr'])}, "
                         f"FPR {fmt(s['fact_threshold_fpr'])})" for c, s in summaries.items()) + ".", ""]
    if split == "all":
        for part in ("dev", "test"):
            parts = {c: summarize([r for r in rs if r.split == part]) for c, rs in runs.items()}
            lines += [f"### {part} split", "", *summary_table(parts), ""]
    test_full = [r for r in runs.get("full", []) if r.split == "test"]
    if test_full:
        full = summarize(test_full)
        lines += ["## Issue #11 targets (full, test split)", "", "| metric | target | measured | met |",
                  "|---|---|---|---|"]
        lines += [f"| {m} | {t} | {fmt(v, m)} | {'yes' if ok else 'NO'} |" for m, t, v, ok in target_rows(full)]
        lines += ["", "Where a unit answers (the in-scope questions with a lead; the targets are on all of them):", ""]
        lines += [f"- {m}: {fmt(full.get(f'{m}_answered', math.nan))}" for m in ANSWERED_METRICS]
        lines.append("")
        if limits is not None:
            failures = check_thresholds(full, test_full, limits)
            lines += ["## Regression gate (evals/thresholds.json, full, test split)", ""]
            lines += [f"- FAIL {f}" for f in failures] or ["- all limits met"]
            lines.append("")
    lines += ["## Per-item differences against the baseline", ""]
    for config, results in runs.items():
        lines += diff_section(config, baselines.get(config), results)
    for config, results in runs.items():
        lines += [f"## Open problems: {config}", "", *problems_section(results), ""]
    return "\n".join(lines)


def regime_section(result: Mapping[str, Any]) -> str:
    """The regime finder's scenario eval (``evals/scenarios``): fact extraction and obligation accuracy."""
    facts, obligations, cites = result["fact_extraction"], result["obligations"], result["citations"]
    lines = [f"## Regime finder (scenarios, {result['split']} split, {result['items']} items)", "",
             "| measure | value |", "|---|---|",
             f"| fact extraction accuracy | {fmt(facts.get('accuracy', math.nan))} |",
             f"| obligation accuracy | {fmt(obligations.get('accuracy', math.nan))} |",
             f"| rows with a valid citation | {cites['rows_with_valid_citations']}/{cites['rows']} |"]
    if result.get("errors"):
        lines += ["", "Misses (item, fact or obligation: expected → got):",
                  *(f"- {e.get('id')} {e.get('kind')} `{e.get('name')}`: {_shown(e.get('expected'))} → {_shown(e.get('got'))}"
                    if isinstance(e, Mapping) else f"- {e}" for e in result["errors"][:20])]
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(not found)"
    return str(value)


def write_report(out_dir: Path, day: str, split: str, runs: Mapping[str, Sequence[ItemResult]],
                 baselines: Mapping[str, Sequence[ItemResult] | None], *, seconds: Mapping[str, float],
                 dataset: Path, thresholds_file: Path, regime: Mapping[str, Any] | None = None) -> Path:
    suffix = "" if split == "test" else f"__{split}"
    chart = write_chart({c: summarize(r) for c, r in runs.items()}, out_dir / f"{day}__chart{suffix}.png")
    limits = load_thresholds(thresholds_file)["metrics"] if thresholds_file.is_file() else None
    shown = dataset.name if dataset.is_absolute() else str(dataset)
    text = render_report(day, split, runs, baselines, seconds=seconds, dataset=shown, chart_name=chart.name,
                         limits=limits)
    if regime is not None:
        text += "\n\n" + regime_section(regime)
    path = out_dir / f"{day}__report{suffix}.md"
    path.write_text(text + "\n", encoding="utf-8")
    return path
