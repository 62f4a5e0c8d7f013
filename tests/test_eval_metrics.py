"""Metric functions: scores, raw counts and NaN when undefined."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assistant.evaluation.dataset import ContextRef
from assistant.evaluation.metrics import (
    abstention_scores,
    calibrate_threshold,
    citation_markers,
    citation_precision_recall,
    citation_validity,
    extract_numbers,
    hit_at_k,
    key_fact_coverage,
    latency_percentiles,
    reciprocal_rank,
)
from assistant.models import Answer, Chunk, Citation, Document, Hit, Kind, Status
from assistant.text import chinese_number

FILING = "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md"
ORDER_292 = "regulations/internet-information-services-measures-2024.zh.md"
NOTE_42 = "notes/instrument-miit-order-42.yml"

FILING_TEXT = (
    "第十二条 省通信管理局在收到备案人提交的备案材料后，材料齐全的，应在二十个工作日内予以备案，\n"
    "向其发放备案电子验证标识和备案编号。\n\n"
    "第十三条 非经营性互联网信息服务提供者应当在其网站开通时在主页底部的中央位置标明其备案编号。"
)


def hit(doc_id: str, article_no: int | None, score: float = 1.0) -> Hit:
    chunk = Chunk(chunk_id=f"{doc_id}#{article_no}", doc_id=doc_id, position=0, text="...", title_path="",
                  article_no=article_no)
    document = Document(doc_id=doc_id, root="corpus", title="t", title_en="t", kind=Kind.DEPARTMENT_RULE,
                        language="zh", body="")
    return Hit(chunk=chunk, document=document, score=score)


def citation(n: int, doc_id: str, quote: str, article_no: int | None = 12) -> Citation:
    return Citation(n=n, doc_id=doc_id, article_no=article_no, title="t", title_en="t", quote=quote,
                    kind=Kind.DEPARTMENT_RULE, status=Status.IN_FORCE, date_effective=date(2005, 3, 20))


# ---------------------------------------------------------------- hit@k and reciprocal rank

def test_hit_at_k_document_level_ignores_article() -> None:
    retrieved = [hit(ORDER_292, 4), hit(FILING, 13)]
    result = hit_at_k(retrieved, [ContextRef(FILING, 12)], k=2, level="doc")
    assert result.score == 1.0 and result.rank == 2 and result.n_gold == 1


def test_hit_at_k_article_level_needs_the_article() -> None:
    retrieved = [hit(ORDER_292, 4), hit(FILING, 13)]
    assert hit_at_k(retrieved, [ContextRef(FILING, 12)], k=2, level="article").score == 0.0
    assert hit_at_k(retrieved + [hit(FILING, 12)], [(FILING, 12)], k=3, level="article").rank == 3


def test_hit_at_k_respects_cut_off() -> None:
    retrieved = [hit(ORDER_292, 4), hit(ORDER_292, 5), hit(FILING, 12)]
    result = hit_at_k(retrieved, [(FILING, 12)], k=2)
    assert result.score == 0.0 and result.rank is None and result.n_retrieved == 2


def test_gold_without_article_matches_any_chunk_of_the_doc() -> None:
    result = hit_at_k([hit(NOTE_42, None), hit(FILING, 3)], [ContextRef(FILING, None)], k=5, level="article")
    assert result.score == 1.0 and result.rank == 2


def test_hit_at_k_accepts_plain_pairs_and_is_nan_without_gold() -> None:
    assert hit_at_k([(FILING, 12)], [(FILING, 12)], k=1, level="article").score == 1.0
    assert math.isnan(hit_at_k([(FILING, 12)], [], k=1).score)
    with pytest.raises(ValueError):
        hit_at_k([], [(FILING, 12)], k=0)
    with pytest.raises(ValueError):
        hit_at_k([(FILING, 12)], [(FILING, 12)], k=1, level="chapter")  # type: ignore[arg-type]


def test_reciprocal_rank() -> None:
    retrieved = [hit(ORDER_292, 4), hit(ORDER_292, 5), hit(FILING, 12)]
    assert reciprocal_rank(retrieved, [(FILING, 12)], level="article").score == pytest.approx(1 / 3)
    assert reciprocal_rank(retrieved, [(FILING, 12)], level="article", k=2).score == 0.0
    assert reciprocal_rank(retrieved, [(ORDER_292, 9)], level="doc").score == 1.0
    assert reciprocal_rank(retrieved, [(ORDER_292, 9)], level="article").score == 0.0
    assert math.isnan(reciprocal_rank(retrieved, []).score)


# ---------------------------------------------------------------- citation precision / recall

def test_citation_precision_recall_article_level() -> None:
    cited = [(FILING, 12), (FILING, 22), (ORDER_292, 4)]
    gold = [ContextRef(FILING, 12), ContextRef(ORDER_292, 4), ContextRef(NOTE_42, None)]
    result = citation_precision_recall(cited, gold, level="article")
    assert (result.n_cited, result.n_correct, result.n_gold, result.n_gold_found) == (3, 2, 3, 2)
    assert result.precision == pytest.approx(2 / 3) and result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)


def test_citation_precision_recall_document_level_counts_distinct_documents() -> None:
    cited = [(FILING, 12), (FILING, 22), (ORDER_292, 4)]
    result = citation_precision_recall(cited, [(FILING, 5)], level="doc")
    assert result.n_cited == 2 and result.precision == 0.5 and result.recall == 1.0


def test_null_gold_article_matches_any_cited_article() -> None:
    result = citation_precision_recall([(NOTE_42, None), (FILING, 5)], [(NOTE_42, None), (FILING, None)],
                                       level="article")
    assert result.precision == 1.0 and result.recall == 1.0


def test_citation_precision_recall_nan_cases() -> None:
    nothing_cited = citation_precision_recall([], [(FILING, 12)], level="article")
    assert math.isnan(nothing_cited.precision) and nothing_cited.recall == 0.0 and math.isnan(nothing_cited.f1)
    no_gold = citation_precision_recall([(FILING, 12)], [], level="article")
    assert no_gold.precision == 0.0 and math.isnan(no_gold.recall)
    wrong = citation_precision_recall([(ORDER_292, 1)], [(FILING, 12)], level="doc")
    assert wrong.f1 == 0.0


def test_citation_objects_are_read_as_sources() -> None:
    result = citation_precision_recall([citation(1, FILING, "x", article_no=12)], [(FILING, 12)], level="article")
    assert result.precision == 1.0


# ---------------------------------------------------------------- citation validity

def test_valid_citations_pass_after_whitespace_normalisation() -> None:
    quote = "材料齐全的，应在二十个工作日内予以备案， 向其发放备案电子验证标识"  # spans a line break
    markdown = "**20 working days.** The administration must file within 20 working days [1][2]."
    result = citation_validity(markdown, [citation(1, FILING, quote), citation(2, FILING, "主页底部的中央位置", 13)],
                               {FILING: FILING_TEXT})
    assert result.valid and result.score == 1.0
    assert result.n_markers == 2 and result.unresolved_markers == () and result.bad_quotes == ()


def test_fabricated_quote_fails_validity() -> None:
    result = citation_validity("Filing takes 10 days [1].", [citation(1, FILING, "应在十个工作日内予以备案")],
                               {FILING: FILING_TEXT})
    assert not result.valid and result.score == 0.0 and result.bad_quotes == (1,)


def test_unresolved_marker_fails_validity() -> None:
    markdown = "Filing takes 20 working days [1], see also [3]."
    result = citation_validity(markdown, [citation(1, FILING, "二十个工作日")], lambda doc_id: FILING_TEXT)
    assert not result.valid and result.unresolved_markers == (3,)


def test_missing_document_empty_quote_and_duplicates_fail_validity() -> None:
    missing = citation_validity("x [1]", [citation(1, "regulations/gone.zh.md", "二十个工作日")], {})
    assert not missing.valid and missing.missing_docs == (1,)
    empty = citation_validity("x [1]", [citation(1, FILING, "  ")], {FILING: FILING_TEXT})
    assert empty.bad_quotes == (1,)
    duplicate = citation_validity("x [1]", [citation(1, FILING, "二十个工作日"), citation(1, FILING, "备案编号")],
                                  {FILING: FILING_TEXT})
    assert not duplicate.valid and duplicate.duplicate_numbers == (1,)


def test_unused_citation_is_reported_but_valid_and_nothing_cited_is_nan() -> None:
    result = citation_validity("No markers here.", [citation(1, FILING, "二十个工作日")], {FILING: FILING_TEXT})
    assert result.valid and result.unused_citations == (1,)
    assert math.isnan(citation_validity("I cannot answer that.", [], {}).score)


def test_citation_markers_reads_grouped_markers_not_links() -> None:
    assert citation_markers("a [1] b [2, 3] c [see](http://x) d [^4]") == [1, 2, 3]


# ---------------------------------------------------------------- key facts

def fixed_similarity(value: float):
    def similarity(facts: list[str], sentences: list[str]) -> list[list[float]]:
        return [[value for _ in sentences] for _ in facts]
    return similarity


def test_key_fact_lexical_exact_and_number_matches() -> None:
    facts = ["20 working days", "RMB 1 million within one province", "valid for 5 years"]
    sentences = ["The administration decides within 20 working days.",
                 "Registered capital must be at least RMB 1 million for one province.",
                 "The licence is valid for five years."]
    result = key_fact_coverage(facts, sentences, similarity=None, threshold=0.8)
    assert result.covered == 3 and result.score == 1.0
    assert all(m.method == "lexical" for m in result.matches)


def test_key_fact_numbers_must_appear_even_when_similar() -> None:
    facts = ["The licence is valid for 5 years", "Renew 90 days before expiry"]
    sentences = ["The licence is valid for 3 years.", "Renew 90 days before it expires."]
    result = key_fact_coverage(facts, sentences, similarity=fixed_similarity(0.99), threshold=0.8)
    assert [m.covered for m in result.matches] == [False, True]
    assert result.matches[0].missing_numbers == (5.0,)
    assert result.score == 0.5 and result.covered == 1 and result.total == 2


def test_key_fact_numbers_match_across_notations() -> None:
    result = key_fact_coverage(["跨省经营最低1000万元", "二十个工作日内备案"],
                               ["注册资本最低限额为RMB 10 million。", "应在20个工作日内予以备案。"],
                               similarity=fixed_similarity(0.9), threshold=0.8)
    assert result.score == 1.0


def test_key_fact_semantic_match_uses_injected_similarity() -> None:
    facts = ["Individuals can file"]
    sentences = ["A private person may also complete the recordal."]
    assert key_fact_coverage(facts, sentences, fixed_similarity(0.85), threshold=0.8).matches[0].method == "semantic"
    below = key_fact_coverage(facts, sentences, fixed_similarity(0.5), threshold=0.8)
    assert below.score == 0.0 and below.matches[0].best_similarity == 0.5


def test_key_fact_coverage_nan_without_facts_and_zero_without_answer() -> None:
    assert math.isnan(key_fact_coverage([], ["anything"], fixed_similarity(1.0), 0.5).score)
    empty_answer = key_fact_coverage(["Yes, filing is required"], [], fixed_similarity(1.0), 0.5)
    assert empty_answer.score == 0.0 and math.isnan(empty_answer.matches[0].best_similarity)


def test_number_extraction() -> None:
    assert extract_numbers("RMB 1 million / 10 million") == {1e6, 1e7}
    assert extract_numbers("注册资本100万元，跨省1000万元") == {1e6, 1e7}
    assert extract_numbers("处五千元以上一万元以下罚款") == {5000.0, 10000.0}
    assert extract_numbers("RMB 5,000 to 50,000") == {5000.0, 50000.0}
    assert extract_numbers("一般只需备案，统一管理") == set()
    assert extract_numbers("five years", english_words=True) == {5.0}


@pytest.mark.parametrize("text, value", [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十九", 29),
                                         ("一百零五", 105), ("八十一", 81), ("一千万", 10_000_000)])
def test_chinese_number(text: str, value: int) -> None:
    assert chinese_number(text) == value


# ---------------------------------------------------------------- abstention, latency, threshold

def test_abstention_scores() -> None:
    pairs = [(True, True), (True, False), (False, True), (False, False), (False, False), (True, True)]
    result = abstention_scores(pairs)
    assert (result.true_abstentions, result.false_abstentions, result.missed_abstentions) == (2, 1, 1)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.false_abstention_rate == pytest.approx(1 / 3)


def test_abstention_scores_nan_when_undefined() -> None:
    never = abstention_scores([(False, False), (False, False)])
    assert math.isnan(never.precision) and math.isnan(never.recall) and never.false_abstention_rate == 0.0
    all_oos = abstention_scores([(True, True)])
    assert all_oos.recall == 1.0 and math.isnan(all_oos.false_abstention_rate)


def test_latency_percentiles() -> None:
    result = latency_percentiles([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    assert result.p50 == pytest.approx(550.0)
    assert result.p95 == pytest.approx(955.0)
    assert result.n == 10 and result.max == 1000.0
    assert latency_percentiles([42]).p95 == 42.0
    empty = latency_percentiles([])
    assert math.isnan(empty.p50) and math.isnan(empty.p95) and empty.n == 0


def test_calibrate_threshold_separable() -> None:
    result = calibrate_threshold([0.9, 0.8, 0.85], [0.2, 0.3, 0.5])
    assert result.threshold == 0.8 and result.tpr == 1.0 and result.fpr == 0.0
    assert (result.n_positive, result.n_negative) == (3, 3)


def test_calibrate_threshold_overlapping_and_max_fpr() -> None:
    positives, negatives = [0.9, 0.7, 0.6, 0.4], [0.65, 0.3, 0.2, 0.1]
    best = calibrate_threshold(positives, negatives)
    assert best.threshold == 0.4 and best.tpr == 1.0 and best.fpr == 0.25
    strict = calibrate_threshold(positives, negatives, max_fpr=0.0)
    assert strict.threshold == 0.7 and strict.tpr == 0.5 and strict.fpr == 0.0


def test_calibrate_threshold_nan_without_both_classes() -> None:
    assert math.isnan(calibrate_threshold([], [0.1]).threshold)
    assert math.isnan(calibrate_threshold([0.9], []).tpr)


# ---------------------------------------------------------------- the lead metric

from assistant.evaluation.metrics import lead_correct, stated_polarity, strict_lead  # noqa: E402

GOLD = [("regulations/a.zh.md", 5)]


@pytest.mark.parametrize(("lead", "polarity"), [
    ("Yes — a personal site must be filed. [1]", "yes"),
    ("No — it cannot be filed. [1]", "no"),
    ("华为云备案文档《X》：“不能直接备案，需要转入。” [1]", "no"),
    ("Huawei Cloud ICP guide 《X》: “ICP备案成功后，还需履行公安联网备案义务。” [1]", ""),
    ("It depends on the province — …", "depends"),
    # a line that answers one ask of several is read after the ask's label (assistant/asks.py)
    ("On “Do we have to update our ICP beian?”: Yes — file the change. [1]", "yes"),
    ("关于“能不能直接改成公司主体？”： 腾讯云备案文档《X》：“不支持，需先注销。” [1]", "no"),
])
def test_stated_polarity_reads_the_verdict_or_the_start_of_the_quote(lead: str, polarity: str) -> None:
    assert stated_polarity(lead) == polarity


def test_a_lead_on_an_out_of_scope_question_is_wrong_and_no_lead_is_not_judged() -> None:
    assert lead_correct(None, True, "faq", "x", [], []).score == 0.0
    assert math.isnan(lead_correct(None, True, "", "", [], []).score)
    assert math.isnan(lead_correct("Yes", False, "none", "The corpus has no direct answer", [], GOLD).score)


def test_polarity_decides_when_both_state_one() -> None:
    assert lead_correct("Yes", False, "note", "Yes — …", [], GOLD).score == 1.0
    assert lead_correct("No", False, "note", "Yes — …", [], GOLD).score == 0.0


def test_a_figure_must_be_the_gold_figure() -> None:
    assert lead_correct("30 days", False, "note", "Within 30 days of opening. [1]", [], GOLD).score == 1.0
    assert lead_correct("30 days", False, "note", "Within 60 days. [1]", [], GOLD).score == 0.0
    # citation markers are not figures: "[1][2][3]" does not state "3 working days"
    assert lead_correct("3 working days", False, "note", "It takes a while. [1][2][3]", [], GOLD).score == 0.0


def test_otherwise_the_lead_must_rest_on_gold_or_state_a_key_fact() -> None:
    on_gold = [("regulations/a.zh.md", 5)]
    elsewhere = [("guides/b.md", None)]
    assert lead_correct("File through your host", False, "faq", "…", on_gold, GOLD).score == 1.0
    assert lead_correct("File through your host", False, "faq", "…", elsewhere, GOLD).score == 0.0
    assert lead_correct("File through your host", False, "faq", "…", elsewhere, GOLD, fact_match=True).score == 1.0


def test_the_strict_lead_asks_a_lead_resting_on_gold_to_state_a_key_fact_too() -> None:
    on_gold = [("regulations/a.zh.md", 5)]
    # an article of the gold text about something else: right by the lenient rule, wrong by the strict one
    lenient = lead_correct("File through your host", False, "article", "…", on_gold, GOLD)
    assert lenient.score == 1.0 and strict_lead(lenient, fact_match=False) == 0.0
    assert strict_lead(lenient, fact_match=True) == 1.0
    # the other rules are strict already; no lead and a wrong lead stay what they are
    assert strict_lead(lead_correct("Yes", False, "note", "Yes — …", [], GOLD), fact_match=False) == 1.0
    assert strict_lead(lead_correct("No", False, "note", "Yes — …", [], GOLD), fact_match=True) == 0.0
    assert math.isnan(strict_lead(lead_correct(None, True, "", "", [], []), fact_match=False))


def test_the_judge_fit_recovers_a_known_logistic_model() -> None:
    from assistant.evaluation.calibrate import fit_logistic

    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(4000), rng.normal(size=(4000, 2))])
    truth = np.array([-0.5, 2.0, -1.0])
    y = (rng.random(4000) < 1 / (1 + np.exp(-x @ truth))).astype(float)
    fitted = fit_logistic(x, y, l2=0.0)
    assert np.allclose(fitted, truth, atol=0.15), fitted
    shrunk = fit_logistic(x, y, l2=1000.0)  # the penalty pulls weights (not the bias) towards zero
    assert np.all(np.abs(shrunk[1:]) < np.abs(fitted[1:]))


def test_coverage_weights_are_never_negative_in_the_judge_fit() -> None:
    from assistant.evaluation.calibrate import NON_NEGATIVE, fit_constrained
    from assistant.lead import FEATURES

    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, len(FEATURES)))
    x[:, 0] = 1.0
    truth = np.zeros(len(FEATURES))
    truth[FEATURES.index("s_cov")] = -1.5  # collinear noise can push a coverage weight below zero
    truth[FEATURES.index("q_cos")] = 2.0
    y = (rng.random(3000) < 1 / (1 + np.exp(-x @ truth))).astype(float)
    w = fit_constrained(x, y)
    assert all(w[FEATURES.index(name)] >= 0 for name in NON_NEGATIVE)
    assert w[FEATURES.index("s_cov")] == 0.0 and w[FEATURES.index("q_cos")] > 1.0


def test_the_saved_judge_keeps_its_floor_for_an_index_without_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.evaluation import calibrate
    from assistant.evaluation.calibrate import Outcome, save
    from assistant.lead import JudgeConfig, load_judges

    path = tmp_path / "judge.json"
    monkeypatch.setattr(calibrate, "JUDGE_FILE", path)
    outcome = Outcome(utility=1.0, correct=1, wrong=0, unanswered=0, oos_abstained=0, oos_led=0)
    save("fake", JudgeConfig(weights={"bias": 0.1}, lead=0.45, lead_without_notes=0.35), outcome, 1, outcome)
    judge = load_judges(path)["fake"]
    assert (judge.floor(notes=True), judge.floor(notes=False)) == (0.45, 0.35)
    save("fake", JudgeConfig(weights={"bias": 0.1}, lead=0.45), outcome, 1)  # none chosen: the same floor
    assert load_judges(path)["fake"].floor(notes=False) == 0.45


def test_for_a_message_of_several_asks_the_lead_metric_reads_the_line_of_each_ask() -> None:
    from assistant.evaluation.scoring import lead_lines
    from assistant.models import Answer

    answer = Answer(question="q", language="zh", verdict="关于“公安备案是必须的吗？”： 需要——…… [1]", citations=(), abstained=False,
                    points=("关于“有没有时间限制？”： 《X》第12条：“应当自网络正式联通之日起30日内……” [1]", "公安部令第33号……"))
    text = lead_lines(answer)
    assert "30日内" in text and "公安部令第33号" not in text
    assert lead_correct("必须，网络正式联通之日起30日内", False, "note", text, [], GOLD).score == 1.0
    single = Answer(question="q", language="en", verdict=None, citations=(), abstained=False, points=("Tencent: “…”",))
    assert lead_lines(single) == "Tencent: “…”"


def test_the_floor_without_notes_is_never_above_the_floor_with_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.evaluation import calibrate
    from assistant.evaluation.calibrate import Outcome, floor_without_notes
    from assistant.lead import JudgeConfig

    def utility(floor: float) -> Outcome:  # best at 0.6, then at 0.35 among the floors allowed
        value = {0.6: 9.0, 0.35: 5.0}.get(floor, 1.0)
        return Outcome(utility=value, correct=0, wrong=0, unanswered=0, oos_abstained=0, oos_led=0)

    monkeypatch.setattr(calibrate, "retrievals", lambda assistant, items: [])
    monkeypatch.setattr(calibrate, "evaluate", lambda assistant, cached, judge, ctx, judgments: utility(judge.lead_without_notes))
    floor, found = floor_without_notes(None, [], JudgeConfig(lead=0.45), None)  # type: ignore[arg-type]
    assert (floor, found.utility) == (0.35, 5.0)
    assert floor_without_notes(None, [], JudgeConfig(lead=0.6), None)[0] == 0.6  # type: ignore[arg-type]


def _judged_answer(lead_unit: str, lead_from: str = "section") -> Answer:
    return Answer(question="q", language="en", verdict="Huawei: “…” [1]" if lead_unit else None, citations=(),
                  abstained=not lead_unit, points=(), lead_from=lead_from, lead_unit=lead_unit)


def test_an_experts_reading_of_the_lead_is_keyed_on_the_item_and_the_unit_that_leads() -> None:
    from assistant.evaluation.dataset import EvalItem, ItemTags
    from assistant.evaluation.scoring import read_lead

    tags = ItemTags(topic="t", difficulty="easy", language="en", split="test")
    item = EvalItem(id="x-1", user_input="q", reference="r", verdict="Yes", key_facts=(), reference_context_ids=(),
                    tags=tags)
    out_of_scope = EvalItem(id="x-2", user_input="q", reference="r", verdict=None, key_facts=(),
                            reference_context_ids=(), tags=tags)
    read = {("x-1", "a#1"): "answers", ("x-1", "b#2"): "partly", ("x-1", "c#3"): "no", ("x-2", "a#1"): "answers"}
    assert [read_lead(item, _judged_answer(unit), read) for unit in ("a#1", "b#2", "c#3")] == [1.0, 0.5, 0.0]
    assert math.isnan(read_lead(item, _judged_answer("d#4"), read))  # nobody has read this lead yet
    assert math.isnan(read_lead(item, _judged_answer("", "none"), read))  # no lead, nothing to read
    assert read_lead(out_of_scope, _judged_answer("a#1"), read) == 0.0  # a lead on an out-of-scope question never answers


def test_the_calibration_outcome_follows_the_experts_reading_and_tells_a_decline_from_no_direct_answer() -> None:
    from assistant.evaluation.calibrate import DECLINED, UNANSWERED, UTILITY, item_outcome
    from assistant.evaluation.dataset import EvalItem, ItemTags

    item = EvalItem(id="x-1", user_input="q", reference="r", verdict="Yes", key_facts=("k",), reference_context_ids=(),
                    tags=ItemTags(topic="t", difficulty="easy", language="en", split="dev"))
    ctx = None  # with a reading, the eval's proxy (which needs the scoring context) is never consulted
    assert [item_outcome(item, _judged_answer("a#1"), ctx, read) for read in ("answers", "partly", "no")] == \
        ["correct", "partly", "wrong"]  # type: ignore[arg-type]
    assert item_outcome(item, _judged_answer("", "none"), ctx) == "unanswered"  # type: ignore[arg-type]
    assert item_outcome(item, _judged_answer("", ""), ctx) == "declined"  # type: ignore[arg-type]
    assert UTILITY["declined"] == DECLINED < UTILITY["unanswered"] == UNANSWERED < UTILITY["partly"] < UTILITY["correct"]
