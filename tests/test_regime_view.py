"""regime_view.py: the scenario answer in the chat (rows, facts, what-ifs, question) and the fact form's data."""

from __future__ import annotations

from dataclasses import replace
from html.parser import HTMLParser

import pytest

from assistant.regime import (
    DEFAULT_MODEL_PATH,
    Cite,
    FactSource,
    RegimeModel,
    RegimeResult,
    Status,
    find_regime,
    load_regime_model,
)
from assistant.regime_view import (
    change_message,
    cite_chip_name,
    fact_fields,
    follow_up_choices,
    regime_html,
)

SCENARIO = "We're a US company, no entity in China, a SaaS hosted in Shanghai, we charge subscriptions — what do we need?"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NAMES = {"regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md": "Order 333", "mii-order-33": "MII Order 33"}


class _Elements(HTMLParser):
    """(tag, class) of every start tag, and the text inside each element with a class, by class."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs).get("class") or ""))


def elements(text: str) -> list[tuple[str, str]]:
    parser = _Elements()
    parser.feed(text)
    return parser.tags


@pytest.fixture(scope="module")
def model() -> RegimeModel:
    return load_regime_model(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="module")
def result(model: RegimeModel) -> RegimeResult:
    return find_regime(SCENARIO, None, model, "en")


def row_status(html_text: str, obligation: str) -> str:
    row = html_text.split(f'class="icp-ob icp-ob-{obligation}"', 1)[1]
    return row.split('class="icp-st icp-st-', 1)[1].split('"', 1)[0]


def test_one_row_per_obligation_with_status_reason_and_chips(result: RegimeResult) -> None:
    html_text = regime_html(result, NAMES)
    rows = [c for t, c in elements(html_text) if c.startswith("icp-ob icp-ob-")]
    assert rows == [f"icp-ob icp-ob-{o.obligation}" for o in result.outcomes]
    for o in result.outcomes:
        assert row_status(html_text, o.obligation) == o.status.value
        assert o.reason_en in html_text
    assert html_text.count('class="icp-rchip"') >= len(result.outcomes)
    assert ">Not possible<" in html_text and ">Needed<" in html_text


def test_the_table_comes_first_then_facts_what_ifs_and_the_question(result: RegimeResult) -> None:
    html_text = regime_html(result)
    order = [html_text.index(marker) for marker in
             ("Which filings and licences apply", 'class="icp-obs"', "Facts used", 'class="icp-whatif"', "To be sure")]
    assert order == sorted(order)
    assert "Does the content include any of these sectors?" in html_text
    assert "\n\n" not in html_text  # one HTML block: a blank line would end it inside the chat's Markdown


def test_facts_are_marked_stated_or_assumed_and_assumptions_that_matter_stand_out(result: RegimeResult) -> None:
    html_text = regime_html(result)
    classes = [c for t, c in elements(html_text) if t == "li" and c.startswith("icp-fact ")]
    assert len(classes) == len(result.facts)
    for fact, cls in zip(result.facts, classes, strict=True):
        assert f"icp-fact-{fact.source.value}" in cls
        assert ("icp-fact-matters" in cls) == (fact.source == FactSource.ASSUMED and fact.fact in result.missing)
    assert "“" not in html_text  # spans are <q> elements, quoted by the browser
    assert '<q class="icp-span">hosted in Shanghai</q>' in html_text
    assert "assumed — affects the result" in html_text and "assumed — no effect here" in html_text


def test_what_ifs_fold_away_when_there_are_many(result: RegimeResult, model: RegimeModel) -> None:
    assert len(result.what_if) > 4 and '<details class="icp-whatif">' in regime_html(result)
    few = replace(result, what_if=result.what_if[:2])
    assert '<details class="icp-whatif" open>' in regime_html(few)
    assert "If selling goods: " in regime_html(few)
    assert "icp-whatif" not in regime_html(replace(result, what_if=()))


def test_a_changed_fact_flips_the_row_and_is_marked_as_set_by_the_user(model: RegimeModel) -> None:
    before = regime_html(find_regime(SCENARIO, None, model, "en"))
    after = regime_html(find_regime(SCENARIO, {"server": "hk-macao-taiwan"}, model, "en"))
    assert row_status(before, "icp-filing") == Status.NOT_POSSIBLE.value
    assert row_status(after, "icp-filing") == Status.NOT_NEEDED.value
    assert "icp-fact icp-fact-given icp-fact-server" in after and "you set" in after


def test_chinese_result_uses_chinese_labels(model: RegimeModel) -> None:
    html_text = regime_html(find_regime("我们是外资企业，服务器在上海，做付费会员网站，需要办什么？", None, model))
    assert 'lang="zh"' in html_text and "需要办理哪些备案和许可" in html_text and "所依据的事实" in html_text
    assert "假定" in html_text and "您提到" in html_text


def test_identical_source_chips_are_grouped(result: RegimeResult) -> None:
    html_text = regime_html(result)
    edi = html_text.split("icp-ob-edi-licence", 1)[1].split("icp-ob icp-ob-", 1)[0]
    assert "Project note ×2" in edi and edi.count('class="icp-rchip"') == 1


def test_cite_chip_names_are_short() -> None:
    doc = Cite("doc", "regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md", 6,
               label_en="Foreign-Invested Telecom Enterprises Provisions (State Council Order 333), 2022 text, Art. 6")
    assert cite_chip_name(doc, "en", NAMES) == "Order 333 Art. 6"
    assert cite_chip_name(doc, "en", {}) == doc.label_en  # no short name: the full label
    guide = Cite("doc", "guides/tencentcloud/x.zh.md", practice=True, label_en="Tencent Cloud ICP filing documentation")
    assert cite_chip_name(guide, "en", NAMES) == "Tencent Cloud · practice"
    assert cite_chip_name(Cite("note", "wfoe-icp-licence"), "zh", NAMES) == "项目笔记"
    unverified = Cite("instrument", "mii-order-33", 5, verified=False)
    assert cite_chip_name(unverified, "en", NAMES) == "MII Order 33 Art. 5 (unverified)"


def _poisoned(result: RegimeResult) -> RegimeResult:
    """Every text a result carries replaced by markup, as a hostile question or corpus file could make it."""
    facts = tuple(replace(f, span=EVIL, detail=EVIL, label_en=EVIL, name_en=EVIL) for f in result.facts)
    cites = (Cite("doc", EVIL, 1, label_en=EVIL), Cite("note", EVIL, label_en=EVIL))
    outcomes = tuple(replace(o, obligation=EVIL, label_en=EVIL, reason_en=EVIL, conditions_en=EVIL, cites=cites)
                     for o in result.outcomes)
    what_if = tuple(replace(c, name_en=EVIL, alternative_en=EVIL,
                            changes=tuple(replace(s, label_en=EVIL) for s in c.changes)) for c in result.what_if)
    follow_up = replace(result.follow_up, question_en=EVIL) if result.follow_up else None
    return replace(result, question=EVIL, facts=facts, outcomes=outcomes, what_if=what_if[:3], follow_up=follow_up)


def test_every_string_is_escaped(result: RegimeResult) -> None:
    html_text = regime_html(_poisoned(result), {EVIL: EVIL})
    tags = {t for t, _ in elements(html_text)}
    assert not tags & {"script", "img"}
    assert html_text.count("&lt;script&gt;") >= len(result.outcomes) * 3


# The fact form -------------------------------------------------------------------------------------------------------

def test_one_field_per_fact_with_the_model_values_and_where_each_value_came_from(model: RegimeModel,
                                                                                   result: RegimeResult) -> None:
    fields = fact_fields(model, result, "en")
    assert [f.fact for f in fields] == [spec.id for spec in model.facts]
    server = next(f for f in fields if f.fact == "server")
    assert server.choices == (("in mainland China", "mainland"), ("in Hong Kong, Macao or Taiwan", "hk-macao-taiwan"),
                              ("outside China", "abroad"))
    assert server.value == ("mainland",) and server.label == "Servers · stated" and not server.multiple
    content = next(f for f in fields if f.fact == "content")
    assert content.multiple and content.label == "Content needing sector approval · assumed"
    given = fact_fields(model, find_regime(SCENARIO, {"cdn": "mainland"}, model, "en"), "en")
    assert next(f for f in given if f.fact == "cdn").label == "CDN · you set"


def test_fields_before_any_scenario_show_the_defaults_in_the_asked_language(model: RegimeModel) -> None:
    fields = fact_fields(model, None, "zh")
    server = next(f for f in fields if f.fact == "server")
    assert server.label == "服务器" and server.value == ("mainland",) and server.choices[0] == ("在中国大陆", "mainland")


def test_follow_up_has_one_choice_per_option(result: RegimeResult) -> None:
    fact, question, options = follow_up_choices(result, "en")
    assert result.follow_up is not None
    assert (fact, question) == (result.follow_up.fact, result.follow_up.question_en)
    assert [value for _, value in options] == [o.value for o in result.follow_up.options]
    assert follow_up_choices(replace(result, follow_up=None)) == ("", "", ())
    assert follow_up_choices(None) == ("", "", ())


def test_change_message_reads_as_the_users_turn(model: RegimeModel) -> None:
    assert change_message(model, "server", ["hk-macao-taiwan"]) == "Servers: in Hong Kong, Macao or Taiwan"
    assert change_message(model, "server", ["hk-macao-taiwan"], "zh") == "服务器：在香港、澳门或台湾"
    assert change_message(model, "service", ["website", "app"]) == "Service form: a website, a mobile app"
    assert change_message(model, "nope", ["x"]) == "nope: x"
