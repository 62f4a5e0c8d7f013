"""Retrieval: glossary expansion, hybrid ranking, version choice, note routing."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assistant.assistant import Assistant
from assistant.citations import without_providers
from assistant.compose import Composer, ComposerConfig
from assistant.lead import JudgeConfig
from assistant.models import PRIMARY_KINDS, Document, Kind, Status
from assistant.retrieval import (
    FIGURE_SENTENCE_TIE,
    HISTORY,
    SENTENCE_TIE,
    applicable_versions,
    asks_history,
    names_in_force,
)

O292 = "regulations/internet-information-services-measures-{}.zh.md"
ORDER33 = "regulations/non-commercial-internet-information-services-filing-measures-2005.zh.md"


def test_glossary_expands_english_terms_to_chinese(small_assistant: Assistant) -> None:
    expansions = small_assistant.retriever.expand("Does my blog need beian or an ICP Zheng?")
    assert "备案" in expansions
    assert any("经营许可证" in e for e in expansions)


def test_in_force_text_is_preferred_and_superseded_versions_are_left_out(small_assistant: Assistant) -> None:
    retrieval = small_assistant.retriever.retrieve("互联网信息服务 经营性 非经营性 分类", k=20)
    docs = {h.chunk.doc_id for h in retrieval.hits}
    assert O292.format(2024) in docs
    assert O292.format(2011) not in docs
    assert all(h.document.status != Status.SUPERSEDED for h in retrieval.hits)


def test_as_of_a_past_date_uses_the_version_then_in_force(small_assistant: Assistant) -> None:
    retrieval = small_assistant.retriever.retrieve("互联网信息服务 经营性 非经营性 分类", as_of=date(2020, 6, 1), k=20)
    docs = {h.chunk.doc_id for h in retrieval.hits}
    assert O292.format(2011) in docs
    assert O292.format(2024) not in docs


def test_applicable_versions_picks_one_version_per_instrument(small_assistant: Assistant) -> None:
    documents = small_assistant.index.documents
    for day, expected in ((date(2012, 1, 1), 2011), (date(2025, 3, 1), 2024)):
        chosen = applicable_versions(documents, day, history=False)
        assert O292.format(expected) in chosen
        assert sum(1 for d in chosen if d.startswith("regulations/internet-information-services")) == 1


@pytest.mark.parametrize(("question", "history"), [
    ("What did the original 2000 text say?", True),
    ("修订前的规定是什么？", True),
    ("back in 2019, was a track record needed?", True),
    ("Does my blog need filing?", False),
    ("个人网站需要备案吗", False),
    ("Under the original 2016 Cybersecurity Law, what fines applied?", True),
    ("Did the old version of the provisions require a track record?", True),
    ("以前的规定要求放电子验证标识吗？", True),
    # the user's own past, not the law's
    ("Do we have to update the IP address that was filed with the old provider?", False),
    ("It says the ID 'has already been used to submit a filing application' and the order is pending", False),
    ("网上有文章说做医疗网站，办ICP之前必须先拿卫生部门同意，现在还是这样吗？", False),
    ("域名之前在别家备案过，现在服务器迁到腾讯云在做接入备案", False),
    ("网站迁到别家云了，原来那家让我选“取消接入”还是“注销备案”", False),
])
def test_history_intent(question: str, history: bool) -> None:
    """A question about the law at another time. "old", "之前" and "原来" mostly tell the user's own past, which asks
    about the law as it stands (notes answer it; superseded texts stay out)."""
    assert bool(HISTORY.search(question)) is history


def test_a_year_in_the_name_of_a_text_in_force_does_not_ask_about_history() -> None:
    """"2024年版外商投资负面清单" names the negative list in force (《…（负面清单）（2024年版）》): the question is about
    the law as it stands, and the notes (the only cover of that list) may answer it. Another year still asks
    about the past, and so do "as of mid-2025" and "2020年的时候"."""
    def doc(doc_id: str, title: str, status: Status) -> Document:
        return Document(doc_id=doc_id, root="r", title=title, title_en="", kind=Kind.NOTICE, language="zh", body="x",
                        status=status)
    documents = names_in_force({"a": doc("a", "《外商投资准入特别管理措施（负面清单）（2024年版）》电信相关条目", Status.IN_FORCE),
                                "b": doc("b", "《外商投资准入特别管理措施（负面清单）（2021年版）》", Status.SUPERSEDED)})
    assert not asks_history("2024年版外商投资负面清单对增值电信业务是怎么规定的？", documents)
    assert asks_history("2021年版外商投资负面清单对增值电信业务是怎么规定的？", documents)
    assert asks_history("As of mid-2025, which articles covered real-name registration?", documents)
    assert asks_history("2020年的时候，外商投资电信企业在法规里是怎么定义的？", documents)
    assert not asks_history("负面清单对增值电信业务是怎么规定的？", documents)


def test_naming_the_earlier_law_to_ask_whether_it_holds_now_asks_about_the_law_in_force() -> None:
    """The note that tells what changed answers it (with the notes off, a FAQ on licence numbers led); with a year
    named the question compares that text with today's, and both versions stay in play."""
    assert HISTORY.search("以前的规定要求网站放电子验证标识，现在还要吗？")
    assert not asks_history("以前的规定要求网站放电子验证标识，现在还要吗？", frozenset())
    assert not asks_history("Did the old rules require a verification file? Do they still?", frozenset())
    assert asks_history("以前的规定要求网站放电子验证标识吗？", frozenset())
    assert asks_history("Under the 2011 version, did a medical site need approval? Is that still in the current text?",
                        frozenset())


def test_note_hits_route_to_the_articles_they_cite(small_assistant: Assistant) -> None:
    retrieval = small_assistant.retriever.retrieve("个人网站需要备案吗", k=8)
    routed = [h.chunk for h in retrieval.routed]
    note_positions = [i for i, c in enumerate(routed) if c.doc_id.startswith("notes/")]
    assert note_positions
    assert any(c.doc_id == ORDER33 and c.article_no == 5 for c in routed)


def test_question_words_missing_from_the_corpus_are_reported(small_assistant: Assistant) -> None:
    assert small_assistant.retriever.retrieve("xyzzy plugh").known_terms == ()
    assert "备案" in small_assistant.retriever.retrieve("备案 xyzzy").known_terms


@pytest.mark.slow
@pytest.mark.parametrize(("question", "doc_id", "article_no"), [
    ("Does my personal blog need Bei'an?", ORDER33, 5),
    ("How long does the communications administration have to process an ICP filing?", ORDER33, 12),
    ("Can a WFOE hold an ICP Zheng?", "regulations/foreign-invested-telecom-enterprises-provisions-2022.zh.md", 6),
    ("个人网站需要备案吗？", ORDER33, 5),
    ("未取得经营许可证擅自从事经营性互联网信息服务，怎么处罚？", O292.format(2024), 19),
    # near the out-of-scope "办营业执照要多久？" (company registration): once declined as not covered
    ("How long does it take to get an ICP licence approved?", O292.format(2024), 7),
])
def test_real_model_reaches_the_chinese_article(full_assistant: Assistant, question: str, doc_id: str,
                                               article_no: int) -> None:
    answer = full_assistant.ask(question)
    cited = [(c.doc_id, c.article_no) for c in answer.citations]
    assert (doc_id, article_no) in cited, cited
    assert (doc_id, article_no) in [(h.chunk.doc_id, h.chunk.article_no) for h in answer.retrieved]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "doc_id", "article_no"), [
    # Art. 24 punishes breaking Art. 18 without restating it: it is reached through "<what Art. 18 forbids>会受到什么
    # 处罚？" (asked.py), and was below the 200th unit before
    ("What's the penalty for a hosting provider that gives access to a site without a beian?", ORDER33, 24),
    ("Penalty for not showing the beian number on the homepage?", O292.format(2024), 22),
])
def test_an_english_question_reaches_the_article_through_the_question_it_answers(
        full_assistant: Assistant, question: str, doc_id: str, article_no: int) -> None:
    ranked = [(h.chunk.doc_id, h.chunk.article_no) for h in full_assistant.ask(question).ranked[:5]]
    assert (doc_id, article_no) in ranked, ranked


@pytest.mark.slow
def test_the_article_bm25_finds_first_is_among_the_first_five(full_assistant: Assistant) -> None:
    from assistant.retrieval import HybridRetriever, RetrievalConfig

    # the glossary's Chinese names bring the Telecommunications Regulations Art. 14 (where a value-added licence is applied
    # for, and the cross-regional licence) first in the BM25 ranking; the dense ranking has it about 150th (first seen
    # with Order 292 Art. 14 for a forum's logs, which a note on log retention now lifts)
    question = ("Our SaaS (paid) will serve customers in Guangdong, Shanghai and Beijing. Do we apply for the VATS licence "
                "at the provincial bureau or at MIIT?")
    article = ("regulations/telecommunications-regulations-2016.zh.md", 14)
    retriever = full_assistant.retriever
    assert article in [(h.chunk.doc_id, h.chunk.article_no) for h in retriever.retrieve(question).hits[:5]]
    without = HybridRetriever(full_assistant.index, retriever.embedder, retriever.glossary,
                              RetrievalConfig(lexical_primary=False))
    assert article not in [(h.chunk.doc_id, h.chunk.article_no) for h in without.retrieve(question, k=24).hits]


@pytest.mark.slow
def test_a_filing_question_is_not_answered_with_the_licences_rule(full_assistant: Assistant) -> None:
    # Order 292 Art 7 (the licence: 60 days) once led for the filing's review time (MII Order 33: 20 working days)
    answer = full_assistant.ask("How long does the communications administration have to process an ICP filing?")
    assert answer.verdict is not None and "20" in answer.verdict and "60" not in answer.verdict, answer.verdict


@pytest.mark.parametrize(("question", "generic"), [
    ("我们网站之前在阿里云备过案，现在换到华为云了，要重新备案吗？", "我们网站之前在云服务商备过案，现在换到云服务商了，要重新备案吗？"),
    ("Moved from Alibaba Cloud to tencent cloud, new ICP number?", "Moved from a cloud provider to a cloud provider, new ICP number?"),
    ("can i file on huawei-cloud or jdcloud?", "can i file on a cloud provider or a cloud provider?"),
    ("Does a site behind Cloudflare China need beian?", "Does a site behind a cloud provider China need beian?"),
    ("腾讯备案要多久", "云服务商备案要多久"),
    ("Does my personal blog need Bei'an?", "Does my personal blog need Bei'an?"),  # names none: unchanged
])
def test_without_providers_puts_each_named_provider_generically(question: str, generic: str) -> None:
    assert without_providers(question) == generic


@pytest.mark.slow
def test_a_note_is_matched_against_the_question_without_the_providers_it_names(full_assistant: Assistant) -> None:
    # The note on registrars names no provider; the question's "huawei cloud" kept it out of the first 24 units.
    question = "registered my .com at godaddy. can i use it as-is for ICP filing on huawei cloud or do i have to move it?"
    answer = full_assistant.ask(question)
    assert answer.lead_from == "note" and answer.verdict is not None, answer.points[:1]
    assert "MIIT-approved registrar" in answer.verdict, answer.verdict


def test_a_question_naming_a_provider_lifts_that_providers_guide(small_assistant: Assistant) -> None:
    from dataclasses import replace

    retriever = small_assistant.retriever
    tencent = "guides/tencentcloud/"
    # The small index's Tencent page is English. Under the fake embedder "腾讯云 备案对象" reached it by chance, and lost
    # it once the notes' phrasings were also matched against "云服务商 备案对象" (``without_providers``); on the real
    # index that matching left the named provider's guide in the candidates of all 283 of 289 eval and held-back
    # questions that had it, and in the first five of the same 269 (2026-12-07).
    named, plain = "Tencent Cloud 备案对象", "备案对象"

    def first_tencent(question: str, boost: float) -> int:
        original = retriever.config
        retriever.config = replace(original, provider_boost=boost)
        try:
            hits = retriever.retrieve(question, k=60).hits
        finally:
            retriever.config = original
        return next((i for i, h in enumerate(hits) if h.chunk.doc_id.startswith(tencent)), len(hits))

    assert first_tencent(named, 3.0) < first_tencent(named, 1.0)
    assert first_tencent(plain, 3.0) == first_tencent(plain, 1.0)  # no provider named: no change


def test_the_first_five_hold_one_section_per_guide_page_and_any_number_of_articles(small_assistant: Assistant) -> None:
    retriever = small_assistant.retriever
    for question in ("备案需要多久？", "How do I cancel my ICP filing?", "外资可以持股多少？"):
        hits = retriever.retrieve(question, k=24).hits
        guides = [h.chunk.doc_id for h in hits[:5] if h.document.kind not in PRIMARY_KINDS]
        assert len(guides) == len(set(guides)), (question, guides)
        # nothing is dropped: the units moved out of the first five follow them
        again = retriever.retrieve(question, k=24).hits
        assert [h.chunk.chunk_id for h in again] == [h.chunk.chunk_id for h in hits]
    # the rule itself: a page's second section moves below the first five, an article's neighbour does not
    units = retriever.units
    guide = next(d for d in dict.fromkeys(units.doc_ids) if d.startswith("guides/")
                 and sum(1 for x in units.doc_ids if x == d) >= 2)
    law = next(d for i, d in enumerate(units.doc_ids) if retriever.is_primary[i]
               and sum(1 for j, x in enumerate(units.doc_ids) if x == d and retriever.is_primary[j]) >= 2)
    g1, g2 = [i for i, d in enumerate(units.doc_ids) if d == guide][:2]
    a1, a2 = [i for i, d in enumerate(units.doc_ids) if d == law][:2]
    others = [units.doc_ids.index(d) for d in dict.fromkeys(units.doc_ids) if d not in (guide, law)][:6]  # one each
    order = [g1, g2, a1, a2, *others]
    assert retriever._one_per_document(order) == [g1, a1, a2, others[0], others[1], g2, *others[2:]]


def test_without_notes_the_lexical_ranking_weighs_as_much_as_the_dense_one(small_assistant: Assistant,
                                                                           tmp_path: Path) -> None:
    from assistant.assistant import Assistant as Built
    from assistant.ingest import ingest
    from tests.fixtures import SMALL_SUBSET, fake_settings

    with_notes = small_assistant.retriever
    assert with_notes.dense_weight == with_notes.config.dense_weight == 2.0
    texts_only = fake_settings(tmp_path, SMALL_SUBSET)  # the shared texts alone: no notes, no registry
    ingest(texts_only)
    retriever = Built.from_settings(texts_only).retriever
    assert not any(retriever.statements)
    assert retriever.dense_weight == retriever.config.dense_weight_without_notes == 1.0
    # and only there a Chinese question gets the other Chinese names of its terms for BM25 (no note paraphrase
    # carries "网站备案" to the law's "非经营性互联网信息服务备案")
    assert "非经营性互联网信息服务备案" in retriever.expand("个人可以做网站备案吗？")
    assert with_notes.expand("个人可以做网站备案吗？") == ()
    # and the lead floor is the one chosen for an index without notes: a unit at 0.4 leads there, not beside notes
    judge = JudgeConfig(weights={"bias": math.log(0.4 / 0.6)}, lead=0.45, lead_without_notes=0.35, related=0.05)
    question = "Does a personal blog need an ICP filing?"
    for source, leads in [(with_notes, False), (retriever, True)]:
        composer = Composer(source, ComposerConfig(judge=judge))
        assert composer.lead_floor == composer.judge.config.lead == (0.35 if leads else 0.45)  # ranks with it too
        answer = composer.compose(question, "en", source.retrieve(question, k=24))
        assert (answer.lead_from not in ("none", "")) is leads, answer.lead_from


def test_derived_questions_only_match_their_article(small_assistant: Assistant) -> None:
    units, chunks = small_assistant.retriever.units, small_assistant.retriever.index.chunks
    derived = [i for ids in units.derived for i in ids]
    assert derived and all(chunks[i].facet == "derived" for i in derived)
    # never a unit's own chunk (what is cited), a question phrasing or a sentence to quote
    assert not any(chunks[i].facet for ids in units.members for i in ids)
    assert not {chunks[i].facet for ids in units.questions + units.sentences for i in ids} - {"question", "sentence"}
    assert all(units.doc_ids[int(units.unit_of[i])] == chunks[i].doc_id for i in derived)


def test_an_articles_quoted_sentence_names_what_the_question_asks_about(small_assistant: Assistant) -> None:
    """FIE Provisions Art. 6 opens with basic telecom's 49 %; "外资想做增值电信业务…外方股比最高能到多少？" is a shade closer
    to it by cosine (0.607) than to the value-added sentence (0.591, 50 %). Within ``SENTENCE_TIE`` the sentence naming
    more of the question's concepts is quoted; further behind, meaning wins."""
    retriever = small_assistant.retriever
    index = small_assistant.index
    article = next(c for c in index.chunks if c.doc_id.startswith("regulations/foreign-invested-telecom")
                   and c.article_no == 6 and not c.facet)
    own = [j for j, c in enumerate(index.chunks) if c.facet == "sentence" and c.parent == article.chunk_id]
    basic = next(j for j in own if "49%" in index.chunks[j].text)
    added = next(j for j in own if "50%" in index.chunks[j].text)
    question = "外资想做增值电信业务，外方股比最高能到多少？"
    scores = np.zeros(len(index.chunks))
    scores[basic], scores[added] = 0.607, 0.607 - SENTENCE_TIE / 2
    assert "50%" in retriever.best_sentence(article, scores, question).text
    scores[added] = 0.607 - 2 * SENTENCE_TIE
    assert "49%" in retriever.best_sentence(article, scores, question).text
    assert retriever.best_sentence(article, None, question) is None  # no dense scores: nothing to choose by
    # among sentences that all state the share asked for, concepts decide a little further behind
    # ("外方出资比例上限是多少？": 0.610 against 0.588)
    scores[added] = 0.607 - (SENTENCE_TIE + FIGURE_SENTENCE_TIE) / 2
    assert "49%" in retriever.best_sentence(article, scores, question).text
    assert "50%" in retriever.best_sentence(article, scores, question, lambda t: "%" in t).text


def test_the_sample_that_scales_z_scores_moves_by_one_when_a_phrasing_is_added() -> None:
    from assistant.retrieval import stable_sample

    keys = {i: f"notes/n{i % 7}.yml#{i}:{i * 7919 % 1000:04x}" for i in range(1000)}
    before = stable_sample(list(range(900)), keys.__getitem__, 400)
    after = stable_sample(list(range(901)), keys.__getitem__, 400)
    assert len(before) == len(after) == 400 and before == sorted(before)
    assert len(set(before) - set(after)) <= 1  # a random draw over the longer list would replace most of it
    assert stable_sample([3, 1, 2], keys.__getitem__, 10) == [1, 2, 3]
