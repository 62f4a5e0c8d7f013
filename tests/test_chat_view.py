"""chat_view.py: the chat message (lead, points, one chip per source), related questions, the empty state."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from assistant.chat_view import (
    EMPTY_STATE,
    EXAMPLES,
    chat_blocks,
    chip_label,
    compact_name,
    example_messages,
    related_options,
    short_names,
    source_chip,
    source_chips,
)
from assistant.models import Kind, Status
from assistant.regime import DEFAULT_MODEL_PATH, find_regime, load_regime_model
from assistant.registry import load_registry
from assistant.render import join_blocks
from assistant.settings import PROJECT_ROOT
from tests.test_render import SCRIPT, answer, citation, guide

EVIL = f'{SCRIPT}<img src=x onerror="alert(1)">'
NAMES = {"regulations/measures-1.zh.md": "Order 292", "regulations/measures-2.zh.md": "Order 292"}


class _Tags(HTMLParser):
    """Start tags with their attributes, to assert on the structure a browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def chips_of(text: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in tags(text) if tag == "a" and attrs.get("class") == "icp-chip"]


# Names --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("short_en", "expected"), [
    ("Internet Information Services Measures (State Council Order 292)", "Order 292"),
    ("ICP Filing Measures (MII Order 33)", "MII Order 33"),
    ("MIIT Order 68 (2024 amendment of several MIIT rules, incl. the ICP Filing Measures)", "MIIT Order 68"),
    ("Foreign Investment Negative List 2024 (NDRC/MOFCOM Order 23)", "Foreign Investment Negative List 2024"),
    ("Telecom Services Catalogue 2015 (B21 online data processing, B25 information services)",
     "Telecom Services Catalogue 2015"),
    ("Cybersecurity Law", "Cybersecurity Law"),
])
def test_compact_name_is_what_practitioners_cite(short_en: str, expected: str) -> None:
    assert compact_name(short_en) == expected


def test_short_names_cover_every_version_file_instrument_and_stand_in_note() -> None:
    names = short_names(load_registry(PROJECT_ROOT / "corpus" / "registry.yml"))
    assert names["regulations/internet-information-services-measures-2024.zh.md"] == "Order 292"
    assert names["regulations/internet-information-services-measures-2011.zh.md"] == "Order 292"
    assert names["regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md"] == "Order 333"
    assert names["notes/instrument-miit-order-42.yml"] == names["miit-order-42"] == "MIIT Order 42"


# Chips --------------------------------------------------------------------------------------------------------------

def test_chip_label_of_a_primary_text_names_instrument_article_and_status() -> None:
    assert chip_label(citation(1, article_no=4), "en", NAMES) == "[1] Order 292 Art. 4 · in force"
    superseded = citation(2, article_no=4, status=Status.SUPERSEDED, version="2011")
    assert chip_label(superseded, "en", NAMES) == "[2] Order 292 (2011) Art. 4 · superseded"
    assert chip_label(citation(1, article_no=4), "zh") == "[1] 《互联网信息服务管理办法》第4条 · 现行有效"


def test_chip_label_without_a_short_name_falls_back_to_the_english_title() -> None:
    assert chip_label(citation(1, article_no=4)) == (
        "[1] Measures for the Administration of Internet Information Services Art. 4 · in force")


def test_chip_label_of_a_guide_names_provider_and_section_never_a_status() -> None:
    assert chip_label(guide(2, section="")) == "[2] Tencent Cloud · 一个腾讯云账号能否同时备案两个公司？ · provider guide"
    assert chip_label(guide(2, section="详细内容 › 注销类型与定义", provider="Huawei Cloud", title="备案注销咨询")) == (
        "[2] Huawei Cloud · 注销类型与定义 · provider guide")
    assert chip_label(guide(2), "zh") == "[2] 腾讯云 · 帐号已有备案，能否备案其他主体的网站？ · 服务商指南"
    assert "unknown" not in chip_label(guide(2)) and "未知" not in chip_label(guide(2), "zh")


def test_chip_label_of_a_note_is_its_title_and_kind() -> None:
    note = citation(3, kind=Kind.PROJECT_NOTE, article_no=None, title="个人网站与ICP备案",
                    title_en="Personal websites and ICP filing", doc_id="notes/personal-sites.yml")
    assert chip_label(note) == "[3] Personal websites and ICP filing · project note"


def test_a_chip_links_to_its_panel_entry_with_the_full_footnote_as_tooltip() -> None:
    chip = source_chip(citation(1, article_no=4), "en", NAMES)
    [attrs] = chips_of(chip)
    assert attrs["href"] == "#src-1"
    assert attrs["title"] is not None and attrs["title"].startswith("[1] 《互联网信息服务管理办法》 第4条")
    assert 'class="icp-chip-tag icp-tag-in-force">in force<' in chip
    assert 'icp-tag-secondary">provider guide<' in source_chip(guide(2))


def test_a_chip_flags_a_warning_and_keeps_it_in_the_tooltip() -> None:
    chip = source_chip(citation(1, warning="Contradicts the 2022 Provisions, Art. 6"), "en", NAMES)
    assert 'class="icp-chip-warn">⚠<' in chip
    assert "— ⚠ Contradicts the 2022 Provisions, Art. 6" in str(chips_of(chip)[0]["title"])
    assert "icp-chip-warn" not in source_chip(citation(1))


def test_a_guide_without_a_provider_is_named_by_its_page() -> None:
    assert chip_label(guide(2, provider="", section="")) == "[2] 一个腾讯云账号能否同时备案两个公司？ · provider guide"


def test_source_chips_are_one_per_source_and_empty_without_sources() -> None:
    chips = source_chips([citation(1), guide(2), citation(3)], "en", NAMES)
    assert [c["href"] for c in chips_of(chips)] == ["#src-1", "#src-2", "#src-3"]
    assert "<br" not in chips and "<li" not in chips and "\n" not in chips
    assert source_chips([]) == ""


# The message ---------------------------------------------------------------------------------------------------------

def test_message_leads_with_the_verdict_then_points_then_one_chip_per_source() -> None:
    a = answer()
    blocks = chat_blocks(a, NAMES)
    assert blocks[0] == "**Yes — a personal blog hosted in mainland China needs ICP filing [[1]](#src-1).**"
    assert blocks[1].startswith("- Non-commercial sites are filed")
    assert blocks[-1].startswith('<div class="icp-chips"')
    message = join_blocks(blocks)
    assert len(chips_of(message)) == len(a.citations)
    # the full footnotes (version, effective date, quotes) are for the panel and the ticket, not the message
    visible = re.sub(r"<[^>]+>", "", message)
    assert "effective 2024-03-10" not in visible and a.citations[0].quote not in visible
    assert "Sources**" not in message


def test_every_source_takes_at_most_one_line_of_the_message() -> None:
    a = answer(citations=tuple(citation(n) for n in range(1, 11)), points=("x " + "".join(f"[{n}]" for n in range(1, 11)),))
    message = join_blocks(chat_blocks(a, NAMES))
    lines_with_a_source = [line for line in message.splitlines() if "icp-chip" in line]
    assert len(lines_with_a_source) == 1  # the chips share one wrapping row, one chip each
    assert len(chips_of(message)) == 10


def test_abstention_is_the_message_alone() -> None:
    a = answer(verdict=None, points=("The corpus does not cover trademark law.",), citations=(), abstained=True,
               notices=())
    assert chat_blocks(a) == ["The corpus does not cover trademark law."]


def test_notices_stay_in_the_message() -> None:
    assert "*Answer composed from project notes.*" in chat_blocks(answer())


@pytest.mark.parametrize("field", ["verdict", "points", "notices", "title", "title_en", "provider", "section", "warning"])
def test_message_escapes_every_corpus_and_user_string(field: str) -> None:
    if field in ("verdict", "points", "notices"):
        a = answer(**{field: EVIL if field == "verdict" else (EVIL + " [1]",)})
    else:
        a = answer(citations=(guide(1, **{field: EVIL}), citation(2, **{field: EVIL})))
    message = join_blocks(chat_blocks(a, NAMES))
    found = {tag for tag, _ in tags(message)}
    assert not found & {"script", "img"}
    assert "&lt;script&gt;" in message or "&lt;script&gt;" in message.replace("\\", "")


def test_scenario_message_shows_the_table_then_three_points_and_a_verdict_given_above_it() -> None:
    model = load_regime_model(DEFAULT_MODEL_PATH)
    result = find_regime("We're a US company with no entity in China, hosting in Shanghai — what do we need?", None,
                         model, "en")
    without_verdict = chat_blocks(answer(regime=result, verdict=None, points=("p1 [1]", "p2", "p3", "p4")), NAMES)
    assert without_verdict[0].startswith('<div class="icp-regime"')
    assert without_verdict[1] == "**From the sources**"
    assert [b for b in without_verdict if b.startswith("- ")] == ["- p1 [[1]](#src-1)", "- p2", "- p3"]
    assert without_verdict[-1].startswith('<div class="icp-chips"')
    # a verdict beside the table (Assistant.ask leaves none: beside_table) leads
    quoted = chat_blocks(answer(regime=result, points=("p1 [1]", "p2 [2]", "p3 [1]", "p4 [2]")), NAMES)
    assert quoted[0].startswith("**Yes — a personal blog") and quoted[1].startswith('<div class="icp-regime"')
    assert [b for b in quoted if b.startswith("- ")] == ["- p1 [[1]](#src-1)", "- p2 [[2]](#src-2)", "- p3 [[1]](#src-1)"]


def test_scenario_without_a_sourced_answer_still_shows_the_table() -> None:
    model = load_regime_model(DEFAULT_MODEL_PATH)
    result = find_regime("我们是外资企业，服务器在上海，做付费会员网站，需要办什么？", None, model)
    a = answer(regime=result, verdict=None, points=(), citations=(), abstained=True, notices=(), language="zh")
    blocks = chat_blocks(a)
    assert len(blocks) == 1 and blocks[0].startswith('<div class="icp-regime" lang="zh">')


# Related questions and the empty state -------------------------------------------------------------------------------

def test_related_questions_become_options_deduplicated_and_capped() -> None:
    related = ("Can I run a forum?", "", "Can I run a forum?", "Q2?", "Q3?", "Q4?", "Q5?")
    options = related_options(answer(related=related))
    assert options == [{"value": q, "label": q} for q in ("Can I run a forum?", "Q2?", "Q3?", "Q4?")]
    assert related_options(answer()) == []


def test_related_questions_are_passed_as_plain_text_for_gradio_to_escape() -> None:
    # Gradio renders option labels as text, so the question stays unescaped here and is asked verbatim on click.
    options = related_options(answer(related=(EVIL,)))
    assert options == [{"value": EVIL, "label": EVIL}]


def test_empty_state_says_what_is_covered_in_both_languages_with_three_examples_each() -> None:
    assert "ICP filing" in EMPTY_STATE and "备案" in EMPTY_STATE and "涵盖范围" in EMPTY_STATE
    assert "not legal advice" in EMPTY_STATE and "不构成法律意见" in EMPTY_STATE
    chinese = [q for q in EXAMPLES if re.search(r"[\u4e00-\u9fff]", q)]
    assert len(chinese) == 3 and len(EXAMPLES) == 6
    assert example_messages() == [{"text": q} for q in EXAMPLES]

