"""Fit the judge (``assistant/lead.py``) on the dev split: which units answer the question that was asked,
and below what probability nothing leads.

Retrieval does not depend on the judge, so every dev question is retrieved once. Every judged unit of every
question becomes one training row: its features, and whether it would be a right lead (the eval's ``lead``
metric applied to the line it would lead with; every unit of an out-of-scope question is a wrong lead). A
logistic regression with an L2 penalty is fitted by iteratively reweighted least squares (numpy; a dozen
features and ~1,500 rows need nothing heavier). Then the floors are chosen on the same items by utility: +1
for a right lead, -1 for a wrong one, -0.5 for "no direct answer" (``UNANSWERED``); +1 for abstaining on an
out-of-scope item, -1 for leading on one. A wrong answer costs more than an honest "no direct answer".

The result is written to ``assistant/judge.json`` under the embedding backend, with the dev figures.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from assistant.assistant import Assistant, clean_question
from assistant.compose import Composer
from assistant.evaluation.dataset import EvalItem
from assistant.evaluation.metrics import lead_correct
from assistant.evaluation.scoring import ScoringContext, states_key_fact
from assistant.lead import FEATURES, JUDGE_FILE, JudgeConfig
from assistant.models import Answer
from assistant.retrieval import Retrieval
from assistant.text import citation_numbers, detect_language

LEAD_FLOORS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
RELATED_FLOORS = (0.01, 0.03, 0.05, 0.1, 0.2)
L2 = 1.0
# What an honest "no direct answer" to an answerable question costs, against -1 for a wrong lead and +1 for a
# right one. At 0 the fit abstained on 61 % of answerable test questions to avoid wrong leads; the issue asks
# for both few wrong leads and few false abstentions, so a missed answer costs half a wrong one.
UNANSWERED = -0.5


@dataclass(frozen=True)
class Outcome:
    utility: float
    correct: int  # in-scope items whose lead answers
    wrong: int  # in-scope items whose lead answers something else
    unanswered: int  # in-scope items without a lead
    oos_abstained: int
    oos_led: int

    @property
    def wrong_lead_rate(self) -> float:
        judged = self.correct + self.wrong + self.oos_led
        return (self.wrong + self.oos_led) / judged if judged else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "wrong_lead_rate": round(self.wrong_lead_rate, 3)}


Cached = tuple[EvalItem, str, str, Retrieval]


def retrievals(assistant: Assistant, items: Sequence[EvalItem]) -> list[Cached]:
    out = []
    for item in items:
        question = clean_question(item.user_input)
        out.append((item, question, detect_language(question),
                    assistant.retriever.retrieve(question, as_of=item.as_of, k=assistant.settings.top_k)))
    return out


def is_right_lead(item: EvalItem, lead_from: str, lead_text: str, sources: Sequence[Any], ctx: ScoringContext) -> bool:
    score = lead_correct(item.verdict, item.should_abstain, lead_from, lead_text, sources, item.reference_context_ids,
                         fact_match=states_key_fact(item, lead_text, ctx))
    return score.score == 1.0


def training_rows(composer: Composer, cached: Sequence[Cached], ctx: ScoringContext) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for item, question, lang, retrieval in cached:
        history = retrieval.as_of is not None or retrieval.history_intent
        for unit in composer.judge.rank(retrieval, question, notes=not history):
            text, sources = composer.lead_line(unit, question, lang, retrieval)
            rows.append(unit.features)
            labels.append(float(not item.should_abstain and is_right_lead(item, unit.kind, text, sources, ctx)))
    return np.asarray(rows, dtype=np.float64), np.asarray(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50) -> np.ndarray:
    """Weights minimising log-loss + l2/2 * |w|^2 (the bias, column 0, unpenalised), by IRLS."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def item_outcome(item: EvalItem, answer: Answer, ctx: ScoringContext) -> str:
    led = answer.lead_from in ("note", "faq", "section", "article")
    if item.should_abstain:
        return "oos_led" if led else "oos_abstained"
    if not led:
        return "unanswered"
    lead_text = answer.verdict or (answer.points[0] if answer.points else "")
    numbers = set(citation_numbers(lead_text))
    sources = [c for c in answer.citations if c.n in numbers]
    return "correct" if is_right_lead(item, answer.lead_from, lead_text, sources, ctx) else "wrong"


def evaluate(assistant: Assistant, cached: Sequence[Cached], judge: JudgeConfig, ctx: ScoringContext) -> Outcome:
    composer = Composer(assistant.retriever, replace(assistant.composer.config, judge=judge))
    counts = {"correct": 0, "wrong": 0, "unanswered": 0, "oos_abstained": 0, "oos_led": 0}
    for item, question, lang, retrieval in cached:
        counts[item_outcome(item, composer.compose(question, lang, retrieval), ctx)] += 1
    utility = (counts["correct"] - counts["wrong"] + UNANSWERED * counts["unanswered"]
               + counts["oos_abstained"] - counts["oos_led"])
    return Outcome(utility=utility, **counts)


def calibrate(assistant: Assistant, items: Sequence[EvalItem], ctx: ScoringContext) -> tuple[JudgeConfig, Outcome]:
    """Fit the weights, then the floors, on ``items`` (the dev split)."""
    cached = retrievals(assistant, items)
    x, y = training_rows(assistant.composer, cached, ctx)
    weights = dict(zip(FEATURES, (round(float(v), 4) for v in fit_logistic(x, y)), strict=True))
    base = replace(assistant.composer.config.judge, weights=weights)
    best: tuple[JudgeConfig, Outcome] | None = None
    for lead in LEAD_FLOORS:
        for related in RELATED_FLOORS:
            judge = replace(base, lead=lead, related=min(related, lead))
            outcome = evaluate(assistant, cached, judge, ctx)
            if best is None or outcome.utility > best[1].utility:
                best = (judge, outcome)
    assert best is not None
    return best


def save(backend: str, judge: JudgeConfig, outcome: Outcome, n_items: int) -> None:
    data = json.loads(JUDGE_FILE.read_text(encoding="utf-8")) if JUDGE_FILE.is_file() else {}
    data[backend] = {"weights": judge.weights, "lead": judge.lead, "related": judge.related,
                     "scope_margin": judge.scope_margin,
                     "fitted": {"on": f"dev split, {n_items} items", "date": date.today().isoformat(),
                                "dev": outcome.as_dict()}}
    JUDGE_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
