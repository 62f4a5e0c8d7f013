"""The evaluation dataset loader and the shipped question set (evals/datasets/faq.jsonl)."""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.evaluation.dataset import ContextRef, DatasetError, EvalItem, load_dataset
from assistant.text import chinese_number

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FAQ = PROJECT_ROOT / "evals" / "datasets" / "faq.jsonl"
DATASETS = FAQ.parent
SHARED_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
NOTE_INSTRUMENTS = {
    "miit-order-42", "telecom-catalogue", "negative-list-2024", "miit-2015-ecommerce-notice",
    "miit-2024-pilot-notice", "miit-2023-app-filing-notice", "miit-2017-domain-notice", "miit-order-43",
    "miit-order-68",
}
ARTICLE_LINE = re.compile(r"^第([零〇一二两三四五六七八九十百千]+)条", re.MULTILINE)


def make_row(**overrides: object) -> dict:
    row: dict = {
        "id": "faq-001",
        "user_input": "Does my blog need Bei'an?",
        "reference": "Yes. Non-commercial services need a filing.",
        "verdict": "Yes",
        "key_facts": ["Yes, a filing is required", "Individuals can file", "Filing system for free services"],
        "reference_context_ids": [{"doc_id": "regulations/x.zh.md", "article_no": 5},
                                  {"doc_id": "notes/instrument-miit-order-42.yml", "article_no": None}],
        "tags": {"topic": "filing-scope", "difficulty": "easy", "language": "en", "split": "dev"},
    }
    row.update(overrides)
    return row


def write_lines(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def dump(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False)


# ---------------------------------------------------------------- loader

def test_loads_items_into_frozen_records(tmp_path: Path) -> None:
    second = make_row(id="faq-002", verdict=None, reference_context_ids=[], as_of="2020-06-01",
                      tags={"topic": "out-of-scope", "difficulty": "easy", "language": "zh", "split": "test"})
    items = load_dataset(write_lines(tmp_path, [dump(make_row()), dump(second)]))

    assert [i.id for i in items] == ["faq-001", "faq-002"]
    first = items[0]
    assert isinstance(first, EvalItem)
    assert first.reference_context_ids == (ContextRef("regulations/x.zh.md", 5),
                                           ContextRef("notes/instrument-miit-order-42.yml", None))
    assert first.key_facts[0] == "Yes, a filing is required"
    assert first.as_of is None and not first.should_abstain
    assert items[1].as_of == date(2020, 6, 1) and items[1].should_abstain
    with pytest.raises(AttributeError):
        first.id = "other"  # type: ignore[misc]


def test_split_filter(tmp_path: Path) -> None:
    test_row = make_row(id="faq-002", tags={"topic": "t", "difficulty": "hard", "language": "zh", "split": "test"})
    path = write_lines(tmp_path, [dump(make_row()), dump(test_row)])
    assert [i.id for i in load_dataset(path, split="dev")] == ["faq-001"]
    assert [i.id for i in load_dataset(path, split="test")] == ["faq-002"]
    assert len(load_dataset(path)) == 2


def test_unknown_split_argument_is_an_error(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [dump(make_row())])
    with pytest.raises(DatasetError, match="Expected one of: dev, test"):
        load_dataset(path, split="train")


def test_dataset_error_is_an_assistant_error() -> None:
    assert issubclass(DatasetError, AssistantError)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"nope\.jsonl"):
        load_dataset(tmp_path / "nope.jsonl")


def _without(key: str) -> dict:
    row = make_row()
    del row[key]
    return row


BAD_LINES = {
    "invalid json": ('{"id": "faq-002", ', "invalid JSON"),
    "not an object": ("[1, 2]", "expected a JSON object"),
    "missing field": (dump(_without("reference")), "item 'faq-001': reference: missing — add 'reference'"),
    "unknown field": (dump(make_row(id="faq-002", answer="x")), "item 'faq-002': answer: unknown field"),
    "key_facts not a list": (dump(make_row(id="faq-002", key_facts="one fact")), "key_facts"),
    "verdict wrong type": (dump(make_row(id="faq-002", verdict=3)), "verdict"),
    "article_no string": (dump(make_row(id="faq-002", reference_context_ids=[{"doc_id": "a", "article_no": "5"}])),
                          "article_no"),
    "article_no bool": (dump(make_row(id="faq-002", reference_context_ids=[{"doc_id": "a", "article_no": True}])),
                        "article_no"),
    "ref missing key": (dump(make_row(id="faq-002", reference_context_ids=[{"doc_id": "a"}])), "reference_context_ids[0].article_no: missing"),
    "bad split": (dump(make_row(id="faq-002", tags={"topic": "t", "difficulty": "easy", "language": "en",
                                                    "split": "train"})), "tags.split"),
    "bad language": (dump(make_row(id="faq-002", tags={"topic": "t", "difficulty": "easy", "language": "fr",
                                                       "split": "dev"})), "tags.language"),
    "missing tag": (dump(make_row(id="faq-002", tags={"topic": "t", "language": "en", "split": "dev"})),
                    "item 'faq-002': tags.difficulty: missing"),
    "bad as_of": (dump(make_row(id="faq-002", as_of="2020/06/01")), "as_of"),
    "duplicate id": (dump(make_row()), "item 'faq-001': id: duplicate id (first on line 1)"),
    "blank line": ("   ", "blank line"),
}


@pytest.mark.parametrize("bad_line, expected", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_bad_line_names_file_and_line(tmp_path: Path, bad_line: str, expected: str) -> None:
    path = write_lines(tmp_path, [dump(make_row()), bad_line, dump(make_row(id="faq-003"))])
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path)
    message = str(excinfo.value)
    assert f"{path}:2:" in message
    assert expected in message


# ---------------------------------------------------------------- the shipped question set

@pytest.fixture(scope="module")
def faq_items() -> list[EvalItem]:
    return load_dataset(FAQ)


@cache
def articles_of(doc_id: str) -> frozenset[int]:
    text = (SHARED_CORPUS / doc_id).read_text(encoding="utf-8")
    return frozenset(chinese_number(n) for n in ARTICLE_LINE.findall(text))


def test_faq_size_splits_and_languages(faq_items: list[EvalItem]) -> None:
    assert len(faq_items) >= 80
    assert {i.tags.split for i in faq_items} == {"dev", "test"}
    assert {i.tags.language for i in faq_items} == {"en", "zh"}
    assert len({i.id for i in faq_items}) == len(faq_items)
    dev = len(load_dataset(FAQ, split="dev"))
    assert abs(dev - (len(faq_items) - dev)) <= len(faq_items) * 0.1


def test_faq_out_of_scope_items_abstain(faq_items: list[EvalItem]) -> None:
    out_of_scope = [i for i in faq_items if i.tags.topic == "out-of-scope"]
    assert len(out_of_scope) >= 10
    for item in out_of_scope:
        assert item.verdict is None and item.reference_context_ids == (), item.id
    for item in faq_items:
        if item.tags.topic != "out-of-scope":
            assert item.verdict and item.reference_context_ids, item.id


def test_faq_items_are_complete(faq_items: list[EvalItem]) -> None:
    for item in faq_items:
        assert re.fullmatch(r"faq-\d{3}", item.id), item.id
        assert 3 <= len(item.key_facts) <= 5, item.id
    assert any(i.as_of is not None for i in faq_items)


def test_faq_gold_sources_exist(faq_items: list[EvalItem]) -> None:
    refs = {ref for item in faq_items for ref in item.reference_context_ids}
    for ref in refs:
        if ref.doc_id.startswith("notes/"):
            match = re.fullmatch(r"notes/instrument-(.+)\.yml", ref.doc_id)
            assert match and match.group(1) in NOTE_INSTRUMENTS, ref
            assert ref.article_no is None, ref
    if not SHARED_CORPUS.is_dir():
        pytest.skip("shared corpus not found next to the project")
    for ref in refs:
        if ref.doc_id.startswith("notes/"):
            continue
        assert (SHARED_CORPUS / ref.doc_id).is_file(), ref
        if ref.article_no is not None:
            assert ref.article_no in articles_of(ref.doc_id), ref


BLIND = PROJECT_ROOT / "evals" / "blind" / "tencent.jsonl"


def test_the_held_back_set_is_test_only_and_rests_on_the_tencent_pages_alone() -> None:
    """``evals/blind``: never tuned on (no dev split), and its gold is only the pages the eval leaves out."""
    items = load_dataset(BLIND)
    assert len({i.id for i in items}) == len(items) >= 60
    assert {i.tags.split for i in items} == {"test"}
    for item in items:
        docs = {r.doc_id for r in item.reference_context_ids}
        assert (item.verdict is None) == (not docs) == (item.tags.topic == "out-of-scope"), item.id
        assert all(d.startswith("guides/tencentcloud/tencentcloud-intl-beian-") for d in docs), item.id
        if SHARED_CORPUS.is_dir():
            assert all((SHARED_CORPUS / d).is_file() for d in docs), item.id
    eval_gold = {r.doc_id for f in (PROJECT_ROOT / "evals" / "datasets").glob("*.jsonl")
                 for i in load_dataset(f) for r in i.reference_context_ids}
    assert not any(d.startswith("guides/tencentcloud/tencentcloud-intl-beian-") for d in eval_gold)


@pytest.mark.parametrize(("name", "out_of_scope"), [("fresh.jsonl", 10), ("final.jsonl", 10), ("latest.jsonl", 10),
                                                     ("night.jsonl", 10), ("helper.jsonl", 5), ("rules.jsonl", 5),
                                                     ("fresh8.jsonl", 5), ("fresh9.jsonl", 5),
                                                     ("fresh10.jsonl", 5), ("fresh11.jsonl", 5), ("fresh12.jsonl", 5),
                                                     ("fresh13.jsonl", 5), ("fresh14.jsonl", 5), ("fresh15.jsonl", 5),
                                                     ("fresh16.jsonl", 4), ("fresh17.jsonl", 4), ("provider18.jsonl", 4),
                                                     ("penalty19.jsonl", 4), ("fresh21.jsonl", 4),
                                                     ("story22.jsonl", 4)])
def test_the_other_held_back_sets_are_test_only_and_their_gold_exists(name: str, out_of_scope: int) -> None:
    """More held-back sets written by helpers from the shared corpus alone (issue #11: "judge every change by
    questions you did not write yourself"); ``fresh`` was looked at after its first run; ``final`` was only run,
    then read; ``latest`` was only run (2026-12-06, after the last change to the answers); ``night`` (its gold may
    include the Tencent Cloud pages) was run once on the previous stop's main and on this one, then read; ``helper``
    (2026-12-07, afternoon: Huawei Cloud, JD Cloud, Cloudflare and the regulations as sources, the project unseen)
    was run on that stop's first main and after its changes, then read; ``rules`` (the same afternoon, all the corpus as
    sources) asks what rules get wrong: several asks, figures, earlier law, one licence for another, inverse yes/no,
    named providers; it was read, and five fixes came from it. ``fresh8`` (evening: all the corpus, the project
    unseen, the hard passages asked for: a province's rule, a figure, an exception) was run once and read; two fixes
    came from it. ``fresh9`` (the same evening: terse English queries and the law's articles) was run once and read.
    ``fresh10`` (night: questions typed into a provider's support chat, procedures, terse and mixed-language) and
    ``fresh11`` (night: non-experts on the law in everyday words, scenarios with specifics) were run once and read.
    ``fresh12`` (40: all kinds, written after the round's last change) was run once on its end state and read.
    ``fresh13`` (45, the next round: support-chat procedures, the law in everyday words, situations) was run on that
    round's first main, read, and used in it; ``fresh14`` (40, written at the same time and kept unopened) was run once
    on that round's end state and read; ``fresh15`` (40) was written after a later change, run once and read, and two
    fixes came from it. ``fresh16`` (40: support-chat procedures typed as people type them) and ``fresh17`` (40: what the
    law says, asked by non-lawyers with their situation) were written at the start of the next stop, run once on its
    first main and read; one fix came from them (the words that ask about the law's past). ``provider18`` (30, each
    naming a cloud provider) was written during the next stop to check its one fix (notes matched without the providers a
    question names), run on the main before and after it (no lead line differs) and read. ``penalty19`` (30: what
    befalls who breaks a rule, in everyday words) was written by a helper while the penalty notes were being extended,
    run before and after that change and read. ``fresh21`` (30: app and mini-program filings, domains, changes and
    cancellation, hosting abroad, CDN, the licence, EDI, foreign ownership, pre-approval, in everyday words) was written
    at the start of the next stop with the project unseen, run before and after its change and read; one fix came from
    it (the "I" of hearsay tells no situation). ``story22`` (30: each message tells its situation before it asks) was
    written later in that stop with the project unseen, to measure what a story does to the judge's input; run before
    and after and read; one fix came from it (a question that only asks whether a claim is so gets no Yes or No)."""
    items = load_dataset(PROJECT_ROOT / "evals" / "blind" / name)
    assert len({i.id for i in items}) == len(items) >= (30 if name in ("provider18.jsonl", "penalty19.jsonl", "fresh21.jsonl", "story22.jsonl")
                                                           else 40)
    assert {i.tags.split for i in items} == {"test"}
    assert sum(i.should_abstain for i in items) >= out_of_scope
    if not SHARED_CORPUS.is_dir():
        return
    for item in items:
        for ref in item.reference_context_ids:
            assert (SHARED_CORPUS / ref.doc_id).is_file(), (item.id, ref)
            if ref.article_no is not None:
                assert ref.article_no in articles_of(ref.doc_id), (item.id, ref)


CALIBRATION = PROJECT_ROOT / "evals" / "datasets" / "calibration.jsonl"


def test_the_calibration_set_is_dev_only_and_its_gold_exists() -> None:
    """``calibration.jsonl``: more items for fitting the judge (written by helpers from the shared corpus alone, the
    Tencent pages left out); never on the test split, so the gate's figures stay on unseen items."""
    items = load_dataset(CALIBRATION)
    assert len({i.id for i in items}) == len(items) >= 90
    assert {i.tags.split for i in items} == {"dev"}
    assert sum(i.should_abstain for i in items) >= 20
    questions = [i.user_input for f in sorted((PROJECT_ROOT / "evals" / "datasets").glob("*.jsonl"))
                 for i in load_dataset(f)]
    assert len(set(questions)) == len(questions)
    for item in items:
        assert (item.verdict is None) == (not item.reference_context_ids) == item.should_abstain, item.id
        for ref in item.reference_context_ids:
            assert not ref.doc_id.startswith("guides/tencentcloud/"), (item.id, ref)
            if SHARED_CORPUS.is_dir():
                assert (SHARED_CORPUS / ref.doc_id).is_file(), (item.id, ref)
                if ref.article_no is not None:
                    assert ref.article_no in articles_of(ref.doc_id), (item.id, ref)


JUDGMENT = {"item": "faq-001", "unit": "guides/x.md#0:ab", "label": "answers", "why": "states the rule", "lead": "X: “…”"}


def test_judgments_load_into_a_label_per_item_and_unit(tmp_path: Path) -> None:
    from assistant.evaluation.dataset import load_judgments

    (tmp_path / "dev.jsonl").write_text(json.dumps(JUDGMENT) + "\n" + json.dumps({**JUDGMENT, "unit": "b#1", "label": "no"})
                                        + "\n", encoding="utf-8")
    assert load_judgments(tmp_path) == {("faq-001", "guides/x.md#0:ab"): "answers", ("faq-001", "b#1"): "no"}
    assert load_judgments(tmp_path / "missing") == {}  # no readings yet: the eval's proxy decides


@pytest.mark.parametrize(("lines", "expected"), [
    ([{**JUDGMENT, "label": "yes"}], "label"),
    ([JUDGMENT, {**JUDGMENT, "label": "no"}], "judged twice"),
    ([{k: v for k, v in JUDGMENT.items() if k != "lead"}], "lead"),
])
def test_a_bad_judgment_names_the_file_the_line_and_the_problem(tmp_path: Path, lines: list[dict[str, str]],
                                                                expected: str) -> None:
    from assistant.evaluation.dataset import load_judgments

    path = tmp_path / "leads.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(DatasetError, match=expected) as caught:
        load_judgments(path)
    assert "leads.jsonl" in str(caught.value) and f":{len(lines)}" in str(caught.value)


def test_the_committed_judgments_read_leads_of_known_items() -> None:
    from assistant.check import HELD_BACK, JUDGMENTS
    from assistant.evaluation.dataset import load_judgments

    items = {item.id: item for f in [*DATASETS.glob("*.jsonl"), *HELD_BACK.glob("*.jsonl")] for item in load_dataset(f)}
    judged = load_judgments(JUDGMENTS)
    assert judged and all(item_id in items for item_id, _ in judged)
    # the readings the judge is fitted on are of dev items only (the test and held-back readings only score)
    dev = {(i, u) for i, u in judged if items[i].tags.split == "dev"}
    assert len(dev) > 1000 and {label for key, label in judged.items() if key in dev} == {"answers", "partly", "no"}
