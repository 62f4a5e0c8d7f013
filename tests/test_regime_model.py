"""The regime model file: the real one loads and cites only what exists; a malformed one is named precisely."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.corpus import scan_corpus
from assistant.errors import RegimeModelError
from assistant.regime import DEFAULT_MODEL_PATH, check_citations, load_regime_model
from assistant.registry import load_registry
from tests.fixtures import PROJECT_CORPUS, require_shared

RAW: dict[str, Any] = yaml.safe_load(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


def rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for o in data["obligations"] for r in o["rules"] if r["id"] == rule_id)


def obligation(data: dict[str, Any], obligation_id: str) -> dict[str, Any]:
    return next(o for o in data["obligations"] if o["id"] == obligation_id)


def fact(data: dict[str, Any], fact_id: str) -> dict[str, Any]:
    return next(f for f in data["facts"] if f["id"] == fact_id)


def test_the_real_model_loads_with_labels_and_aliases() -> None:
    model = load_regime_model(DEFAULT_MODEL_PATH)
    assert model.registry is not None and model.glossary is not None
    assert [f.id for f in model.facts][:3] == ["operator", "server", "service"]
    assert len(model.rules()) == sum(len(o.rules) for o in model.obligations) > 50


def test_every_citation_of_the_real_model_exists_in_the_corpus() -> None:
    shared = require_shared()
    model = load_regime_model(DEFAULT_MODEL_PATH)
    assert check_citations(model, [PROJECT_CORPUS, shared], load_registry(PROJECT_CORPUS / "registry.yml")) == []


def test_a_missing_article_or_statement_is_reported(tmp_path: Path) -> None:
    shared = require_shared()
    data = copy.deepcopy(RAW)
    rule(data, "filing-needed")["cites"][0]["article"] = 99
    rule(data, "b25-free")["cites"].append({"note": "no-such-statement"})
    rule(data, "b25-offshore")["cites"].append({"instrument": "order-292", "article": 4})
    path = tmp_path / "regime.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = check_citations(load_regime_model(path), [PROJECT_CORPUS, shared],
                               load_registry(PROJECT_CORPUS / "registry.yml"))
    assert problems == [
        "rule 'filing-needed': regulations/internet-information-services-measures-2024.zh.md has no article 99",
        "rule 'b25-free': note statement 'no-such-statement' is not in corpus/notes",
        "rule 'b25-offshore': instrument 'order-292' has a full text: cite its doc and article",
    ]


def test_the_model_file_is_data_not_an_indexed_document() -> None:
    doc_ids = {d.doc_id for d in scan_corpus([PROJECT_CORPUS]).documents}
    assert "regime.yml" not in doc_ids and any(d.startswith("notes/") for d in doc_ids)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("status typo", lambda d: rule(d, "filing-offshore").update(status="maybe"),
     "rule 'filing-offshore': field 'status': Input should be 'needed', 'not-needed', 'depends' or 'not-possible' "
     "(got 'maybe')"),
    ("reason missing", lambda d: rule(d, "b25-free").pop("reason"), "rule 'b25-free': field 'reason': Field required"),
    ("reason without Chinese", lambda d: rule(d, "b25-free")["reason"].pop("zh"),
     "rule 'b25-free': field 'reason.zh': Field required"),
    ("no cites", lambda d: rule(d, "b25-free").update(cites=[]),
     "rule 'b25-free': field 'cites': Tuple should have at least 1 item after validation, not 0"),
    ("two kinds in one cite", lambda d: rule(d, "b25-free")["cites"][0].update(note="x"),
     "rule 'b25-free': field 'cites[0]': a cite needs exactly one of doc, instrument, note. Got: ['doc', 'note']"),
    ("guide not marked practice", lambda d: rule(d, "filing-offshore")["cites"][2].pop("practice"),
     "rule 'filing-offshore': field 'cites[2]': guides/tencentcloud/tencentcloud-intl-beian-chang-jian-wen-ti-bei-an-"
     "qian-zi-xun-shi-fou-xu-yao-bei-an.zh.md is a provider guide: mark it 'practice: true'"),
    ("regulation without article", lambda d: rule(d, "filing-needed")["cites"][0].pop("article"),
     "rule 'filing-needed': field 'cites[0]': regulations/internet-information-services-measures-2024.zh.md is a "
     "regulation: cite an article"),
    ("article not a number", lambda d: rule(d, "filing-needed")["cites"][0].update(article="four"),
     "rule 'filing-needed': field 'cites[0].article': Input should be a valid integer, unable to parse string as an "
     "integer (got 'four')"),
    ("unknown field", lambda d: rule(d, "b25-free").update(staus="needed"),
     "rule 'b25-free': field 'staus': Extra inputs are not permitted"),
    ("rule without id", lambda d: obligation(d, "icp-filing")["rules"][0].pop("id"),
     "obligation 'icp-filing', rules[0]: field 'id': Field required"),
    ("id not kebab-case", lambda d: rule(d, "b25-free").update(id="B25 free"),
     "rule 'B25 free': field 'id': String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$' (got 'B25 free')"),
    ("unknown fact in a condition", lambda d: rule(d, "filing-offshore").update(when={"sever": ["abroad"]}),
     "rule 'filing-offshore': field 'when': unknown fact 'sever' (known: cdn, closed-content, content, foreign-share, "
     "has-app, has-web, mainland-access, mini-program-only, operator, paid, pilot-area, province, sales, server, service)"),
    ("unknown value in a condition", lambda d: rule(d, "b25-individual").update(when={"operator": ["persons"]}),
     "rule 'b25-individual': field 'when': fact 'operator' has no value persons (allowed: domestic-company, "
     "foreign-company, foreign-invested, individual)"),
    ("condition not a mapping", lambda d: rule(d, "b25-individual").update(when=["operator"]),
     "rule 'b25-individual': field 'when': a condition is a mapping of fact -> values. Got: ['operator']"),
    ("fallback with a condition", lambda d: rule(d, "b25-needed").update(when={"paid": ["yes"]}),
     "rule 'b25-needed': field 'when': the last rule of obligation 'icp-licence' is the fallback and must have no 'when'"),
    ("unreachable rule", lambda d: rule(d, "b25-free").pop("when"),
     "rule 'b25-free': field 'when': only the last rule may have no 'when' (later rules are never reached)"),
    ("duplicate rule id", lambda d: rule(d, "b25-free").update(id="b25-offshore"),
     "rule 'b25-offshore': field 'id': defined twice (rule ids are unique across obligations)"),
    ("unknown conflict", lambda d: rule(d, "b25-own-goods").update(conflict="no-such-conflict"),
     "rule 'b25-own-goods': field 'conflict': no conflict 'no-such-conflict' in 'conflicts'"),
    ("default not a value", lambda d: fact(d, "server").update(default="moon"),
     "fact 'server': field 'default': 'moon' is not one of its values (abroad, hk-macao-taiwan, mainland)"),
    ("two defaults for a single fact", lambda d: fact(d, "server").update(default=["mainland", "abroad"]),
     "fact 'server': field 'default': a single-valued fact needs exactly one default"),
    ("alias used twice", lambda d: fact(d, "server")["values"][0]["aliases"].append("hk"),
     "fact 'server': field 'values': value or alias 'hk' is used twice"),
    ("obligations missing", lambda d: d.pop("obligations"), "top level: field 'obligations': Field required"),
    ("bad review date", _set(["reviewed"], "soon"),
     "top level: field 'reviewed': Input should be a valid date or datetime, input is too short (got 'soon')"),
]


@pytest.mark.parametrize(("name", "change", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_model_names_the_file_the_entry_and_the_field(tmp_path: Path, name: str,
                                                                  change: Callable[[dict[str, Any]], None],
                                                                  message: str) -> None:
    data = copy.deepcopy(RAW)
    change(data)
    path = tmp_path / "regime.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RegimeModelError) as exc:
        load_regime_model(path)
    assert str(exc.value) == f"{path}: {message}"


@pytest.mark.parametrize(("content", "message"), [
    ("facts: [\n", "cannot read YAML (while parsing a flow node)"),
    ("- a list\n", "expected a mapping at the top level"),
])
def test_unreadable_files_are_reported_without_a_traceback(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "regime.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegimeModelError) as exc:
        load_regime_model(path)
    assert str(exc.value) == f"{path}: {message}"


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(RegimeModelError, match="cannot read YAML"):
        load_regime_model(tmp_path / "absent.yml")
