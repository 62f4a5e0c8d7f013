"""How much of what a question asks about does a unit mention: coverage of the question's concepts.

A concept is a glossary term (covered by any of its aliases, in either language: "authorization code" is
covered by 授权码, or by all the English words the question matched it on: "ICP filing expire" by "Does an ICP
filing number expire?") or a remaining content word of the question (covered by itself). Each is weighted by how
rare it is in the corpus (idf over units), so "authorization code" counts more than "ICP filing". A unit on
the same topic that lacks the distinctive thing asked about scores low: that is how "What is an authorization
code?" stops being answered by a note on personal filing.

An English word with no glossary entry cannot be found in a Chinese text; it still counts in the total, so
coverage stays honest about what was not matched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .lexical import content_words
from .registry import Glossary, Term


@dataclass(frozen=True)
class Concept:
    label: str
    weight: float
    term: Term | None = None  # a glossary term, else a single word (``label``)
    words: tuple[str, ...] = ()  # a term's: the question's own content words it was matched on


class ConceptCoverage:
    """Concept extraction for questions and coverage of texts, over the units of one index generation."""

    def __init__(self, glossary: Glossary | None, unit_texts: Sequence[str], unit_tokens: Sequence[set[str]]) -> None:
        self.glossary = glossary
        self.unit_texts = [t.lower() for t in unit_texts]
        self.size = max(len(unit_texts), 1)
        df: dict[str, int] = {}
        for words in unit_tokens:
            for w in words:
                df[w] = df.get(w, 0) + 1
        self.word_idf = {w: self._idf(n) for w, n in df.items()}
        self._term_idf: dict[str, float] = {}

    def _idf(self, df: int) -> float:
        return math.log((self.size - df + 0.5) / (df + 0.5) + 1.0)

    def term_idf(self, term: Term) -> float:
        if term.id not in self._term_idf:
            assert self.glossary is not None
            df = sum(1 for text in self.unit_texts if self.glossary.mentions(term, text))
            self._term_idf[term.id] = self._idf(df)
        return self._term_idf[term.id]

    def concepts(self, question: str) -> list[Concept]:
        """Glossary terms of the question, then its other words that occur in the corpus, each once."""
        rest, found = question, []
        if self.glossary is not None:
            for start, end, term, _ in reversed(self.glossary.spans(question)):
                words = tuple(w for w in content_words(question[start:end]) if w.isascii())
                found.append(Concept(label=term.id, weight=self.term_idf(term), term=term, words=words))
                rest = rest[:start] + " " + rest[end:]
        seen = {c.label for c in found}
        for word in content_words(rest):
            if word in self.word_idf and word not in seen:
                seen.add(word)
                found.append(Concept(label=word, weight=self.word_idf[word]))
        return found

    def asked(self, concepts: Sequence[Concept], asking: str) -> list[Concept]:
        """The concepts a question asks about: its glossary terms, and the words of its sentences that ask
        (``asks.asking_part``), not the words of the story told around them."""
        lowered = asking.lower()
        return [c for c in concepts if c.term is not None or self._mentions(c, lowered)]

    def share(self, concepts: Sequence[Concept], text: str) -> float:
        """The idf-weighted share of ``concepts`` that ``text`` mentions (0.0 without concepts)."""
        total = sum(c.weight for c in concepts)
        if not total:
            return 0.0
        lowered = text.lower()
        covered = sum(c.weight for c in concepts if self._mentions(c, lowered))
        return covered / total

    def missing(self, concepts: Sequence[Concept], text: str) -> float:
        """The weight of the rarest concept of the question that ``text`` does not mention (0.0 if none)."""
        lowered = text.lower()
        return max((c.weight for c in concepts if not self._mentions(c, lowered)), default=0.0)

    def _mentions(self, concept: Concept, lowered: str) -> bool:
        if concept.term is not None and self.glossary is not None:
            return self.glossary.mentions(concept.term, lowered) or (
                len(concept.words) > 1 and all(self._mentions(Concept(w, 0.0), lowered) for w in concept.words))
        if concept.label.isascii():  # "fine" is not in "define"
            return re.search(rf"(?<![a-z0-9]){re.escape(concept.label)}(?![a-z0-9])", lowered) is not None
        return concept.label in lowered
