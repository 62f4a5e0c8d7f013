"""The decision model (corpus/regime.yml) through the engine: facts -> obligation statuses.

Table-driven: each case is a scenario whose facts change at least one obligation, with the statuses the
law gives it (the case names say which rule of law). Unlisted facts are at the model's documented
defaults (domestic company, mainland server, website, free, no sales, no sector content, over-50 foreign
share, outside the pilot areas, no mainland CDN). Together the cases reach every rule of the model.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from assistant.regime import DEFAULT_MODEL_PATH, RegimeModel, Status, evaluate, load_regime_model, statuses

N, NN, D, NP = "needed", "not-needed", "depends", "not-possible"
PILOT = ("beijing", "shanghai", "hainan", "shenzhen")

CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    # hosting: filing follows mainland access (Order 292 Art. 4; offshore exemption is practice)
    ("domestic free site: filing + PSB only", {}, {
        "icp-filing": N, "icp-licence": NN, "edi-licence": NN, "app-filing": NN, "psb-filing": N,
        "foreign-ownership": NN, "preapproval": NN}),
    ("hosted in HK: nothing to file", {"server": "hk-macao-taiwan"},
     {"icp-filing": NN, "icp-licence": NN, "psb-filing": NN, "foreign-ownership": NN}),
    ("hosted abroad and paid: no licence in practice", {"server": "abroad", "paid": "yes"},
     {"icp-filing": NN, "icp-licence": NN, "psb-filing": NN}),
    ("offshore server but mainland CDN: file", {"server": "abroad", "cdn": "mainland"},
     {"icp-filing": N, "psb-filing": N}),
    ("mainland server and CDN", {"cdn": "mainland"}, {"icp-filing": N, "psb-filing": N}),
    # operator without a mainland entity
    ("foreign company, mainland, paid", {"operator": "foreign-company", "paid": "yes"},
     {"icp-filing": NP, "icp-licence": NP, "psb-filing": NP, "foreign-ownership": N, "edi-licence": NN}),
    ("foreign company, offshore, paid", {"operator": "foreign-company", "server": "abroad", "paid": "yes"},
     {"icp-filing": NN, "icp-licence": NN, "psb-filing": NN, "foreign-ownership": NN}),
    ("foreign company, mainland, free", {"operator": "foreign-company"},
     {"icp-filing": NP, "icp-licence": NN, "psb-filing": NP, "foreign-ownership": NN}),
    # an app's backend domain is filed like a site, which a company outside the mainland cannot do
    ("foreign company, app only", {"operator": "foreign-company", "service": "app"},
     {"icp-filing": NP, "app-filing": D, "psb-filing": D}),
    ("foreign company, marketplace", {"operator": "foreign-company", "sales": "marketplace"},
     {"edi-licence": NP, "icp-licence": NN, "foreign-ownership": NN}),
    # individuals: filing yes, licence never (Telecom Regs Art. 13)
    ("individual, free site", {"operator": "individual"},
     {"icp-filing": N, "icp-licence": NN, "psb-filing": N, "foreign-ownership": NN}),
    ("individual, paid", {"operator": "individual", "paid": "yes"}, {"icp-filing": D, "icp-licence": NP}),
    ("individual, own shop", {"operator": "individual", "sales": "own-goods"},
     {"icp-filing": D, "icp-licence": D, "edi-licence": D}),
    ("individual, marketplace", {"operator": "individual", "sales": "marketplace"},
     {"icp-filing": D, "edi-licence": NP}),
    # paid information services: B25 (Order 292 Arts. 3, 7)
    ("domestic, paid", {"paid": "yes"},
     {"icp-filing": N, "icp-licence": N, "edi-licence": NN, "foreign-ownership": NN}),
    ("domestic, paid website and app", {"paid": "yes", "service": "website,app"},
     {"icp-filing": N, "icp-licence": N, "app-filing": N, "psb-filing": N}),
    # own goods: official guidance vs practice (the conflict)
    ("domestic, own goods", {"sales": "own-goods"},
     {"icp-filing": N, "icp-licence": D, "edi-licence": D, "foreign-ownership": NN}),
    ("own goods, offshore", {"sales": "own-goods", "server": "abroad"},
     {"icp-filing": NN, "icp-licence": NN, "edi-licence": NN}),
    ("own goods, mini-program only", {"sales": "own-goods", "service": "mini-program"},
     {"icp-filing": D, "icp-licence": NN, "edi-licence": NN, "app-filing": N, "psb-filing": D}),
    ("paid, mini-program only", {"paid": "yes", "service": "mini-program"}, {"icp-licence": D, "app-filing": N}),
    ("marketplace, mini-program only", {"sales": "marketplace", "service": "mini-program"}, {"edi-licence": D}),
    # marketplaces: B21 (E-Commerce Law Art. 9; Telecom Regs Art. 7), 100% foreign allowed
    ("domestic marketplace", {"sales": "marketplace"}, {"edi-licence": N, "icp-licence": NN}),
    ("marketplace, offshore", {"sales": "marketplace", "server": "abroad"}, {"edi-licence": D}),
    ("WFOE marketplace", {"operator": "foreign-invested", "sales": "marketplace"},
     {"edi-licence": N, "icp-licence": NN, "foreign-ownership": NN}),
    # foreign-invested companies: 50% cap for B25 (FIE Provisions Art. 6) and the 2024 pilot
    ("WFOE, paid, outside the pilot", {"operator": "foreign-invested", "paid": "yes"},
     {"icp-filing": N, "icp-licence": NP, "foreign-ownership": NP}),
    ("JV at most 50%, paid", {"operator": "foreign-invested", "foreign-share": "up-to-50", "paid": "yes"},
     {"icp-licence": N, "foreign-ownership": N}),
    ("WFOE, free site", {"operator": "foreign-invested"},
     {"icp-filing": N, "icp-licence": NN, "psb-filing": N, "foreign-ownership": NN}),
    ("WFOE, own goods", {"operator": "foreign-invested", "sales": "own-goods"},
     {"icp-licence": D, "edi-licence": D, "foreign-ownership": D}),
    ("WFOE, paid news", {"operator": "foreign-invested", "paid": "yes", "content": "news"},
     {"icp-licence": NP, "foreign-ownership": NP, "preapproval-news": N}),
    ("WFOE, paid news in a pilot area: still closed", {"operator": "foreign-invested", "paid": "yes", "content": "news",
                                                       "province": "shanghai"},
     {"icp-licence": NP, "foreign-ownership": NP}),
    # apps and mini-programs (MIIT 2023 App filing notice)
    ("domestic app only", {"service": "app"}, {"icp-filing": D, "app-filing": N, "psb-filing": D}),
    ("app only, offshore backend", {"service": "app", "server": "abroad"},
     {"icp-filing": NN, "app-filing": D, "psb-filing": NN}),
    ("API only", {"service": "api"}, {"icp-filing": N, "app-filing": NN, "psb-filing": N}),
    # sector pre-approvals (Order 292 Art. 5; MII Order 33 Art. 11)
    ("news", {"content": "news"}, {"preapproval-news": N}),
    ("publishing", {"content": "publishing"}, {"preapproval-publishing": N}),
    ("audio-visual", {"content": "audio-visual"}, {"preapproval-audio-visual": N}),
    ("free culture", {"content": "culture"}, {"preapproval-culture": D}),
    ("paid culture", {"content": "culture", "paid": "yes"}, {"preapproval-culture": N}),
    ("drugs", {"content": "drugs"}, {"preapproval-drugs": N}),
    ("medical", {"content": "medical"}, {"preapproval-medical": D}),
    ("education", {"content": "education"}, {"preapproval-education": D}),
    ("forum", {"content": "forum"}, {"preapproval-forum": D}),
    ("individual forum", {"content": "forum", "operator": "individual"}, {"preapproval-forum": NP}),
    ("offshore sector content", {"server": "abroad", "content": "news,publishing,audio-visual,culture,drugs,forum"},
     {"preapproval-news": D, "preapproval-publishing": D, "preapproval-audio-visual": D, "preapproval-culture": D,
      "preapproval-drugs": D, "preapproval-forum": NN}),
    ("offshore medical and education stay open", {"server": "abroad", "content": "medical,education"},
     {"preapproval-medical": D, "preapproval-education": D}),
]


@pytest.fixture(scope="module")
def model() -> RegimeModel:
    return load_regime_model(DEFAULT_MODEL_PATH)


def values(facts: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(str(v).split(",")) for k, v in facts.items()}


@pytest.mark.parametrize(("name", "facts", "expected"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(model: RegimeModel, name: str, facts: dict[str, Any], expected: dict[str, str]) -> None:
    got = statuses(model, values(facts))
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("province", PILOT)
def test_pilot_areas_make_b25_for_a_wfoe_depend_on_the_service(model: RegimeModel, province: str) -> None:
    facts = {"operator": ("foreign-invested",), "paid": ("yes",), "province": (province,)}
    got = statuses(model, facts)
    assert (got["icp-licence"], got["foreign-ownership"]) == (D, D)
    outside = statuses(model, {**facts, "province": ("other",)})
    assert (outside["icp-licence"], outside["foreign-ownership"]) == (NP, NP)


def test_the_cases_reach_every_rule(model: RegimeModel) -> None:
    reached = {o.rule for _, facts, _ in CASES for o in evaluate(model, values(facts))}
    reached |= {o.rule for p in PILOT for o in evaluate(model, {"operator": ("foreign-invested",), "paid": ("yes",),
                                                                  "province": (p,)})}
    assert {r.id for _, r in model.rules()} - reached == set()


def test_own_goods_carries_the_official_versus_practice_conflict(model: RegimeModel) -> None:
    rows = {o.obligation: o for o in evaluate(model, {"sales": ("own-goods",)})}
    for obligation in ("icp-licence", "edi-licence"):
        conflict = rows[obligation].conflict
        assert conflict is not None and conflict.id == "own-goods-ecommerce"
        assert conflict.registry_conflict == "blog-payment-needs-licence"
        by_source = {p.source: p for p in conflict.positions}
        assert by_source["official-guidance"].status == Status.NOT_NEEDED
        assert by_source["common-practice"].status == Status.NEEDED
        assert any(c.practice and c.ref.startswith("guides/blog/") for c in by_source["common-practice"].cites)
    assert rows["icp-filing"].conflict is None
    # selling through a marketplace is not disputed: B21 is needed
    assert {o.obligation: o for o in evaluate(model, {"sales": ("marketplace",)})}["edi-licence"].conflict is None


def test_sector_rows_replace_the_general_pre_approval_row(model: RegimeModel) -> None:
    shown = [o.obligation for o in evaluate(model, {"content": ("news", "drugs")})]
    assert "preapproval" not in shown and {"preapproval-news", "preapproval-drugs"} <= set(shown)
    assert [o for o in shown if o.startswith("preapproval")] == ["preapproval-news", "preapproval-drugs"]


CORE = ("icp-filing", "icp-licence", "edi-licence", "app-filing", "psb-filing", "foreign-ownership")
GRID = {
    "operator": ("individual", "domestic-company", "foreign-invested", "foreign-company"),
    "server": ("mainland", "hk-macao-taiwan", "abroad"), "cdn": ("mainland", "none"),
    "service": ("website", "app", "mini-program", "api"), "paid": ("yes", "no"),
    "sales": ("none", "own-goods", "marketplace"), "content": ("none", "news"),
    "foreign-share": ("up-to-50", "over-50"), "province": ("other", "hainan"),
}


def test_invariants_hold_for_every_combination(model: RegimeModel) -> None:
    """Rules of law that must hold whatever else is true (6,912 combinations)."""
    for combo in itertools.product(*GRID.values()):
        facts = {k: (v,) for k, v in zip(GRID, combo, strict=True)}
        rows = {o.obligation: o for o in evaluate(model, facts)}
        got = {k: o.status.value for k, o in rows.items()}
        f = {k: v[0] for k, v in facts.items()}
        offshore = f["server"] != "mainland" and f["cdn"] == "none"
        assert set(CORE) <= set(got) and all(o.cites for o in rows.values()), f
        if offshore:
            assert got["icp-filing"] == NN and got["psb-filing"] in (NN,), f
        if f["operator"] in ("individual", "domestic-company"):
            assert got["foreign-ownership"] == NN, f
        if f["paid"] == "no" and f["sales"] == "none":
            assert got["icp-licence"] == NN and got["edi-licence"] == NN, f
        if f["operator"] == "individual" and f["paid"] == "yes" and not offshore and f["service"] != "mini-program":
            assert got["icp-licence"] == NP, f
        if f["operator"] == "foreign-company" and not offshore and f["service"] in ("website", "api"):
            assert got["icp-filing"] == NP and got["psb-filing"] == NP, f
        if f["sales"] == "marketplace" and not offshore and f["service"] != "mini-program":
            assert got["edi-licence"] == {"individual": NP, "foreign-company": NP}.get(f["operator"], N), f
        if f["content"] == "news" and f["operator"] != "domestic-company" and f["operator"] != "individual" and not offshore:
            assert got["foreign-ownership"] == NP, f
        if f["service"] in ("app", "mini-program") and f["operator"] != "foreign-company" and not offshore:
            assert got["app-filing"] == N, f
