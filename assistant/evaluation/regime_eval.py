"""Scenario eval of the regime finder: fact extraction and obligation statuses against hand-written gold.

``evals/scenarios/scenarios.jsonl``: one scenario per line with ``id``, ``user_input``, ``reference_facts``
(only the facts the user states: fact -> value or list of values), ``reference_obligations`` (every row
the answer should show: obligation -> status, under the model's documented defaults for unstated facts) and
``tags`` (``topic``, ``language``, ``split``). The metric functions are pure; ``run_regime_eval`` wires them
to the finder and is what the main eval calls.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation.dataset import LANGUAGES, SPLITS, DatasetError

# "holdout": scenarios written after the finder was built, by someone who saw neither its code nor the other
# items (``scenarios/holdout.jsonl``); scored, never tuned on.
SCENARIO_SPLITS = (*SPLITS, "holdout")

FIELDS = ("id", "user_input", "reference_facts", "reference_obligations", "tags")
STATUSES = ("needed", "not-needed", "depends", "not-possible")

FactMap = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Scenario:
    id: str
    user_input: str
    reference_facts: dict[str, tuple[str, ...]]
    reference_obligations: dict[str, str]
    topic: str
    language: str
    split: str


def _scenario(raw: Any) -> Scenario:
    if not isinstance(raw, dict) or sorted(raw) != sorted(FIELDS):
        raise ValueError(f"expected exactly the fields {', '.join(FIELDS)}")
    facts, obligations, tags = raw["reference_facts"], raw["reference_obligations"], raw["tags"]
    if not isinstance(facts, dict) or not isinstance(obligations, dict) or not isinstance(tags, dict):
        raise ValueError("reference_facts, reference_obligations and tags must be objects")
    bad = {k: v for k, v in obligations.items() if v not in STATUSES}
    if bad:
        raise ValueError(f"reference_obligations: statuses must be one of {', '.join(STATUSES)}. Got: {bad}")
    if tags.get("split") not in SCENARIO_SPLITS or tags.get("language") not in LANGUAGES or not tags.get("topic"):
        raise ValueError(f"tags need topic, language ({'/'.join(LANGUAGES)}) and split ({'/'.join(SCENARIO_SPLITS)})")
    gold = {k: tuple(sorted(v if isinstance(v, list) else [v])) for k, v in facts.items()}
    return Scenario(str(raw["id"]), str(raw["user_input"]), gold, dict(obligations), tags["topic"], tags["language"],
                    tags["split"])


def load_scenarios(path: str | Path, split: str | None = None) -> list[Scenario]:
    """Every scenario of the file (``split``: only "dev" or "test"); a bad line raises ``DatasetError``."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the scenario file: {exc}") from exc
    scenarios = []
    for line_no, line in enumerate(lines, 1):
        try:
            scenarios.append(_scenario(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as exc:
            raise DatasetError(f"{path}:{line_no}: {exc}") from exc
    dupes = [i for i, n in Counter(s.id for s in scenarios).items() if n > 1]
    if dupes:
        raise DatasetError(f"{path}: duplicate ids {dupes}")
    return [s for s in scenarios if split in (None, "all") or s.split == split]


def _ratio(correct: int, total: int) -> float:
    return correct / total if total else math.nan


def fact_accuracy(pairs: Iterable[tuple[FactMap, FactMap]]) -> dict[str, Any]:
    """(gold stated facts, predicted stated facts) per scenario -> accuracy over the gold facts, per fact too.

    A gold fact counts as correct when it was recognised with exactly the gold values; facts recognised but
    absent from the gold are counted as ``spurious`` (they do not lower the accuracy)."""
    per: dict[str, list[int]] = {}
    spurious = 0
    for gold, predicted in pairs:
        for fact, values in gold.items():
            hit = tuple(sorted(predicted.get(fact, ()))) == tuple(sorted(values))
            per.setdefault(fact, [0, 0])[0] += hit
            per[fact][1] += 1
        spurious += sum(1 for fact in predicted if fact not in gold)
    correct, total = sum(c for c, _ in per.values()), sum(t for _, t in per.values())
    return {"accuracy": _ratio(correct, total), "correct": correct, "total": total, "spurious": spurious,
            "per_fact": {f: {"accuracy": _ratio(c, t), "correct": c, "total": t} for f, (c, t) in sorted(per.items())}}


def obligation_accuracy(pairs: Iterable[tuple[Mapping[str, str], Mapping[str, str]]]) -> dict[str, Any]:
    """(gold statuses, predicted statuses) per scenario -> accuracy per gold row; a missing row is wrong.

    ``extra`` counts rows shown that the gold does not list."""
    per: dict[str, list[int]] = {}
    extra = 0
    for gold, predicted in pairs:
        for obligation, status in gold.items():
            per.setdefault(obligation, [0, 0])[0] += predicted.get(obligation) == status
            per[obligation][1] += 1
        extra += sum(1 for ob in predicted if ob not in gold)
    correct, total = sum(c for c, _ in per.values()), sum(t for _, t in per.values())
    return {"accuracy": _ratio(correct, total), "correct": correct, "total": total, "extra": extra,
            "per_obligation": {o: {"accuracy": _ratio(c, t), "correct": c, "total": t} for o, (c, t) in sorted(per.items())}}


def _errors(scenario: Scenario, facts: FactMap, statuses: Mapping[str, str]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = [
        {"id": scenario.id, "kind": "fact", "name": f, "expected": list(v), "got": list(facts.get(f, ()))}
        for f, v in scenario.reference_facts.items() if tuple(sorted(facts.get(f, ()))) != v]
    errors += [{"id": scenario.id, "kind": "obligation", "name": o, "expected": s, "got": statuses.get(o)}
               for o, s in scenario.reference_obligations.items() if statuses.get(o) != s]
    return errors


def run_regime_eval(path: str | Path, split: str = "test", model_path: str | Path | None = None,
                    corpus_dirs: Iterable[Path] | None = None) -> dict[str, Any]:
    """Score the finder on one split ("dev", "test" or "all") of the scenario file; a JSON-able dict."""
    from assistant.regime import DEFAULT_MODEL_PATH, FactSource, check_citations, find_regime, load_regime_model
    from assistant.settings import default_corpus_dirs

    model = load_regime_model(model_path or DEFAULT_MODEL_PATH)
    problems = check_citations(model, corpus_dirs or default_corpus_dirs(), model.registry) if model.registry else ["no registry"]
    fact_pairs, status_pairs, errors = [], [], []
    rows = valid_rows = 0
    for scenario in load_scenarios(path, split):
        result = find_regime(scenario.user_input, None, model)
        facts = {f.fact: tuple(sorted(f.values)) for f in result.facts if f.source == FactSource.STATED}
        statuses = {o.obligation: o.status.value for o in result.outcomes}
        fact_pairs.append((scenario.reference_facts, facts))
        status_pairs.append((scenario.reference_obligations, statuses))
        errors += _errors(scenario, facts, statuses)
        rows += len(result.outcomes)
        valid_rows += sum(1 for o in result.outcomes if o.cites and not any(p.startswith(f"rule '{o.rule}'") for p in problems))
    return {"split": split, "items": len(fact_pairs), "fact_extraction": fact_accuracy(fact_pairs),
            "obligations": obligation_accuracy(status_pairs),
            "citations": {"rows": rows, "rows_with_valid_citations": valid_rows, "rate": _ratio(valid_rows, rows)},
            "errors": errors}
