"""Facts from the question (English and Chinese, with negation), given facts, defaults and is_scenario."""

from __future__ import annotations

import pytest

from assistant.errors import RegimeInputError
from assistant.regime import (
    DEFAULT_MODEL_PATH,
    FactSource,
    RegimeModel,
    extract_facts,
    find_regime,
    is_scenario,
    load_regime_model,
)
from assistant.regime.facts import assemble, given_facts
from assistant.text import detect_language


@pytest.fixture(scope="module")
def model() -> RegimeModel:
    return load_regime_model(DEFAULT_MODEL_PATH)


def stated(model: RegimeModel, text: str) -> dict[str, tuple[str, ...]]:
    return {k: v.values for k, v in extract_facts(text, model).items()}


@pytest.mark.parametrize(("text", "expected"), [
    # English
    ("We're a US company with no entity in China; SaaS hosted in Shanghai; we charge subscriptions.",
     {"operator": ("foreign-company",), "server": ("mainland",), "service": ("website",), "paid": ("yes",)}),
    ("Our site is hosted in Hong Kong", {"server": ("hk-macao-taiwan",), "service": ("website",)}),
    # a mobile game is an app with culture content; courses are sold as a paid service, not goods
    ("We are making a mobile game for iOS, servers in Chengdu",
     {"server": ("mainland",), "service": ("app",), "content": ("culture",)}),
    ("We sell our own courses online", {"paid": ("yes",), "content": ("education",)}),
    # a CDN's mainland nodes are not the servers; region codes name the place
    ("Our VPS is in Los Angeles, behind a CDN with mainland China nodes",
     {"server": ("abroad",), "cdn": ("mainland",)}),
    ("hosted on AWS us-east-1", {"server": ("abroad",)}),
    ("HK company, wholly owned by our Hong Kong parent", {"operator": ("foreign-invested",),
                                                         "foreign-share": ("over-50",)}),
    ("Nothing paid besides the physical products themselves", {"paid": ("no",)}),
    ("We sell our own shoes on our website", {"service": ("website",), "sales": ("own-goods",)}),
    ("我们公司是国内的，做一个小程序商城", {"operator": ("domestic-company",), "service": ("mini-program",),
                                           "sales": ("own-goods",)}),
    ("server in Singapore, personal blog", {"server": ("abroad",), "operator": ("individual",)}),
    ("We're a WFOE in Shenzhen", {"operator": ("foreign-invested",), "foreign-share": ("over-50",),
                                  "province": ("shenzhen",)}),
    ("JV 30% foreign", {"operator": ("foreign-invested",), "foreign-share": ("up-to-50",)}),
    ("a joint venture where our Chinese partner holds 51%", {"operator": ("foreign-invested",),
                                                             "foreign-share": ("up-to-50",)}),
    ("We sell our own products on a WeChat mini program", {"sales": ("own-goods",), "service": ("mini-program",)}),
    ("a marketplace where third-party sellers open shops", {"sales": ("marketplace",)}),
    ("We publish news and videos", {"content": ("news", "audio-visual")}),
    ("an online pharmacy selling medical devices", {"content": ("drugs",)}),
    ("Our app and website run on Aliyun Hangzhou", {"service": ("website", "app"), "server": ("mainland",)}),
    ("We use a CDN in mainland China", {"cdn": ("mainland",)}),
    ("We're a domestic company in Hainan", {"operator": ("domestic-company",), "province": ("hainan",)}),
    ("We only offer an API", {"service": ("api",)}),
    # Chinese
    ("我们是外资企业，服务器在上海，做付费会员网站", {"operator": ("foreign-invested",), "server": ("mainland",),
                                                "paid": ("yes",), "service": ("website",)}),
    ("个人博客，放在国内服务器上", {"operator": ("individual",), "server": ("mainland",), "service": ("website",)}),
    ("网站服务器在香港", {"server": ("hk-macao-taiwan",), "service": ("website",)}),
    ("我们是中外合资企业，外方占股30%", {"operator": ("foreign-invested",), "foreign-share": ("up-to-50",)}),
    ("做一个小程序卖自己的茶叶", {"service": ("mini-program",), "sales": ("own-goods",)}),
    ("电商平台，允许第三方商家入驻", {"sales": ("marketplace",)}),
    ("我们做新闻和直播", {"content": ("news", "audio-visual")}),
    ("公司注册在海南，服务器在北京", {"province": ("hainan",), "server": ("mainland",)}),
])
def test_facts_are_recognised(model: RegimeModel, text: str, expected: dict[str, tuple[str, ...]]) -> None:
    got = stated(model, text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize(("text", "fact", "value"), [
    ("We don't charge users anything", "paid", ("no",)),
    ("It's completely free", "paid", ("no",)),
    ("We have no Chinese entity", "operator", ("foreign-company",)),
    ("We don't have a WFOE yet", "operator", ("foreign-company",)),
    ("We are not a marketplace", "sales", ("none",)),
    ("Not a marketplace: we sell our own products", "sales", ("own-goods",)),  # explicit beats negated hint
    ("Our servers are not in China", "server", ("abroad",)),
    ("We don't publish news", "content", ("none",)),
    ("我们不收费", "paid", ("no",)),
    ("没有境内主体", "operator", ("foreign-company",)),
    ("我们在国内没有公司", "operator", ("foreign-company",)),
    ("不是电商平台，也不卖货", "sales", ("none",)),
    ("服务器不在国内", "server", ("abroad",)),
    ("非经营性网站", "paid", ("no",)),
])
def test_negation_flips_or_drops_a_fact(model: RegimeModel, text: str, fact: str, value: tuple[str, ...]) -> None:
    assert stated(model, text).get(fact) == value


@pytest.mark.parametrize("text", ["We don't have an app", "没有App", "We have no website"])
def test_a_negated_service_is_not_stated(model: RegimeModel, text: str) -> None:
    assert "service" not in stated(model, text)


def test_a_hosting_city_is_not_the_company_location(model: RegimeModel) -> None:
    got = stated(model, "Our SaaS is hosted in Shanghai")
    assert got["server"] == ("mainland",) and "province" not in got
    assert stated(model, "Our WFOE is in Shanghai, servers in Shanghai")["province"] == ("shanghai",)


def test_stated_facts_keep_the_words_that_stated_them(model: RegimeModel) -> None:
    facts = extract_facts("We're a JV, 30% foreign, hosted in Hong Kong", model)
    assert facts["server"].source == FactSource.STATED and facts["server"].span == "hosted in Hong Kong"
    assert facts["foreign-share"].detail == "30% foreign"
    assert facts["server"].label_en == "in Hong Kong, Macao or Taiwan" and facts["server"].name_zh == "服务器"


def test_personal_data_does_not_make_an_individual(model: RegimeModel) -> None:
    assert "operator" not in stated(model, "我们收集用户个人信息") and "operator" not in stated(model, "we store personal data")


@pytest.mark.parametrize(("text", "lang"), [("Do I need Bei'an?", "en"), ("个人博客需要备案吗？", "zh"),
                                            ("Our WFOE wants an ICP证", "en"), ("外资企业可以办EDI吗", "zh"), ("", "en")])
def test_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_given_facts_accept_ids_aliases_lists_and_percentages(model: RegimeModel) -> None:
    given = given_facts({"server": "hk", "service": "website,app", "foreign_share": "30%", "paid": "YES"}, model)
    assert given["server"].values == ("hk-macao-taiwan",) and given["service"].values == ("website", "app")
    assert given["foreign-share"].values == ("up-to-50",) and given["foreign-share"].detail == "30% foreign"
    assert given["paid"].values == ("yes",) and all(f.source == FactSource.GIVEN for f in given.values())
    assert given_facts({"content": "none,news"}, model)["content"].values == ("news",)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sever": "hk"}, "unknown fact 'sever'. Expected one of: operator, server, service, paid, sales, content, "
                      "foreign-share, province, cdn"),
    ({"paid": "maybe"}, "paid: expected one of yes, no (or paid, charge, free). Got: 'maybe'"),
    ({"service": "website,fax"}, "service: expected one of website, app, mini-program, api"),
])
def test_bad_given_facts_are_named(model: RegimeModel, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(RegimeInputError) as exc:
        given_facts(overrides, model)
    assert str(exc.value).startswith(message)


def test_given_beats_stated_beats_assumed(model: RegimeModel) -> None:
    facts = {f.fact: f for f in assemble(model, extract_facts("hosted in Hong Kong, free", model),
                                         given_facts({"server": "mainland"}, model))}
    assert (facts["server"].values, facts["server"].source) == (("mainland",), FactSource.GIVEN)
    assert (facts["paid"].values, facts["paid"].source) == (("no",), FactSource.STATED)
    assert (facts["operator"].values, facts["operator"].source) == (("domestic-company",), FactSource.ASSUMED)


def test_missing_facts_and_follow_up(model: RegimeModel) -> None:
    result = find_regime("我们是外资企业，服务器在上海，做付费会员网站", None, model)
    assert result.missing[0] == "foreign-share"  # the WFOE assumption decides the B25 row
    assert result.follow_up is not None and result.follow_up.fact == "foreign-share"
    assert result.follow_up.question_zh and [o.value for o in result.follow_up.options] == ["up-to-50", "over-50"]
    stated_facts = {f.fact for f in result.facts if f.source != FactSource.ASSUMED}
    assert not stated_facts & set(result.missing)  # only assumptions are asked about
    answered = find_regime("我们是外资企业，服务器在上海，做付费会员网站", {"foreign-share": "30"}, model)
    assert "foreign-share" not in answered.missing
    assert {o.obligation: o.status.value for o in answered.outcomes}["icp-licence"] == "needed"


def test_what_if_lists_only_changes_from_assumptions(model: RegimeModel) -> None:
    result = find_regime("", {"operator": "domestic-company", "server": "mainland", "service": "website",
                              "paid": "no", "sales": "none", "content": "none"}, model)
    assert {c.fact for c in result.what_if} == set()  # cdn, share and province cannot change this answer
    assert result.missing == () and result.follow_up is None
    offshore = find_regime("", {"server": "abroad"}, model)
    cdn = [c for c in offshore.what_if if c.fact == "cdn"]
    assert cdn and {c.obligation: (c.before, c.after) for c in cdn[0].changes}["icp-filing"] == ("not-needed", "needed")


SCENARIOS = [
    "We're a US company, no entity in China, a SaaS hosted in Shanghai, we charge subscriptions — what do we need?",
    "Which licences do we need? We run a marketplace for third-party sellers, hosted in Beijing.",
    "We are a WFOE in Shenzhen with a paid app on Tencent Cloud. What filings apply?",
    "I'm a freelancer with a paid newsletter site hosted in Hangzhou, free for now but paid later, and a mini program.",
    "我们是外资企业，服务器在上海，做付费会员网站，需要办什么？",
    "我们在美国，没有国内公司，想做一个面向中国用户的免费小程序，需要什么手续？",
    "电商平台让第三方商家入驻，服务器在杭州，要办哪些证？",
    "我们公司网站放在香港，不收费，也不卖货，请问需要备案吗？",
    # a situation and a yes/no question on needing or getting a filing or licence
    "Our paid subscription site runs only on servers in Singapore, with no China CDN. Do we need an ICP licence or filing?",
    "I'm the founder of a US SaaS startup (Delaware C-corp, no entity in China). Can we get an ICP filing ourselves so we can host on Tencent Cloud servers in mainland China?",
]
RULE_QUESTIONS = [
    "What is the difference between an ICP filing and an ICP licence?",
    "How long does ICP filing take?",
    "Which licence does a marketplace need?",
    "Can a foreign company own more than 50% of an ICP company?",
    "Does a personal blog need Bei'an?",
    "ICP备案和ICP许可证有什么区别？",
    "外资可以持有ICP许可证吗？",
    "个人博客需要备案吗？",
    "公安备案要在多长时间内完成？",
    # a procedure on a described set-up ("what do I do") is not a regime question
    "We filed through Huawei Cloud back in 2017. Now I want to add a second site but the console doesn't know our old filing. what do I do?",
    # nor is a change to a filing the asker already has: moving hosts, a new IP, cancelling
    "I moved my site from Aliyun to Huawei Cloud, do I need to file again?",
    "Shanghai company, we hold a commercial ICP licence and host on JD Cloud. We're moving to a new server IP. What do we have to do?",
    "我们公司网站从阿里云迁到腾讯云，服务器在上海，需要办什么？",
    # nor a filing sent back, the materials to prepare, or "which one" of two numbers
    "管局 rejected our filing, reason says 网站未备案通过前已开通. The site is just a placeholder on our Shanghai server. "
    "what do we need to do?",
    "我是持护照的外国人，住在上海，想在腾讯云以个人身份给自己的网站备案，需要准备什么特别的材料？",
    "Our company is in Guangdong, the system shows 粤ICP备XXXX号 and 粤ICP备XXXX号-1 — which one goes at the bottom of the site?",
    # nor a question on something else told with a situation: the table does not answer it
    "We're a WFOE in Shanghai. A blog says we'd need a Chinese partner owning at least 51% to get an ICP licence. "
    "Is that actually the rule? what's the max foreign stake for value-added telecom now?",
    "We're a US company and want 100% ownership of a Beijing entity that would run online data processing plus a CDN. "
    "Is more than 50% foreign ownership possible at all?",
    # whether a kind of company can hold a licence: a rule; the "I" of hearsay tells no situation
    "Can an FIE hold a commercial ICP licence for a subscription site? I heard the foreign stake is capped at 50%.",
    "Can a WFOE get a commercial ICP licence for paid memberships? I think foreign companies need a 51% Chinese partner.",
]


@pytest.mark.parametrize("question", SCENARIOS)
def test_scenarios_are_detected(question: str) -> None:
    assert is_scenario(question)


@pytest.mark.parametrize("question", RULE_QUESTIONS)
def test_single_rule_questions_are_not_scenarios(question: str) -> None:
    assert not is_scenario(question)
