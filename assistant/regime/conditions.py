"""Conditions of the regime model: ``{fact: [values], any: [...], all: [...], not: {...}}`` -> ``Condition``.

A fact matches when one of its values is among the allowed ones (facts such as ``service`` may hold several
values). Keys of one mapping are ANDed. Parsing raises ``ValueError`` with the offending key, so the loader
can report it against the rule that holds the condition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

COMBINATORS = ("any", "all", "not")

Facts = Mapping[str, frozenset[str]]


def fact_text(value: Any) -> str:
    """A fact value as text. YAML 1.1 reads bare yes/no as booleans; authors mean the words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int)):
        return str(value)
    raise ValueError(f"expected a value such as mainland or yes. Got: {value!r}")


@dataclass(frozen=True)
class Condition:
    """All of ``facts`` hold, at least one of ``any_of`` (when given), all of ``all_of``, none of ``none_of``."""

    facts: tuple[tuple[str, frozenset[str]], ...] = ()
    any_of: tuple[Condition, ...] = ()
    all_of: tuple[Condition, ...] = ()
    none_of: tuple[Condition, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.facts or self.any_of or self.all_of or self.none_of)

    def matches(self, facts: Facts) -> bool:
        return (all(facts.get(name, frozenset()) & allowed for name, allowed in self.facts)
                and (not self.any_of or any(c.matches(facts) for c in self.any_of))
                and all(c.matches(facts) for c in self.all_of)
                and not any(c.matches(facts) for c in self.none_of))

    def references(self) -> Iterator[tuple[str, frozenset[str]]]:
        """Every (fact, allowed values) pair, nested ones included (for cross-checks against the facts)."""
        yield from self.facts
        for child in self.any_of + self.all_of + self.none_of:
            yield from child.references()


def parse_condition(raw: Any) -> Condition:
    """Build a ``Condition`` from its YAML form; ``None`` or ``{}`` is the empty (always true) condition."""
    if isinstance(raw, Condition):
        return raw
    if raw is None:
        return Condition()
    if not isinstance(raw, Mapping):
        raise ValueError(f"a condition is a mapping of fact -> values. Got: {raw!r}")
    facts: list[tuple[str, frozenset[str]]] = []
    any_of: tuple[Condition, ...] = ()
    all_of: tuple[Condition, ...] = ()
    none_of: tuple[Condition, ...] = ()
    for key, value in raw.items():
        if key in ("any", "all"):
            if not isinstance(value, list) or not value:
                raise ValueError(f"'{key}' needs a non-empty list of conditions")
            parsed = tuple(parse_condition(v) for v in value)
            any_of, all_of = (parsed, all_of) if key == "any" else (any_of, parsed)
        elif key == "not":
            none_of = (parse_condition(value),)
        else:
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ValueError(f"fact '{key}' lists no values")
            facts.append((str(key), frozenset(fact_text(v) for v in values)))
    return Condition(tuple(facts), any_of, all_of, none_of)
