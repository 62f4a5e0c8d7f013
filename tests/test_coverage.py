"""Concept coverage: how much of what a question asks about a text mentions."""

from __future__ import annotations

from assistant.assistant import Assistant
from assistant.lexical import content_words, tokenize


def test_a_phrase_term_is_covered_by_its_aliases_or_by_all_the_words_it_was_matched_on(
        small_assistant: Assistant) -> None:
    """"Does an ICP filing expire?" is the glossary's filing-validity ("ICP filing expire"); the note that answers it
    says "Does an ICP filing number expire?" and "no set expiry date", none of the term's aliases. It scored no
    coverage of the question and led nothing (0.34 against the floor of 0.35); by its words it covers it (0.70)."""
    coverage = small_assistant.retriever.coverage
    concepts = coverage.concepts("Does an ICP filing expire?")
    assert [c.label for c in concepts] == ["filing-validity"] and concepts[0].words == ("icp", "filing", "expire")
    assert coverage.share(concepts, "Does an ICP filing number expire?") == 1.0
    assert coverage.share(concepts, "备案有效期") == 1.0  # an alias, in the other language
    assert coverage.share(concepts, "How long is an ICP filing reviewed?") == 0.0  # not every word: not this term
    assert coverage.missing(concepts, "Does an ICP filing number expire?") == 0.0


def test_a_word_asking_for_a_figure_is_no_concept_but_stays_a_search_word(small_assistant: Assistant) -> None:
    """"ICP备案号是不是有有效期？是不是过几年不续就自动失效了？": "几年" asks how long, it is not what the question is about. As
    a concept it made the note asked "ICP经营许可证有效期是几年？" cover the question better than the note on the filing's
    (no) expiry, which then lost the lead to the licence's "5年"."""
    question = "ICP备案号是不是有有效期？是不是过几年不续就自动失效了？"
    labels = [c.label for c in small_assistant.retriever.coverage.concepts(question)]
    assert "几年" not in labels and "失效" in labels
    assert "几年" not in content_words(question) and "几年" in tokenize(question)


def test_a_unit_misses_only_what_the_sentences_that_ask_ask_about(small_assistant: Assistant) -> None:
    """A story before the question ("the dev team dropped the footer in the redesign") made every unit miss its
    rarest word, and the judge read that as a unit that misses what is asked. The glossary terms of the whole message
    still count: the story says what "it" is."""
    coverage = small_assistant.retriever.coverage
    message = "Our site was redesigned and the footer dropped. Is a missing ICP filing number fineable?"
    concepts = coverage.concepts(message)
    asked = coverage.asked(concepts, "Is a missing ICP filing number fineable?")
    assert [c.label for c in concepts] == ["filing-number", "site", "footer", "dropped", "missing"]
    assert [c.label for c in asked] == ["filing-number", "missing"]
    text = "Does the site need to show its ICP filing number?"
    # the rarest concept the unit does not name: a story word before, a word of the question now
    assert coverage.missing(concepts, text) == next(c.weight for c in concepts if c.label == "footer")
    assert coverage.missing(asked, text) == next(c.weight for c in asked if c.label == "missing")
