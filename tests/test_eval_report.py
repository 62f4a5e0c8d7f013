"""The report's per-item diff, the gate's checks and the result records: pure, no model, no index."""

from __future__ import annotations

import math
from dataclasses import replace

from assistant.evaluation.baselines import leading_article
from assistant.evaluation.dataset import EvalItem, ItemTags, read_judgments
from assistant.evaluation.gate import check_thresholds, responsible_items, tightened
from assistant.evaluation.report import diff_items, item_problems, render_report
from assistant.evaluation.runner import reading_sheet, write_reading_sheet
from assistant.evaluation.scoring import ITEM_METRICS, ItemResult, split_sentences, summarize

ORDER_292 = "regulations/internet-information-services-measures-2024.zh.md"
FILING = "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md"


def result(item_id: str = "faq-001", *, should_abstain: bool = False, abstained: bool = False,
           cited: tuple[tuple[str, int | None], ...] = ((ORDER_292, 4),), missing: tuple[str, ...] = (),
           error: str | None = None, **metrics: float) -> ItemResult:
    values = {name: math.nan for name in ITEM_METRICS}
    if not should_abstain:
        values.update({name: 1.0 for name in ITEM_METRICS})
        values["key_fact_coverage"] = 1.0 - 0.25 * len(missing)
    values.update({k.replace("_at_", "@"): v for k, v in metrics.items()})
    return ItemResult(id=item_id, config="full", split="test", language="en", topic="filing-scope",
                      should_abstain=should_abstain, question="q", abstained=abstained,
                      citations=[{"n": i + 1, "doc_id": d, "article_no": a, "quote": "…"}
                                 for i, (d, a) in enumerate(cited)],
                      gold=[] if should_abstain else [(ORDER_292, 4)], metrics=values, missing_facts=list(missing),
                      latency_ms=100.0, error=error)


# ---------------------------------------------------------------- what is wrong with one item

def test_a_correct_item_has_no_problems() -> None:
    assert item_problems(result()) == []


def test_item_problems_name_each_kind() -> None:
    missed = ["missed abstention: answered an out-of-scope question"]
    assert item_problems(result(should_abstain=True, cited=())) == missed
    assert item_problems(result(should_abstain=True, abstained=True, cited=())) == []
    assert item_problems(result(abstained=True, cited=()))[0].startswith("false abstention")
    wrong = item_problems(result(cited=((ORDER_292, 4), (FILING, 5))))
    assert wrong == [f"extra citation: cited {FILING} Art. 5"]
    assert item_problems(result(missing=("Individuals can file",))) == ["missing fact: Individuals can file"]
    assert item_problems(result(error="IndexMissingError: no index")) == ["error: IndexMissingError: no index"]
    invalid = result(citation_valid=0.0)
    invalid.citation_problems = {"bad_quotes": [1]}
    assert item_problems(invalid) == ["invalid citation: bad_quotes [1]"]


def test_retrieval_miss_and_no_gold_article_cited() -> None:
    problems = item_problems(result(cited=((FILING, 5),), doc_hit_at_5=0.0, citation_recall_article=0.0))
    assert problems == ["retrieval miss: no gold document in the top 5", f"wrong article: cited {FILING} Art. 5"]


# ---------------------------------------------------------------- diff against the baseline

def test_diff_marks_resolved_problems_as_improved_and_new_ones_as_regressed() -> None:
    baseline = [result("a", missing=("fact one",)), result("b"), result("c", should_abstain=True, cited=()),
                result("d")]
    current = [result("a"), result("b", cited=((FILING, 5),), citation_recall_article=0.0),
               result("c", should_abstain=True, abstained=True, cited=()), result("d"), result("e")]
    diffs = {d.id: d for d in diff_items(baseline, current)}
    assert diffs["a"].status == "improved" and diffs["a"].resolved == ("missing fact: fact one",)
    assert diffs["b"].status == "regressed" and diffs["b"].gained == (f"wrong article: cited {FILING} Art. 5",)
    assert diffs["c"].status == "improved" and diffs["c"].resolved[0].startswith("missed abstention")
    assert diffs["d"].status == "unchanged" and diffs["e"].status == "new"


def test_a_new_problem_outweighs_a_fixed_one() -> None:
    diff = diff_items([result("a", missing=("x",))], [result("a", abstained=True, cited=())])[0]
    assert diff.status == "regressed"
    assert diff.gained[0].startswith("false abstention") and diff.resolved == ("missing fact: x",)


def test_same_problems_fall_back_to_the_item_score() -> None:
    down = diff_items([result("a")], [result("a", doc_mrr=0.5)])[0]
    up = diff_items([result("a", article_mrr=0.25)], [result("a")])[0]
    assert (down.status, up.status) == ("regressed", "improved")
    assert down.score_delta == -0.5


# ---------------------------------------------------------------- records, summary, gate

def test_results_round_trip_through_json_with_nan() -> None:
    original = result("a", should_abstain=True, cited=())
    data = original.to_dict()
    assert data["metrics"]["doc_hit@5"] is None
    again = ItemResult.from_dict(data)
    assert math.isnan(again.metrics["doc_hit@5"]) and again.citations == original.citations


def test_a_baseline_record_is_slim_and_diffs_like_the_whole_one() -> None:
    whole = [result("a", cited=((ORDER_292, 4), (FILING, 5)), citation_recall_article=0.5),
             result("b", missing=("Individuals can file",)), result("c", should_abstain=True, cited=())]
    for r in whole:
        r.answer, r.retrieved = "**Yes — …** [1]\n- more", [(ORDER_292, i, f"c{i}", 0.1) for i in range(9)]
    slim = [r.for_baseline() for r in whole]
    assert all(d.status == "unchanged" for d in diff_items(slim, whole))
    assert slim[0].answer == "**Yes — …** [1]" and slim[0].retrieved == []
    assert all("quote" not in c for r in slim for c in r.citations)
    assert diff_items(slim, [result("a", cited=((ORDER_292, 4),))])[0].status != "unchanged"  # still tells changes


def test_summary_counts_abstention_and_invalid_citations() -> None:
    results = [result("a"), result("b", abstained=True, cited=()), result("c", should_abstain=True, abstained=True),
               result("d", should_abstain=True, cited=()), result("e", citation_valid=0.0), result("f", error="boom")]
    summary = summarize(results)
    assert summary["abstention_recall"] == 0.5 and summary["abstention_precision"] == 0.5
    assert summary["false_abstention_rate"] == 1 / 3
    assert summary["invalid_citations"] == 1 and summary["errors"] == 1 and summary["items"] == 6


def test_summary_splits_out_the_questions_a_unit_answers() -> None:
    led = result("a", missing=("one",))
    led.lead_unit = "notes/x.yml#0:ab"
    unanswered = result("b", key_fact_coverage=0.0, citation_precision_article=0.0)
    out_of_scope_led = result("c", should_abstain=True)
    out_of_scope_led.lead_unit = "notes/y.yml#0:cd"
    summary = summarize([led, unanswered, out_of_scope_led])
    assert summary["key_fact_coverage"] == 0.375 and summary["key_fact_coverage_answered"] == 0.75
    assert summary["citation_precision_article"] == 0.5 and summary["citation_precision_article_answered"] == 1.0
    assert math.isnan(summarize([unanswered])["key_fact_coverage_answered"])  # no lead: nothing to average


def test_gate_names_failing_metrics_and_items() -> None:
    results = [result("a"), result("b", key_fact_coverage=0.5), result("c", should_abstain=True, cited=())]
    summary = summarize(results)
    limits = {"key_fact_coverage": {"min": 0.9}, "abstention_recall": {"min": 0.95}, "doc_hit@5": {"min": 0.9},
              "false_abstention_rate": {"max": 0.05}}
    failures = check_thresholds(summary, results, limits)
    assert len(failures) == 2
    assert failures[0].startswith("key_fact_coverage = 0.750") and failures[0].endswith("items: b")
    assert failures[1].startswith("abstention_recall = 0.000") and failures[1].endswith("items: c")
    assert responsible_items("false_abstention_rate", [result("x", abstained=True)]) == ["x"]


def test_a_nan_metric_fails_the_gate() -> None:
    assert check_thresholds({"doc_hit@5": math.nan}, [], {"doc_hit@5": {"min": 0.5}})


def test_thresholds_only_tighten() -> None:
    limits = {"doc_hit@5": {"min": 0.9}, "key_fact_coverage": {"min": 0.8}, "false_abstention_rate": {"max": 0.1},
              "errors": {"max": 1.0}}
    summary = {"doc_hit@5": 0.95, "key_fact_coverage": 0.7, "false_abstention_rate": 0.02, "errors": 0.0}
    assert tightened(limits, summary) == {"doc_hit@5": {"min": 0.93}, "key_fact_coverage": {"min": 0.8},
                                          "false_abstention_rate": {"max": 0.04}, "errors": {"max": 0.0}}


def test_report_lists_regressions_with_reasons() -> None:
    runs = {"full": [result("a", missing=("fact one",)), result("b")]}
    text = render_report("2026-11-28", "dev", runs, {"full": [result("a"), result("b")]}, seconds={"full": 3.0},
                         dataset="evals/datasets/faq.jsonl", chart_name="chart.png", limits=None)
    assert "| key_fact_coverage | 0.875 |" in text
    assert "| key_fact_coverage_answered | – |" in text  # (neither result has a lead)
    assert "| wrong_lead_rate_read | ≤ 0.05 |" in text and "Where a unit answers" in text
    assert "- **a** regressed: now: missing fact: fact one" in text
    assert "1 regressed, 1 unchanged" in text


# ---------------------------------------------------------------- leads nobody has read yet

def test_the_reading_sheet_holds_each_unread_lead_once_and_fills_into_judgments(tmp_path) -> None:
    def led(item_id: str, unit: str, read: float = math.nan, **kw) -> ItemResult:
        r = result(item_id, lead_read=read, **kw)
        r.lead_unit, r.answer = unit, f"**Lead of {item_id}** [1]\n\n- more"
        return r
    tags = ItemTags(topic="t", difficulty="easy", language="en", split="test")
    items = [EvalItem(id=i, user_input=f"question {i}?", reference=f"reference {i}", verdict=None, key_facts=(),
                      reference_context_ids=(), tags=tags) for i in ("a", "b", "c", "d")]
    runs = {"full": [led("a", "u#1"), led("b", "u#2", 1.0), led("c", "u#3", should_abstain=True), result("d")],
            "notes-off": [led("a", "u#1"), led("b", "u#4")]}
    sheet = reading_sheet(runs, items)
    assert [line for line, _ in sheet] == [
        {"item": "a", "unit": "u#1", "label": "", "why": "", "lead": "**Lead of a** [1]"},
        {"item": "b", "unit": "u#4", "label": "", "why": "", "lead": "**Lead of b** [1]"}]
    jsonl, md = write_reading_sheet(sheet, tmp_path / "2026-12-07__to-read")
    assert "- reference: reference a" in md.read_text(encoding="utf-8")
    labels, problems = read_judgments(jsonl)
    assert not labels and {p.line for p in problems} == {1, 2}  # unfilled lines are problems, not readings
    filled = jsonl.read_text(encoding="utf-8").replace('"label": ""', '"label": "no"').replace('"why": ""', '"why": "x"')
    jsonl.write_text(filled, encoding="utf-8")
    assert read_judgments(jsonl) == ({("a", "u#1"): "no", ("b", "u#4"): "no"}, [])


def test_a_scenario_answer_is_read_by_its_table_and_the_line_under_it() -> None:
    from assistant.evaluation.runner import lead_to_read
    from assistant.models import Answer
    from assistant.regime import DEFAULT_MODEL_PATH, find_regime, load_regime_model
    from assistant.render import answer_markdown

    question = "我们网站的服务器放在美国，但想接一个覆盖中国大陆的CDN给国内用户加速，这样需要备案吗？"
    regime = find_regime(question, None, load_regime_model(DEFAULT_MODEL_PATH), "zh")
    answer = Answer(question=question, language="zh", verdict=None, points=("CDN加速范围包括中国大陆的域名必须先备案。",),
                    citations=(), abstained=False, regime=regime)
    markdown = answer_markdown(answer)
    lead = lead_to_read(markdown)
    assert lead.startswith(markdown.split("\n", 1)[0])  # the table's title, then what the table says
    assert "ICP备案: 需要 (" in lead and "CDN" in lead.split("ICP备案: 需要", 1)[1]
    assert lead.endswith("- CDN加速范围包括中国大陆的域名必须先备案。")  # the answer under the table, not its facts
    assert lead_to_read("**Yes — a lead.** [1]\n\n- more") == "**Yes — a lead.** [1]"


def test_a_message_of_several_asks_is_read_by_the_line_of_each_ask() -> None:
    from assistant.asks import ask_label
    from assistant.compose import NO_DIRECT_ASK
    from assistant.evaluation.runner import lead_to_read
    from assistant.models import Answer
    from assistant.render import answer_markdown

    first, second = ask_label("公安备案是必须的吗？", "zh"), ask_label("有没有时间限制？", "zh")
    answer = Answer(question="公安备案是必须的吗？有没有时间限制？", language="zh", verdict=f"{first} 需要。",
                    points=(f"{second} “网站开通之日起30日内提交申请”", "其他说明。"), citations=(), abstained=False)
    lead = lead_to_read(answer_markdown(answer))
    assert lead.startswith(f"**{first} 需要。**") and lead.endswith(f"- {second} “网站开通之日起30日内提交申请”")
    assert "其他说明" not in lead  # a point that answers no ask is not read
    unanswered = replace(answer, points=(f"{second} {NO_DIRECT_ASK['zh']}",))
    assert NO_DIRECT_ASK["zh"] in lead_to_read(answer_markdown(unanswered))  # nor is an ask left unanswered hidden


# ---------------------------------------------------------------- small helpers

def test_split_sentences_keeps_abbreviations_and_splits_chinese() -> None:
    assert split_sentences("See Art. 4 of Order 292. It applies e.g. to blogs. [1]") == [
        "See Art. 4 of Order 292.", "It applies e.g. to blogs."]
    assert split_sentences("需要备案。个人也可以备案！") == ["需要备案。", "个人也可以备案！"]


def test_tutorial_reads_a_leading_article_number() -> None:
    assert leading_article("第十二条 省通信管理局……") == 12
    assert leading_article("**第5条** ……") == 5
    assert leading_article("## 第一章 总则\n\n第一条 ……") is None
