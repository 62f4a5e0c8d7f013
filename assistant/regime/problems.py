"""Problems of a regime model, worded for its author: ``<entry>: field '<field>': <problem>``.

``describe_validation_error`` turns a pydantic error location into the entry it sits in (``rule 'b25-free'``,
``fact 'server'``, ...) and the field below it (``cites[1].article``). ``find_problems`` checks what the
schema cannot: unique ids, the facts and values that conditions name, defaults, rule order and conflicts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .conditions import Condition

if TYPE_CHECKING:
    from .model import RegimeModel

# List fields whose items are entries with an id, and what an entry is called.
_ENTRIES = {"facts": "fact", "derived": "derived fact", "obligations": "obligation", "rules": "rule",
            "conflicts": "conflict"}
_SHOW_INPUT = {"missing", "extra_forbidden"}  # no useful "got" for these


def _field(loc: Sequence[Any]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return text or "(the entry itself)"


def describe_validation_error(raw: Mapping[str, Any], error: Mapping[str, Any]) -> str:
    """``rule 'x': field 'status': Input should be ... (got 'maybe')`` for one pydantic error."""
    loc = list(error.get("loc", ()))
    node: Any = raw
    where, start = "top level", 0
    for i, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
            kind = _ENTRIES.get(str(loc[i - 1])) if i else None
            if kind:
                ident = node.get("id") if isinstance(node, dict) else None
                where = f"{kind} '{ident}'" if ident else f"{where}, {loc[i - 1]}[{key}]"
                start = i + 1
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            break
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") not in _SHOW_INPUT and "input" in error and not isinstance(error["input"], (dict, list)):
        message += f" (got {error['input']!r})"
    return f"{where}: field '{_field(loc[start:])}': {message}"


def _duplicates(ids: Sequence[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def find_problems(model: RegimeModel) -> list[str]:
    """Every cross-reference problem, in file order; empty when the model is sound."""
    return [*_id_problems(model), *_fact_problems(model), *_condition_problems(model), *_order_problems(model)]


def _id_problems(model: RegimeModel) -> Iterator[str]:
    for dup in _duplicates([f.id for f in model.facts] + [d.id for d in model.derived]):
        yield f"fact '{dup}': field 'id': defined twice (facts and derived facts share one namespace)"
    for dup in _duplicates([o.id for o in model.obligations]):
        yield f"obligation '{dup}': field 'id': defined twice"
    for dup in _duplicates([r.id for _, r in model.rules()]):
        yield f"rule '{dup}': field 'id': defined twice (rule ids are unique across obligations)"
    for dup in _duplicates([c.id for c in model.conflicts]):
        yield f"conflict '{dup}': field 'id': defined twice"


def _fact_problems(model: RegimeModel) -> Iterator[str]:
    for fact in model.facts:
        names = [v.id for v in fact.values] + [a.lower() for v in fact.values for a in v.aliases]
        for dup in _duplicates(names):
            yield f"fact '{fact.id}': field 'values': value or alias '{dup}' is used twice"
        allowed = {v.id for v in fact.values}
        for value in fact.default:
            if value not in allowed:
                yield f"fact '{fact.id}': field 'default': {value!r} is not one of its values ({', '.join(sorted(allowed))})"
        if not fact.multiple and len(fact.default) != 1:
            yield f"fact '{fact.id}': field 'default': a single-valued fact needs exactly one default"


def _known_values(model: RegimeModel) -> dict[str, set[str]]:
    known = {f.id: {v.id for v in f.values} for f in model.facts}
    known.update({d.id: {v.value for v in d.values} for d in model.derived})
    return known


def _check(condition: Condition, known: Mapping[str, set[str]], where: str, field: str) -> Iterator[str]:
    for name, allowed in condition.references():
        if name not in known:
            yield f"{where}: field '{field}': unknown fact '{name}' (known: {', '.join(sorted(known))})"
        elif allowed - known[name]:
            bad = ", ".join(sorted(allowed - known[name]))
            yield f"{where}: field '{field}': fact '{name}' has no value {bad} (allowed: {', '.join(sorted(known[name]))})"


def _condition_problems(model: RegimeModel) -> Iterator[str]:
    known = _known_values(model)
    earlier = {f.id: known[f.id] for f in model.facts}
    for derived in model.derived:  # a derived fact may use facts and the derived facts above it
        for i, value in enumerate(derived.values):
            yield from _check(value.when, earlier, f"derived fact '{derived.id}'", f"values[{i}].when")
        earlier[derived.id] = known[derived.id]
    conflicts = {c.id for c in model.conflicts}
    for obligation in model.obligations:
        yield from _check(obligation.shown_when, known, f"obligation '{obligation.id}'", "shown_when")
        for rule in obligation.rules:
            yield from _check(rule.when, known, f"rule '{rule.id}'", "when")
            if rule.conflict and rule.conflict not in conflicts:
                yield f"rule '{rule.id}': field 'conflict': no conflict '{rule.conflict}' in 'conflicts'"


def _order_problems(model: RegimeModel) -> Iterator[str]:
    for obligation in model.obligations:
        *head, last = obligation.rules
        for rule in head:
            if rule.when.is_empty:
                yield f"rule '{rule.id}': field 'when': only the last rule may have no 'when' (later rules are never reached)"
        if not last.when.is_empty:
            yield (f"rule '{last.id}': field 'when': the last rule of obligation '{obligation.id}' is the fallback "
                   "and must have no 'when'")
    for derived in model.derived:
        if not derived.values[-1].when.is_empty:
            yield f"derived fact '{derived.id}': field 'values[{len(derived.values) - 1}].when': the last value is the fallback and must have no 'when'"
