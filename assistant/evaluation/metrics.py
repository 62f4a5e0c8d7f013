"""Pure metric functions for the evaluation runner.

Each function returns a small frozen result carrying the score and the raw counts behind it; a score
is NaN when it is undefined (no gold sources, nothing cited, no latencies ...), never a silent 0 or 1.

Sources are compared as (doc_id, article_no) pairs. At ``level="doc"`` only the document counts; at
``level="article"`` the article must match too, except that a gold article_no of None (a project note,
a partial text without articles) matches any chunk of that document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assistant.asks import ASK_LABEL
from assistant.text import CN_BIG_UNITS, CN_DIGITS, CN_UNITS, chinese_number, citation_numbers, strip_markers

Level = Literal["doc", "article"]
Ref = tuple[str, int | None]
SimilarityFn = Callable[[list[str], list[str]], Any]  # -> matrix indexable as m[i][j], len(facts) rows
DocTextLookup = Mapping[str, str] | Callable[[str], str | None]

NAN = float("nan")


# ---------------------------------------------------------------- source references

def as_ref(item: Any) -> Ref:
    """(doc_id, article_no) of a ``Hit``, ``Chunk``, ``Citation``, ``ContextRef``, pair or bare doc_id."""
    if hasattr(item, "chunk"):
        item = item.chunk
    if hasattr(item, "doc_id"):
        return (item.doc_id, getattr(item, "article_no", None))
    if isinstance(item, str):
        return (item, None)
    if isinstance(item, Sequence) and len(item) == 2:
        return (item[0], item[1])
    raise TypeError(f"cannot read a (doc_id, article_no) source from {item!r}")


def source_matches(candidate: Ref, gold: Ref, level: Level) -> bool:
    """Whether a retrieved or cited source counts as the gold source at ``level``."""
    if level not in ("doc", "article"):
        raise ValueError(f"level must be 'doc' or 'article', got {level!r}")
    if candidate[0] != gold[0]:
        return False
    return level == "doc" or gold[1] is None or candidate[1] == gold[1]


def _first_relevant_rank(retrieved: Iterable[Any], gold: Sequence[Ref], level: Level) -> int | None:
    for rank, item in enumerate(retrieved, start=1):
        ref = as_ref(item)
        if any(source_matches(ref, g, level) for g in gold):
            return rank
    return None


# ---------------------------------------------------------------- retrieval

@dataclass(frozen=True)
class RankResult:
    score: float  # hit@k: 1.0 / 0.0; reciprocal rank: 1/rank or 0.0; NaN without gold
    rank: int | None  # 1-based rank of the first relevant item within the cut-off, None if absent
    k: int | None
    n_retrieved: int
    n_gold: int


def hit_at_k(retrieved: Sequence[Any], gold: Sequence[Any], k: int, level: Level = "doc") -> RankResult:
    """1.0 if any of the first ``k`` retrieved sources matches a gold source, else 0.0 (NaN without gold)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    gold_refs = [as_ref(g) for g in gold]
    top = list(retrieved)[:k]
    rank = _first_relevant_rank(top, gold_refs, level) if gold_refs else None
    score = NAN if not gold_refs else (1.0 if rank is not None else 0.0)
    return RankResult(score=score, rank=rank, k=k, n_retrieved=len(top), n_gold=len(gold_refs))


def reciprocal_rank(retrieved: Sequence[Any], gold: Sequence[Any], level: Level = "doc",
                    k: int | None = None) -> RankResult:
    """1/rank of the first relevant source (within ``k`` when given), 0.0 if none, NaN without gold."""
    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    gold_refs = [as_ref(g) for g in gold]
    items = list(retrieved) if k is None else list(retrieved)[:k]
    rank = _first_relevant_rank(items, gold_refs, level) if gold_refs else None
    score = NAN if not gold_refs else (1.0 / rank if rank is not None else 0.0)
    return RankResult(score=score, rank=rank, k=k, n_retrieved=len(items), n_gold=len(gold_refs))


# ---------------------------------------------------------------- citations

@dataclass(frozen=True)
class PrecisionRecall:
    precision: float  # correct distinct citations / distinct citations (NaN if nothing cited)
    recall: float  # gold sources found / gold sources (NaN without gold)
    f1: float
    n_cited: int  # distinct cited sources at this level
    n_gold: int
    n_correct: int
    n_gold_found: int


def citation_precision_recall(cited: Sequence[Any], gold: Sequence[Any], level: Level = "doc") -> PrecisionRecall:
    """Precision and recall of cited (doc_id, article_no) sources against the gold sources."""
    keys = {_level_key(as_ref(c), level) for c in cited}
    gold_refs = list(dict.fromkeys(as_ref(g) for g in gold))
    correct = sum(1 for key in keys if any(source_matches(key, g, level) for g in gold_refs))
    found = sum(1 for g in gold_refs if any(source_matches(key, g, level) for key in keys))
    precision = correct / len(keys) if keys else NAN
    recall = found / len(gold_refs) if gold_refs else NAN
    if math.isnan(precision) or math.isnan(recall):
        f1 = NAN
    else:
        f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return PrecisionRecall(precision=precision, recall=recall, f1=f1, n_cited=len(keys), n_gold=len(gold_refs),
                           n_correct=correct, n_gold_found=found)


def _level_key(ref: Ref, level: Level) -> Ref:
    return (ref[0], None) if level == "doc" else ref


_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class CitationValidity:
    score: float  # 1.0 when every check passes, 0.0 otherwise, NaN with no markers and no citations
    valid: bool
    n_markers: int
    n_citations: int
    unresolved_markers: tuple[int, ...]  # [n] in the text with no citation numbered n
    bad_quotes: tuple[int, ...]  # citations whose quote is empty or not found in the document
    missing_docs: tuple[int, ...]  # citations whose document text cannot be looked up
    duplicate_numbers: tuple[int, ...]
    unused_citations: tuple[int, ...]  # reported, not an error


def citation_markers(markdown: str) -> list[int]:
    """Every citation number in ``[n]`` / ``[n, m]`` markers, in order of appearance."""
    return citation_numbers(markdown)


def normalise_whitespace(text: str) -> str:
    # Chinese text has no word spaces and line breaks fall anywhere, so all whitespace is dropped.
    return _WHITESPACE.sub("", text)


def citation_validity(answer_markdown: str, citations: Sequence[Any], doc_text_lookup: DocTextLookup) -> CitationValidity:
    """Every [n] resolves to a citation and every citation's quote is verbatim in its document's text."""
    markers = citation_markers(answer_markdown)
    numbers = [c.n for c in citations]
    unresolved = tuple(sorted({n for n in markers if n not in numbers}))
    duplicates = tuple(sorted({n for n in numbers if numbers.count(n) > 1}))
    unused = tuple(sorted({n for n in numbers if n not in markers}))
    bad_quotes: list[int] = []
    missing: list[int] = []
    for citation in citations:
        text = _lookup(doc_text_lookup, citation.doc_id)
        if text is None:
            missing.append(citation.n)
            continue
        quote = normalise_whitespace(citation.quote or "")
        if not quote or quote not in normalise_whitespace(text):
            bad_quotes.append(citation.n)
    valid = not (unresolved or duplicates or bad_quotes or missing)
    score = NAN if not markers and not citations else (1.0 if valid else 0.0)
    return CitationValidity(score=score, valid=valid, n_markers=len(markers), n_citations=len(citations),
                            unresolved_markers=unresolved, bad_quotes=tuple(bad_quotes), missing_docs=tuple(missing),
                            duplicate_numbers=duplicates, unused_citations=unused)


def _lookup(doc_text_lookup: DocTextLookup, doc_id: str) -> str | None:
    if isinstance(doc_text_lookup, Mapping):
        return doc_text_lookup.get(doc_id)
    return doc_text_lookup(doc_id)


# ---------------------------------------------------------------- key facts

_EN_MULTIPLIERS = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
_EN_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
             "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100}
_ARABIC = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(万|亿|千|thousand|million|billion|bn|k\b|m\b)?",
                     re.IGNORECASE)
# A run of Chinese numerals counts only before a counter, so "一般" or "统一" are not numbers.
_CHINESE = re.compile(r"([零〇一二两三四五六七八九十百千万亿]+)(?=[个日天年月元倍条项季周小%％])")
_EN_WORD = re.compile(r"\b(" + "|".join(_EN_WORDS) + r")\b", re.IGNORECASE)


def extract_numbers(text: str, *, english_words: bool = False) -> set[float]:
    """Numeric values in ``text``: "RMB 1 million" and "100万元" both give 1000000.0, "二十个工作日" 20.0."""
    values: set[float] = set()
    for digits, unit in _ARABIC.findall(text):
        value = float(digits.replace(",", ""))
        unit = unit.lower()
        values.add(value * (CN_BIG_UNITS.get(unit) or CN_UNITS.get(unit) or _EN_MULTIPLIERS.get(unit, 1)))
    for run in _CHINESE.findall(text):
        if not any(ch in CN_DIGITS or ch == "十" for ch in run):
            continue  # a bare 万/亿 after Arabic digits ("100万元") was read above
        try:
            values.add(float(chinese_number(run)))
        except ValueError:
            continue
    if english_words:
        values.update(float(_EN_WORDS[w.lower()]) for w in _EN_WORD.findall(text))
    return values


_WORD = re.compile(r"[a-z0-9]+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_STOP = frozenset({"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "its", "of", "on",
                   "or", "the", "this", "that", "to", "with"})


def _tokens(text: str) -> set[str]:
    lowered = text.lower()
    words = {w for w in _WORD.findall(lowered) if w not in _STOP and not w.isdigit()}
    bigrams = {run[i:i + 2] for run in _CJK_RUN.findall(lowered) for i in range(max(1, len(run) - 1))}
    return words | bigrams


@dataclass(frozen=True)
class FactMatch:
    fact: str
    covered: bool
    method: str | None  # "lexical" | "semantic" | None
    best_similarity: float  # NaN when no similarity was computed
    missing_numbers: tuple[float, ...]


@dataclass(frozen=True)
class KeyFactCoverage:
    score: float  # covered / total, NaN without facts
    covered: int
    total: int
    matches: tuple[FactMatch, ...]


def key_fact_coverage(facts: Sequence[str], answer_sentences: Sequence[str], similarity: SimilarityFn | None,
                      threshold: float, *, lexical_overlap: float = 0.5) -> KeyFactCoverage:
    """Share of ``facts`` the answer states.

    A fact whose numbers ("20", "RMB 1 million", "5 years") do not all appear in the answer is never
    covered. Otherwise it is covered lexically (its text is in the answer, or its numbers are there and at
    least ``lexical_overlap`` of its other words/bigrams are) or semantically (best similarity against
    any answer sentence >= ``threshold``; ``similarity`` is injected, e.g. embedding cosine).
    """
    facts = list(facts)
    sentences = [s for s in answer_sentences if s.strip()]
    answer = " ".join(sentences)
    answer_numbers = extract_numbers(answer, english_words=True)
    answer_flat = normalise_whitespace(answer).lower()
    answer_tokens = _tokens(answer)
    matrix = similarity(facts, sentences) if similarity is not None and facts and sentences else None
    matches = []
    for i, fact in enumerate(facts):
        best = max((float(v) for v in matrix[i]), default=NAN) if matrix is not None else NAN
        missing = tuple(sorted(n for n in extract_numbers(fact) if not _has_number(n, answer_numbers)))
        method = None
        if not missing:
            if _lexical_match(fact, answer_flat, answer_tokens, lexical_overlap):
                method = "lexical"
            elif not math.isnan(best) and best >= threshold:
                method = "semantic"
        matches.append(FactMatch(fact=fact, covered=method is not None, method=method, best_similarity=best,
                                 missing_numbers=missing))
    covered = sum(m.covered for m in matches)
    score = covered / len(facts) if facts else NAN
    return KeyFactCoverage(score=score, covered=covered, total=len(facts), matches=tuple(matches))


def _has_number(value: float, available: set[float]) -> bool:
    return any(math.isclose(value, v, rel_tol=1e-9) for v in available)


def _lexical_match(fact: str, answer_flat: str, answer_tokens: set[str], min_overlap: float) -> bool:
    fact_flat = normalise_whitespace(fact).lower()
    if fact_flat and fact_flat in answer_flat:
        return True
    if not extract_numbers(fact):
        return False
    fact_tokens = _tokens(fact)
    if not fact_tokens:
        return True  # nothing but numbers, and they are all present
    return len(fact_tokens & answer_tokens) / len(fact_tokens) >= min_overlap


# ---------------------------------------------------------------- abstention, latency, thresholds

@dataclass(frozen=True)
class AbstentionScores:
    precision: float  # correct abstentions / abstentions
    recall: float  # correct abstentions / questions that should be abstained on
    false_abstention_rate: float  # abstentions on answerable questions / answerable questions
    true_abstentions: int
    false_abstentions: int
    missed_abstentions: int
    n_should_abstain: int
    n_answerable: int


def abstention_scores(pairs: Iterable[tuple[bool, bool]]) -> AbstentionScores:
    """Score (should_abstain, did_abstain) pairs."""
    pairs = [(bool(s), bool(d)) for s, d in pairs]
    tp = sum(1 for s, d in pairs if s and d)
    fp = sum(1 for s, d in pairs if not s and d)
    fn = sum(1 for s, d in pairs if s and not d)
    n_should = tp + fn
    n_answerable = len(pairs) - n_should
    return AbstentionScores(
        precision=tp / (tp + fp) if tp + fp else NAN,
        recall=tp / n_should if n_should else NAN,
        false_abstention_rate=fp / n_answerable if n_answerable else NAN,
        true_abstentions=tp, false_abstentions=fp, missed_abstentions=fn,
        n_should_abstain=n_should, n_answerable=n_answerable)


@dataclass(frozen=True)
class LatencyPercentiles:
    p50: float
    p95: float
    n: int
    max: float


def latency_percentiles(ms_list: Sequence[float]) -> LatencyPercentiles:
    """Median and 95th percentile (linear interpolation between closest ranks); NaN when empty."""
    values = sorted(float(v) for v in ms_list)
    if not values:
        return LatencyPercentiles(p50=NAN, p95=NAN, n=0, max=NAN)
    return LatencyPercentiles(p50=percentile(values, 50), p95=percentile(values, 95), n=len(values),
                              max=values[-1])


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile; NaN for no values (shared with the benchmarks)."""
    sorted_values = sorted(values)
    if not sorted_values:
        return NAN
    position = (len(sorted_values) - 1) * p / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass(frozen=True)
class Threshold:
    threshold: float  # predict positive when score >= threshold
    tpr: float
    fpr: float
    n_positive: int
    n_negative: int


def calibrate_threshold(positive_scores: Sequence[float], negative_scores: Sequence[float], *,
                        max_fpr: float | None = None) -> Threshold:
    """The cut-off that best separates positives from negatives.

    Maximises TPR - FPR (Youden's J); with ``max_fpr`` it maximises TPR among cut-offs whose FPR does not
    exceed it. Ties go to the higher (stricter) cut-off. NaN when either list is empty.
    """
    pos, neg = [float(s) for s in positive_scores], [float(s) for s in negative_scores]
    if not pos or not neg:
        return Threshold(threshold=NAN, tpr=NAN, fpr=NAN, n_positive=len(pos), n_negative=len(neg))
    best: tuple[tuple[float, float], Threshold] | None = None
    for cut in sorted(set(pos) | set(neg) | {math.inf}, reverse=True):
        tpr = sum(s >= cut for s in pos) / len(pos)
        fpr = sum(s >= cut for s in neg) / len(neg)
        if max_fpr is not None and fpr > max_fpr:
            continue
        key = (tpr - fpr, 0.0) if max_fpr is None else (tpr, -fpr)
        if best is None or key > best[0]:
            best = (key, Threshold(threshold=cut, tpr=tpr, fpr=fpr, n_positive=len(pos), n_negative=len(neg)))
    assert best is not None  # math.inf always yields fpr 0
    return best[1]


# ---------------------------------------------------------------- the lead: does the first line answer?

_YES = re.compile(r"^\s*(?:yes|usually yes|generally yes|需要|要|可以|能|是|包括|实践中通常需要)(?![不没])", re.IGNORECASE)
_NO = re.compile(r"^\s*(?:no\b|usually no|generally no|probably not|not\b|不|没有|无需|一般不|通常不)", re.IGNORECASE)
_DEPENDS = re.compile(r"^\s*(?:it depends|depends|unclear|视情况|不一定|取决于)", re.IGNORECASE)


def polarity(text: str | None) -> str:
    """'yes' | 'no' | 'depends' | '' (none stated) of a verdict's first words."""
    if not text:
        return ""
    if _DEPENDS.match(text):
        return "depends"
    if _NO.match(text):
        return "no"
    return "yes" if _YES.match(text) else ""


@dataclass(frozen=True)
class LeadScore:
    score: float  # 1.0 the lead answers the question, 0.0 it answers another one, NaN no lead to judge
    reason: str


GOLD_ONLY = "rests on a gold source"
LED_KINDS = ("note", "faq", "section", "article")  # the ``Answer.lead_from`` of an answer that has a lead


def strict_lead(lead: LeadScore, fact_match: bool) -> float:
    """``lead`` without its most lenient rule: a lead that is right only because it rests on a gold document must
    also state a key fact of the reference. On the test split (2026-12-07) the lenient rule made 33 of 66 leads right;
    read one by one, 6 of them answer something else and 3 in part, and this rule calls 11 of the 33 wrong (the 6,
    2 of the 3, and 3 that do answer)."""
    if math.isnan(lead.score) or lead.score == 0.0:
        return lead.score
    return 1.0 if lead.reason != GOLD_ONLY or fact_match else 0.0


QUOTE = re.compile(r"[“\"]([^”\"]+)[”\"]")


def stated_polarity(lead_text: str) -> str:
    """The polarity a lead states: a verdict's first word, or the first word of the quote it leads with
    ("不能直接备案，……" says no; a quote that opens otherwise states none)."""
    lead_text = ASK_LABEL.sub("", lead_text)  # 'On “Is there a deadline?”:' names the ask the line answers
    quote = QUOTE.search(lead_text)
    return polarity(quote.group(1).lstrip("*#- ") if quote else lead_text)


def lead_correct(gold_verdict: str | None, should_abstain: bool, lead_from: str, lead_text: str,
                 lead_sources: Sequence[Any], gold: Sequence[Any], *, fact_match: bool = False) -> LeadScore:
    """Whether the answer's first line answers the question.

    A lead on an item whose gold says there is no answer (out of scope) is wrong. With a gold yes/no/depends
    verdict the polarity the lead states must agree; with a figure the lead must contain one of its numbers;
    otherwise the lead must rest on a gold document or state a key fact of the reference (``fact_match``: the
    same answer from another provider's page is still the answer).
    """
    led = lead_from in LED_KINDS
    if should_abstain:
        return LeadScore(0.0, "lead on an out-of-scope question") if led else LeadScore(NAN, "no lead")
    if not led:
        return LeadScore(NAN, "no lead")
    on_gold = any(source_matches(as_ref(s), as_ref(g), "doc") for s in lead_sources for g in gold)
    expected, stated = polarity(gold_verdict), stated_polarity(lead_text)
    if expected and stated:
        return LeadScore(1.0, "polarity agrees") if stated == expected else LeadScore(0.0, f"says {stated}, gold {expected}")
    numbers = extract_numbers(gold_verdict or "")
    if numbers and not expected:
        found = extract_numbers(strip_markers(lead_text))  # "[1][2]" are citation markers, not figures
        return LeadScore(1.0, "figure given") if numbers & found else LeadScore(0.0, "figure missing")
    if on_gold:
        return LeadScore(1.0, GOLD_ONLY)
    if fact_match:
        return LeadScore(1.0, "states a key fact")
    return LeadScore(0.0, "rests on no gold source") if gold else LeadScore(NAN, "no gold source")
