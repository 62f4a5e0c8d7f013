"""Facts of a scenario: recognised in the question (stated), passed by the caller (given), or assumed.

``extract_facts`` is deterministic: the ordered patterns of ``patterns.py`` (plus a few glossary aliases),
negation within the clause, and "explicit beats hint" when a fact is stated twice. ``given_facts`` checks
caller overrides (CLI flags, answer buttons) against the model; ``assemble`` fills the rest with the
model's documented defaults, so every fact of the model has a value and a source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from assistant.errors import RegimeInputError
from assistant.registry import Glossary

from .model import FactSpec, RegimeModel
from .patterns import CLAUSE_END, NEGATION_EN, NEGATION_ZH, PATTERNS, SHARE_PATTERNS, Pattern
from .records import FactSource, FactValue

CJK = re.compile(r"[\u3400-\u9fff]")
# A span read as a server location is not also the company's location ("hosted in Shanghai").
BLOCKED_BY = {"province": ("server",)}
# Glossary terms whose aliases state a fact, as (fact, value) pairs.
GLOSSARY_FACTS = {
    "wfoe": (("operator", "foreign-invested"), ("foreign-share", "over-50")),
    "joint-venture": (("operator", "foreign-invested"),),
    "mini-program": (("service", "mini-program"),),
}


@dataclass(frozen=True)
class _Match:
    fact: str
    value: str
    strength: int
    start: int
    span: str
    detail: str = ""


def _negated(text: str, start: int) -> bool:
    before = text[max(0, start - 40):start]
    clause = CLAUSE_END.split(before)[-1]
    return bool(NEGATION_EN.search(clause) or NEGATION_ZH.search(clause))


@cache
def _glossary_patterns(glossary: Glossary) -> tuple[Pattern, ...]:
    patterns = []
    for term in glossary.terms:
        for fact, value in GLOSSARY_FACTS.get(term.id, ()):
            names = sorted(term.en + term.zh, key=len, reverse=True)
            body = "|".join(re.escape(n).replace(r"\ ", r"[\s-]*") for n in names)
            patterns.append(Pattern(fact, value, re.compile(rf"(?<![A-Za-z])(?:{body})(?![A-Za-z])", re.IGNORECASE)))
    return tuple(patterns)


def _pattern_matches(text: str, patterns: Iterable[Pattern]) -> list[_Match]:
    consumed: dict[str, list[tuple[int, int]]] = {}
    found = []
    for pattern in patterns:
        blocked = [s for f in (pattern.fact, *BLOCKED_BY.get(pattern.fact, ())) for s in consumed.get(f, [])]
        for m in pattern.regex.finditer(text):
            if m.end() == m.start() or any(m.start() < e and s < m.end() for s, e in blocked):
                continue
            negated = _negated(text, m.start())
            value = pattern.negated if negated else pattern.value
            if value is None:
                continue
            strength = pattern.negated_strength if negated else pattern.strength
            found.append(_Match(pattern.fact, value, strength, m.start(), m.group(0)))
            consumed.setdefault(pattern.fact, []).append((m.start(), m.end()))
    return found


def _share_matches(text: str) -> list[_Match]:
    for regex, chinese_side in SHARE_PATTERNS:
        m = regex.search(text)
        if m and 0 <= float(m.group(1)) <= 100:
            foreign = 100 - float(m.group(1)) if chinese_side else float(m.group(1))
            value = "up-to-50" if foreign <= 50 else "over-50"
            return [_Match("foreign-share", value, 3, m.start(), m.group(0), f"{foreign:g}% foreign"),
                    _Match("operator", "foreign-invested", 1, m.start(), m.group(0))]
    return []


def _resolve(spec: FactSpec, matches: list[_Match]) -> FactValue | None:
    if spec.multiple:
        positive = [m for m in matches if m.value != "none" and m.strength > 0]
        chosen = positive or [m for m in matches if m.value == "none"]
        values = tuple(v.id for v in spec.values if any(m.value == v.id for m in chosen))
    else:
        best = max(matches, key=lambda m: (m.strength, -m.start))
        chosen, values = [best], (best.value,)
    if not values or any(spec.value(v) is None for v in values):
        return None
    spans = " … ".join(dict.fromkeys(m.span for m in sorted(chosen, key=lambda m: m.start)))
    detail = next((m.detail for m in chosen if m.detail), "")
    return _fact_value(spec, values, FactSource.STATED, spans, detail)


def _fact_value(spec: FactSpec, values: tuple[str, ...], source: FactSource, span: str = "",
                detail: str = "") -> FactValue:
    labels = [spec.value(v) for v in values]
    en = ", ".join(v.en for v in labels if v)
    zh = "、".join(v.zh for v in labels if v)
    return FactValue(spec.id, values, source, span, detail, en, zh, spec.label.en, spec.label.zh)


def extract_facts(question: str, model: RegimeModel) -> dict[str, FactValue]:
    """The facts the question states (source ``stated``, with the matching words as ``span``)."""
    text = question or ""
    extra = _glossary_patterns(model.glossary) if model.glossary else ()
    matches = _share_matches(text) + _pattern_matches(text, (*extra, *PATTERNS))
    stated = {}
    for spec in model.facts:
        own = [m for m in matches if m.fact == spec.id]
        value = _resolve(spec, own) if own else None
        if value:
            stated[spec.id] = value
    return stated


def _given_values(spec: FactSpec, raw: str) -> tuple[tuple[str, ...], str]:
    if spec.id == "foreign-share" and re.fullmatch(r"\s*\d{1,3}(?:\.\d+)?\s*%?\s*", raw):
        share = float(raw.strip().rstrip("%"))
        if share <= 100:
            return ("up-to-50" if share <= 50 else "over-50",), f"{share:g}% foreign"
    parts = [p for p in re.split(r"[,+]", raw) if p.strip()] if spec.multiple else [raw]
    values = []
    for part in parts:
        value = spec.resolve(part)
        if value is None:
            allowed = ", ".join(v.id for v in spec.values)
            aliases = ", ".join(a for v in spec.values for a in v.aliases)
            raise RegimeInputError(f"{spec.id}: expected one of {allowed}" + (f" (or {aliases})" if aliases else "")
                                   + f". Got: {part.strip()!r}")
        values.append(value)
    if not values:
        raise RegimeInputError(f"{spec.id}: no value given")
    if spec.multiple and len(values) > 1:  # "none,news" means news
        values = [v for v in values if v != "none"]
    return tuple(dict.fromkeys(values)), ""


def given_facts(overrides: Mapping[str, str] | None, model: RegimeModel) -> dict[str, FactValue]:
    """Caller-supplied facts (source ``given``); an unknown fact or value raises ``RegimeInputError``."""
    given = {}
    for key, raw in (overrides or {}).items():
        spec = model.fact(key.replace("_", "-"))
        if spec is None:
            known = ", ".join(f.id for f in model.facts)
            raise RegimeInputError(f"unknown fact {key!r}. Expected one of: {known}")
        values, detail = _given_values(spec, str(raw))
        given[spec.id] = _fact_value(spec, values, FactSource.GIVEN, "", detail)
    return given


def assemble(model: RegimeModel, stated: Mapping[str, FactValue], given: Mapping[str, FactValue]) -> tuple[FactValue, ...]:
    """Every fact of the model in model order: given beats stated beats the documented default."""
    return tuple(given.get(spec.id) or stated.get(spec.id) or _fact_value(spec, spec.default, FactSource.ASSUMED)
                 for spec in model.facts)


def stated_fact_names(text: str) -> set[str]:
    """The facts a text states, without a model (for telling scenarios from single-rule questions)."""
    return {m.fact for m in _share_matches(text or "") + _pattern_matches(text or "", PATTERNS)}
