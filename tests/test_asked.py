"""The questions an article's clauses answer, read off their legal form (assistant/asked.py)."""

from __future__ import annotations

import pytest

from assistant.asked import derived_questions

# Order 292 (2024) Art. 22; MII Order 33 Arts. 5, 18, 19, 23, 24
ART22 = ("第二十二条 违反本办法的规定，未在其网站主页上标明其经营许可证编号或者备案编号的，由省、自治区、直辖市电信管理机构责令改正，"
         "处5000元以上5万元以下的罚款。")
ART5 = ("第五条 在中华人民共和国境内提供非经营性互联网信息服务，应当依法履行备案手续。\n未经备案，不得在中华人民共和国境内从事非经营性"
        "互联网信息服务。\n本办法所称在中华人民共和国境内提供非经营性互联网信息服务，是指在中华人民共和国境内的组织或个人利用通过互联网域名访问的"
        "网站或者利用仅能通过互联网IP地址访问的网站，提供非经营性互联网信息服务。")
ART18 = "第十八条 互联网接入服务提供者不得为未经备案的组织或者个人从事非经营性互联网信息服务提供互联网接入服务。"
ART19 = "第十九条 互联网接入服务提供者应当记录其接入的非经营性互联网信息服务提供者的备案信息。"
ART23 = "第二十三条 违反本办法第七条第一款的规定，填报虚假备案信息的，由住所所在地省通信管理局关闭网站并注销备案。"
ART24 = "第二十四条 违反本办法第十条、第十八条、第十九条的规定的，由违法行为发生地省通信管理局责令改正，并处一万元罚款。"


@pytest.mark.parametrize(("text", "expected"), [
    (ART22, ["未在其网站主页上标明其经营许可证编号或者备案编号会受到什么处罚？"]),
    (ART23, ["填报虚假备案信息会受到什么处罚？"]),
    (ART18, ["互联网接入服务提供者可以为未经备案的组织或者个人从事非经营性互联网信息服务提供互联网接入服务吗？"]),
    (ART19, ["互联网接入服务提供者需要记录其接入的非经营性互联网信息服务提供者的备案信息吗？"]),
    (ART5, ["在中华人民共和国境内提供非经营性互联网信息服务，需要依法履行备案手续吗？",
            "未经备案，可以在中华人民共和国境内从事非经营性互联网信息服务吗？",
            "什么是在中华人民共和国境内提供非经营性互联网信息服务？"]),
])
def test_each_legal_form_gives_the_question_it_answers(text: str, expected: list[str]) -> None:
    assert derived_questions(text) == expected


def test_a_penalty_for_breaking_other_articles_asks_about_their_conduct() -> None:
    assert derived_questions(ART24, {18: ART18, 19: ART19}) == [
        "互联网接入服务提供者为未经备案的组织或者个人从事非经营性互联网信息服务提供互联网接入服务会受到什么处罚？",
        "互联网接入服务提供者未记录其接入的非经营性互联网信息服务提供者的备案信息会受到什么处罚？",
    ]  # Art. 10 is not in the map given: nothing is made up for it
    assert derived_questions(ART24) == []


@pytest.mark.parametrize("text", [
    "第二十八条 法律、行政法规另有规定的，依照其规定。",  # a referral, not punished conduct
    "第三十条 本办法自2005年3月20日起施行。",
    "",
])
def test_a_clause_of_no_legal_form_asks_nothing(text: str) -> None:
    assert derived_questions(text) == []
