"""Score one answer against its eval item (``ItemResult``) and aggregate a run (``summarize``).

Every score comes from ``metrics.py``. Key-fact coverage uses the run's embedder (cosine of
``encode_documents`` vectors) with a threshold calibrated on the reference answers: a fact against its own
reference's sentences is a positive, against the sentences of another item's reference (same language,
other topic) a negative. Items that should be abstained on are scored for abstention (and citation
validity, if they cite anything) only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from assistant.asks import ASK_LABEL
from assistant.embeddings import Embedder
from assistant.evaluation.dataset import JUDGMENT_VALUE, EvalItem
from assistant.evaluation.metrics import (
    NAN,
    Threshold,
    abstention_scores,
    calibrate_threshold,
    citation_markers,
    citation_precision_recall,
    citation_validity,
    hit_at_k,
    key_fact_coverage,
    latency_percentiles,
    lead_correct,
    reciprocal_rank,
    strict_lead,
)
from assistant.models import Answer
from assistant.text import answer_sentences as text_sentences
from assistant.text import strip_markers

RETRIEVAL_METRICS = ("doc_hit@1", "doc_hit@5", "doc_mrr", "article_hit@1", "article_hit@5", "article_mrr",
                     "raw_doc_hit@5", "raw_article_hit@5")
CITATION_METRICS = ("citation_precision_doc", "citation_recall_doc", "citation_precision_article",
                    "citation_recall_article")
STORED_HITS = 10  # for people reading a result; no metric or diff reads them (20 made each baseline ~2 MB)
ANSWERED_METRICS = ("citation_precision_article", "citation_recall_article", "key_fact_coverage")
ITEM_METRICS = (*RETRIEVAL_METRICS, *CITATION_METRICS, "citation_valid", "key_fact_coverage", "lead", "lead_strict",
                "lead_read")

def split_sentences(text: str) -> list[str]:
    """Sentences of English or Chinese text without their [n] markers ("Art. 4" stays whole)."""
    return [s for s in (strip_markers(s) for s in text_sentences(text)) if s]


def answer_sentences(answer: Answer) -> list[str]:
    """What the reader is told: the verdict and the points, without [n] markers."""
    if answer.abstained:
        return []
    return [s for part in (answer.verdict or "", *answer.points) for s in split_sentences(part)]


class EmbeddingSimilarity:
    """Cosine similarity through the run's embedder; each text is encoded once per process."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if todo:
            self._vectors.update(zip(todo, self.embedder.encode_documents(todo), strict=False))
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def __call__(self, facts: list[str], sentences: list[str]) -> np.ndarray:
        return self.vectors(facts) @ self.vectors(sentences).T


def calibrate_fact_threshold(items: Sequence[EvalItem], similarity: EmbeddingSimilarity,
                             max_fpr: float | None = None) -> Threshold:
    """Cut-off separating facts-vs-own-reference from facts-vs-unrelated-references (Youden's J, or the
    best TPR with FPR <= ``max_fpr``)."""
    answerable = [i for i in items if not i.should_abstain and i.key_facts]
    sentences = {i.id: split_sentences(i.reference) for i in answerable}
    positives: list[float] = []
    negatives: list[float] = []
    for item in answerable:
        facts = list(item.key_facts)
        positives.extend(similarity(facts, sentences[item.id]).max(axis=1).tolist())
        for other in answerable:
            if other.tags.language == item.tags.language and other.tags.topic != item.tags.topic:
                negatives.extend(similarity(facts, sentences[other.id]).max(axis=1).tolist())
    # Rounded so the search over cut-offs stays small (tens of thousands of negatives).
    return calibrate_threshold([round(v, 3) for v in positives], [round(v, 3) for v in negatives], max_fpr=max_fpr)


@dataclass(frozen=True)
class ScoringContext:
    """What scoring needs besides the answer: document texts, the similarity and its calibrated cut-off."""

    doc_texts: Mapping[str, str]
    similarity: EmbeddingSimilarity
    threshold: Threshold
    # A stricter cut-off (FPR <= 2 %) for whether a one-line lead states a key fact: at the coverage cut-off
    # (FPR ~13 %) a lead of two sentences would "state" one of four facts by chance a third of the time.
    strict: Threshold | None = None
    # Expert readings of leads (``evals/judgments``): (item id, unit chunk_id) -> "answers" | "partly" | "no"
    judgments: Mapping[tuple[str, str], str] = field(default_factory=dict)


@dataclass(kw_only=True)
class ItemResult:
    """One item of one configuration: what was retrieved and answered, every metric, any error."""

    id: str
    config: str
    split: str
    language: str
    topic: str
    should_abstain: bool
    question: str
    retrieved: list[tuple[str, int | None, str, float]] = field(default_factory=list)  # doc, article, chunk, score
    answer: str = ""  # Markdown as shown in the chat
    verdict: str | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)  # n, doc_id, article_no, quote
    abstained: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    missing_facts: list[str] = field(default_factory=list)
    lead_from: str = ""
    lead_unit: str = ""  # chunk_id of the unit that leads (``Answer.lead_unit``)
    lead_reason: str = ""
    citation_problems: dict[str, list[int]] = field(default_factory=dict)
    gold: list[tuple[str, int | None]] = field(default_factory=list)
    latency_ms: float | None = None
    fact_threshold: dict[str, float] = field(default_factory=dict)  # threshold, tpr, fpr
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.metrics.items()}
        return data

    def for_baseline(self) -> ItemResult:
        """What the per-item diff reads (``report.item_problems``: metrics, cited sources, missing facts) and the lead
        line; the quotes, the whole answer and the ranking stay in ``results/``. Whole records made each committed
        baseline about 2 MB, rewritten on every change to the answers."""
        return replace(self, retrieved=[], answer=self.answer.split("\n", 1)[0],
                       citations=[{k: v for k, v in c.items() if k != "quote"} for c in self.citations])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemResult:
        values = dict(data)
        values["metrics"] = {k: NAN if v is None else float(v) for k, v in (data.get("metrics") or {}).items()}
        values["retrieved"] = [tuple(r) for r in data.get("retrieved") or []]
        values["gold"] = [tuple(g) for g in data.get("gold") or []]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})


def new_result(item: EvalItem, config: str) -> ItemResult:
    return ItemResult(id=item.id, config=config, split=item.tags.split, language=item.tags.language,
                      topic=item.tags.topic, should_abstain=item.should_abstain, question=item.user_input,
                      gold=[(r.doc_id, r.article_no) for r in item.reference_context_ids],
                      metrics={name: NAN for name in ITEM_METRICS})


def score_item(item: EvalItem, answer: Answer, markdown: str, config: str, ctx: ScoringContext) -> ItemResult:
    result = new_result(item, config)
    # Metrics see every hit; the record keeps the top ones (the full list is ~20 kB per item).
    result.retrieved = [(h.chunk.doc_id, h.chunk.article_no, h.chunk.chunk_id, round(float(h.score), 6))
                        for h in answer.retrieved[:STORED_HITS]]
    result.answer, result.verdict, result.abstained = markdown, answer.verdict, answer.abstained
    result.citations = [{"n": c.n, "doc_id": c.doc_id, "article_no": c.article_no, "quote": c.quote}
                        for c in answer.citations]
    result.latency_ms = answer.timings_ms.get("total")
    result.fact_threshold = {"threshold": ctx.threshold.threshold, "tpr": ctx.threshold.tpr,
                             "fpr": ctx.threshold.fpr}
    m = result.metrics
    if markdown and (answer.citations or "[" in markdown):
        validity = citation_validity(markdown, answer.citations, ctx.doc_texts)
        m["citation_valid"] = validity.score
        result.citation_problems = {name: list(values) for name, values in (
            ("unresolved_markers", validity.unresolved_markers), ("bad_quotes", validity.bad_quotes),
            ("missing_docs", validity.missing_docs), ("duplicate_numbers", validity.duplicate_numbers)) if values}
    result.lead_from, result.lead_unit = answer.lead_from, answer.lead_unit
    lead_text = lead_lines(answer)
    lead_numbers = set(citation_markers(lead_text))
    fact_match = states_key_fact(item, lead_text, ctx)
    lead = lead_correct(item.verdict, item.should_abstain, answer.lead_from, lead_text,
                        [c for c in answer.citations if c.n in lead_numbers], item.reference_context_ids,
                        fact_match=fact_match)
    m["lead"], result.lead_reason = lead.score, lead.reason
    m["lead_strict"] = strict_lead(lead, fact_match)
    m["lead_read"] = read_lead(item, answer, ctx.judgments)
    if item.should_abstain:
        return result
    gold = item.reference_context_ids
    levels: tuple[Literal["doc"], Literal["article"]] = ("doc", "article")
    for level in levels:
        m[f"raw_{level}_hit@5"] = hit_at_k(answer.ranked, gold, 5, level).score
    for level in levels:
        m[f"{level}_hit@1"] = hit_at_k(answer.retrieved, gold, 1, level).score
        m[f"{level}_hit@5"] = hit_at_k(answer.retrieved, gold, 5, level).score
        m[f"{level}_mrr"] = reciprocal_rank(answer.retrieved, gold, level).score
        pr = citation_precision_recall(answer.citations, gold, level)
        m[f"citation_precision_{level}"], m[f"citation_recall_{level}"] = pr.precision, pr.recall
    coverage = key_fact_coverage(item.key_facts, answer_sentences(answer), ctx.similarity, ctx.threshold.threshold)
    m["key_fact_coverage"] = coverage.score
    result.missing_facts = [match.fact for match in coverage.matches if not match.covered]
    return result


def read_lead(item: EvalItem, answer: Answer, judgments: Mapping[tuple[str, str], str]) -> float:
    """An expert's reading of the lead: 1 it answers, 0.5 in part, 0 not (a lead on an out-of-scope question never
    does); NaN without a lead or when nobody has read this unit for this item yet."""
    if not answer.lead_unit:
        return NAN
    if item.should_abstain:
        return 0.0
    label = judgments.get((item.id, answer.lead_unit))
    return NAN if label is None else JUDGMENT_VALUE[label]


def lead_lines(answer: Answer) -> str:
    """What the ``lead`` metric reads: the first line, and for a message of several asks the line that answers each
    (``assistant/asks.py``: each starts with the ask's label)."""
    first = answer.verdict or (answer.points[0] if answer.points else "")
    return "\n".join([first, *(p for p in answer.points if p != first and ASK_LABEL.match(p))])


def states_key_fact(item: EvalItem, lead_text: str, ctx: ScoringContext) -> bool:
    """Whether the lead states one of the item's key facts (or its verdict), by the same judge as coverage."""
    sentences = split_sentences(lead_text)
    if not item.key_facts or not sentences or ctx.strict is None:
        return False
    return key_fact_coverage(item.key_facts, sentences, ctx.similarity, ctx.strict.threshold).covered > 0


def summarize(results: Sequence[ItemResult]) -> dict[str, float]:
    """Per-config aggregates: means of the item metrics (NaN skipped), abstention, validity, latency."""
    ok = [r for r in results if r.error is None]
    summary: dict[str, float] = {"items": float(len(results)), "errors": float(len(results) - len(ok))}
    for name in ITEM_METRICS:
        values = [r.metrics.get(name, NAN) for r in ok]
        values = [v for v in values if not math.isnan(v)]
        summary[name] = float(np.mean(values)) if values else NAN
    summary["invalid_citations"] = float(sum(1 for r in ok if r.metrics.get("citation_valid") == 0.0))
    leads = [r.metrics.get("lead", NAN) for r in ok]
    judged = [v for v in leads if not math.isnan(v)]
    summary["wrong_lead_rate"] = float(sum(1 for v in judged if v == 0.0) / len(judged)) if judged else NAN
    summary["leads"] = float(len(judged))
    strict = [v for v in (r.metrics.get("lead_strict", NAN) for r in ok) if not math.isnan(v)]
    summary["wrong_lead_rate_strict"] = float(sum(1 for v in strict if v == 0.0) / len(strict)) if strict else NAN
    led = [r for r in ok if r.lead_unit]
    read = [v for v in (r.metrics.get("lead_read", NAN) for r in led) if not math.isnan(v)]
    summary["wrong_lead_rate_read"] = float(sum(1 for v in read if v == 0.0) / len(read)) if read else NAN
    summary["leads_unread"] = float(len(led) - len(read))
    # The same measures on the questions a unit answers (an in-scope question with a lead): "no direct answer" states
    # no fact and cites related reading, so the overall figures mix what the answers say with how often there is one.
    answered = [r for r in led if not r.should_abstain]
    for name in ANSWERED_METRICS:
        values = [v for v in (r.metrics.get(name, NAN) for r in answered) if not math.isnan(v)]
        summary[f"{name}_answered"] = float(np.mean(values)) if values else NAN
    abstention = abstention_scores((r.should_abstain, r.abstained) for r in ok)
    summary["abstention_precision"] = abstention.precision
    summary["abstention_recall"] = abstention.recall
    summary["false_abstention_rate"] = abstention.false_abstention_rate
    latency = latency_percentiles([r.latency_ms for r in ok if r.latency_ms is not None])
    summary["latency_p50_ms"], summary["latency_p95_ms"] = latency.p50, latency.p95
    calibration = next((r.fact_threshold for r in ok if r.fact_threshold), {})
    summary["fact_threshold"] = calibration.get("threshold", NAN)
    summary["fact_threshold_tpr"] = calibration.get("tpr", NAN)
    summary["fact_threshold_fpr"] = calibration.get("fpr", NAN)
    return summary
