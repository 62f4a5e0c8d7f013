"""Rendering a regime result: chat Markdown, ticket text and JSON carry the same rows, reasons and sources."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from assistant.regime import (
    DEFAULT_MODEL_PATH,
    RegimeModel,
    RegimeResult,
    find_regime,
    load_regime_model,
    regime_json,
    regime_markdown,
    regime_text,
)

QUESTION = "We sell our own tea on our website, hosted in Hangzhou. We're a WFOE."


@pytest.fixture(scope="module")
def model() -> RegimeModel:
    return load_regime_model(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="module")
def result(model: RegimeModel) -> RegimeResult:
    return find_regime(QUESTION, None, model)


def test_markdown_has_one_row_per_obligation_with_status_reason_and_sources(result: RegimeResult) -> None:
    md = regime_markdown(result)
    rows = [line for line in md.splitlines() if line.startswith("| ") and "**" in line]
    assert len(rows) == len(result.outcomes)
    for row, outcome in zip(rows, result.outcomes, strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[0] == outcome.label_en and cells[2].startswith(outcome.reason_en)
        assert cells[3] and cells[3].count(";") == len(outcome.cites) - 1


def test_markdown_shows_the_dispute_facts_what_ifs_and_the_question(result: RegimeResult) -> None:
    md = regime_markdown(result)
    assert "**Disputed — Selling your own goods online: licence or filing only?**" in md
    assert "- official-guidance (Not needed):" in md and "- common-practice (Needed):" in md
    assert "- Operator: a foreign-invested company in the mainland (WFOE or joint venture) — stated: “WFOE”" in md
    assert "— assumed (no effect here)" in md and "**If an assumption is wrong**" in md
    assert "**To be sure, tell me:**" in md


def test_plain_text_for_tickets_has_the_question_facts_and_every_row(result: RegimeResult) -> None:
    text = regime_text(result)
    assert f"Question: {QUESTION}" in text and "Facts used:" in text and "|" not in text
    for outcome in result.outcomes:
        assert f"* {outcome.label_en}: " in text
    assert text.count("    Sources: ") == len(result.outcomes)


def test_chinese_rendering_uses_chinese_labels(result: RegimeResult) -> None:
    md = regime_markdown(result, lang="zh")
    assert "| 事项 | 结论 | 理由 | 依据 |" in md and "《互联网信息服务管理办法》（2024年）第4条" in md
    assert "存在分歧" in md and "Needed" not in md


def test_json_is_plain_and_complete(result: RegimeResult) -> None:
    data = json.loads(json.dumps(regime_json(result), ensure_ascii=False))
    assert data["statuses"] == {o.obligation: o.status.value for o in result.outcomes}
    assert data["language"] == "en" and len(data["facts"]) == len(result.facts)
    row = next(o for o in data["outcomes"] if o["obligation"] == "icp-licence")
    assert row["conflict"]["id"] == "own-goods-ecommerce" and row["cites"][0]["label_en"]


def test_table_cells_escape_pipes(result: RegimeResult) -> None:
    first = replace(result.outcomes[0], reason_en="filing | licence")
    md = regime_markdown(replace(result, outcomes=(first, *result.outcomes[1:])))
    assert "filing \\| licence" in md
