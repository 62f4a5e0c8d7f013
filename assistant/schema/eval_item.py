"""The schema of one evaluation item (a line of ``evals/datasets/*.jsonl``).

Field names follow ragas (``user_input``, ``reference``, ``reference_context_ids``).
``assistant.evaluation.dataset`` builds its ``EvalItem`` records from the validated model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Article, Day, Strict, Text
from .describe import register_fields


class ContextRefSpec(Strict):
    """One gold source: a document and an article, or null for any part of the document."""

    doc_id: Text = Field(description="doc_id of a corpus file")
    article_no: Article | None = Field(description="article number, or null (any part of the document)")


class TagsSpec(Strict):
    topic: Text
    difficulty: Literal["easy", "medium", "hard"]
    language: Literal["en", "zh"]
    split: Literal["dev", "test"]


class EvalItemSpec(Strict):
    """One question with its reference answer and gold sources; verdict null = the assistant should abstain."""

    id: Text
    user_input: Text = Field(description="the question as a user writes it")
    reference: Text = Field(description="the reference answer")
    verdict: Text | None = Field(description="the expected direct answer; null for an abstention")
    key_facts: tuple[Text, ...]
    reference_context_ids: tuple[ContextRefSpec, ...]
    tags: TagsSpec
    as_of: Day | None = Field(None, description="answer from the texts in force on this date (YYYY-MM-DD)")


class LeadJudgmentSpec(Strict):
    """An expert's reading of one candidate lead for a dev question (a line of ``evals/judgments/*.jsonl``): does the
    line that unit would lead with answer the question that was asked?"""

    item: Text = Field(description="id of the dev item")
    unit: Text = Field(description="chunk_id of the unit that would lead")
    label: Literal["answers", "partly", "no"] = Field(description="answers the question / in part / not (something else)")
    why: Text = Field(description="the reason, in a few words")
    lead: Text = Field(description="the line that was read")


register_fields(EvalItemSpec, ContextRefSpec, TagsSpec, LeadJudgmentSpec)
