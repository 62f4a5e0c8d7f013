"""Evaluate the regime model: fact values -> derived facts -> the first matching rule of every obligation.

Pure and deterministic; knows nothing about questions or languages beyond copying both texts through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .citations import cite_label
from .conditions import Facts
from .model import CiteSpec, ConflictSpec, RegimeModel, RuleSpec
from .records import Cite, ConflictView, Outcome, Position


def complete(model: RegimeModel, values: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """Base facts (missing ones at their defaults) plus every derived fact, in model order."""
    facts: dict[str, frozenset[str]] = {}
    for fact in model.facts:
        facts[fact.id] = frozenset(values.get(fact.id) or fact.default)
    for derived in model.derived:
        value = next(v.value for v in derived.values if v.when.matches(facts))  # the last value always matches
        facts[derived.id] = frozenset({value})
    return facts


def matching_rule(rules: Iterable[RuleSpec], facts: Facts) -> RuleSpec:
    return next(r for r in rules if r.when.matches(facts))  # the loader guarantees a fallback rule


def evaluate(model: RegimeModel, values: Mapping[str, Iterable[str]]) -> tuple[Outcome, ...]:
    """One ``Outcome`` per obligation shown for these facts, in model order."""
    facts = complete(model, values)
    outcomes = []
    for obligation in model.obligations:
        if not obligation.shown_when.matches(facts):
            continue
        rule = matching_rule(obligation.rules, facts)
        conflict = model.conflict(rule.conflict) if rule.conflict else None
        outcomes.append(Outcome(
            obligation=obligation.id, label_en=obligation.label.en, label_zh=obligation.label.zh,
            status=rule.status, reason_en=rule.reason.en, reason_zh=rule.reason.zh,
            cites=tuple(to_cite(c, model) for c in rule.cites), rule=rule.id,
            conditions_en=rule.conditions.en if rule.conditions else "",
            conditions_zh=rule.conditions.zh if rule.conditions else "",
            conflict=_conflict_view(conflict, model) if conflict else None,
        ))
    return tuple(outcomes)


def statuses(model: RegimeModel, values: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """obligation id -> status value: the compact form tests and the eval compare."""
    return {o.obligation: o.status.value for o in evaluate(model, values)}


def to_cite(spec: CiteSpec, model: RegimeModel) -> Cite:
    en, zh = cite_label(spec, model.registry)
    kind = "note" if spec.note else "instrument" if spec.instrument else "doc"
    return Cite(kind=kind, ref=spec.note or spec.instrument or spec.doc or "", article=spec.article,
                verified=spec.verified, practice=spec.practice, label_en=en, label_zh=zh)


def _conflict_view(conflict: ConflictSpec, model: RegimeModel) -> ConflictView:
    positions = tuple(Position(p.source, p.status, p.view.en, p.view.zh, tuple(to_cite(c, model) for c in p.cites))
                      for p in conflict.positions)
    return ConflictView(conflict.id, conflict.title.en, conflict.title.zh, positions, conflict.resolution.en,
                        conflict.resolution.zh, conflict.registry_conflict or "")
