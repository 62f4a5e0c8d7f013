"""The asks of one message. Users put several questions in one ("Do we have to update our filing? Is there a
deadline, and what's the fine if we don't?"); no single passage answers all of them, so the whole message
found no unit that answers it, and the assistant said it had no direct answer although each ask has one.
Each ask is answered on its own (``Composer.compose``'s ``asks``); the words before the first question mark
(the user's situation) stay with the first ask.

Measured 2026-12-06 (full configuration; right / wrong / no direct answer): a second held-back set of 35
in-scope questions (`evals/blind/fresh.jsonl`) 14 / 8 / 13 -> 19 / 8 / 8, out of scope abstained 9 -> 8 of 10;
the Tencent held-back set 28 / 10 / 22 -> 29 / 10 / 21; eval dev 65 / 18 / 10 -> 65 / 19 / 9, test 61 / 17 / 13 ->
63 / 17 / 11 (evals/README.md).

Rules, not a parser: a message is split after each question mark, and inside a sentence before ", and what/how/
is …" or "，另外/还有…". A piece too short to be a question on its own, or a closing remark without a question
mark ("trying to explain the risk to my CEO"), stays with the ask before it.
"""

from __future__ import annotations

import re

from .text import mostly_chinese

MAX_ASKS = 4
_QUESTION_END = re.compile(r"(?<=[?？])\s*")
_WH = r"what|whats|what's|how|when|where|which|who|why|is|are|do|does|did|can|could|will|would|should|must|may"
# ", and what …", "; is …", "，另外…": a second ask inside one sentence ("or" joins alternatives of one ask)
_JOIN = re.compile(rf",?\s+(?:and|plus)(?:\s+also)?\s+(?=(?:{_WH})\b)|[,;]\s+(?=(?:{_WH})\b)|"
                   r"[，,；;]\s*(?=(?:另外|还有|以及|并且|同时|那|如果|是不是|是否|能不能|可不可以|要不要|需不需要|有没有))",
                   re.IGNORECASE)
# A piece that asks: a question mark, a clause that opens with a question word, a Chinese question word or particle.
_ASKS = re.compile(rf"[?？]\s*$|(?:^|[.!:。！：—-]\s*)(?:{_WH})\b|吗|呢|么|啥|什么|怎么|怎样|如何|多少|多久|几|哪|是否|能否|可否|"
                   r"是不是|能不能|可不可以|要不要|需不需要|有没有|会不会", re.IGNORECASE)


def split_asks(message: str) -> list[str]:
    """The asks of ``message`` in order (one element when it asks one thing; at most ``MAX_ASKS``). Words that
    ask nothing ("As of 2020,", "我们公司被收购了，") go with the ask after them; a closing remark with the last."""
    pieces: list[str] = []
    carry = ""
    for sentence in _QUESTION_END.split(message.strip()):
        for part in _JOIN.split(sentence):
            part = part.strip()
            if not part or not re.search(r"\w", part):
                continue
            text = f"{carry} {part}" if carry else part
            if _ASKS.search(part) and _is_question_sized(part):
                pieces.append(text)
                carry = ""
            else:
                carry = text
    if carry:
        pieces = [*pieces[:-1], f"{pieces[-1]} {carry}"] if pieces else [carry]
    if len(pieces) > MAX_ASKS:
        pieces = [*pieces[: MAX_ASKS - 1], " ".join(pieces[MAX_ASKS - 1:])]
    return pieces if len(pieces) > 1 else [message.strip()]


# A sentence ends at a full stop, question or exclamation mark ("example.com" is one word: a full stop ends one only
# before a space).
_ANY_SENTENCE_END = re.compile(r"(?<=[。！？!?])\s*|(?<=\.)\s+")


def asking_part(message: str) -> str:
    """The sentences of ``message`` that ask, without the story told around them ("Got our MIIT ICP filing done last
    month. Someone on a forum said … What's the actual penalty if we skip it?" -> its last sentence); the message
    itself when it is one sentence or none of its sentences asks."""
    sentences = [s for s in _ANY_SENTENCE_END.split(message.strip()) if s.strip()]
    asking = [s.strip() for s in sentences if _ASKS.search(s)] if len(sentences) > 1 else []
    return " ".join(asking) or message.strip()


def retrieval_query(asks: list[str], i: int) -> str:
    """What ask ``i`` is retrieved with: a later ask carries the first with it. Later asks lean on it ("whats the
    fine if we just dont bother?" after "Do we have to update our ICP beian?"); alone they were answered about
    something else (a Cybersecurity Law fine)."""
    return f"{asks[0]} {asks[i]}" if i > 0 else asks[0]


def _is_question_sized(piece: str) -> bool:
    words = piece.strip(" ?？,，;；.。").split()
    return len(piece.strip()) >= 5 if mostly_chinese(piece) else len(words) >= 3


LABEL = {"en": "On “{ask}”:", "zh": "关于“{ask}”："}
# A line that answers one ask of several starts with its label; what the line states follows it.
ASK_LABEL = re.compile(r"^\s*(?:On “[^”]*”:|关于“[^”]*”：)\s*")
# (a full stop ends a sentence before a space: "mail.xxx.com" is one word, and once labelled an ask "com 访问)…")
_SENTENCE_END = re.compile(r"(?<=[!。！：:])\s*|(?<=\.)(?:\s+|$)")
_CLAUSE_END = re.compile(r"(?<=[，,；;])\s*")


def ask_label(ask: str, lang: str) -> str:
    """'On “Is there a deadline?”:' for a line answering that ask: its last sentence (not the situation told
    before it), or its last clause that asks when that sentence is long; cut to 80 characters."""
    sentences = [p.strip() for p in _SENTENCE_END.split(ask.strip()) if re.search(r"\w", p)]
    clause = " ".join(sentences[-2:] if sentences and not _is_question_sized(sentences[-1]) else sentences[-1:])
    clause = clause or ask.strip()
    if len(clause) > 80:
        clause = _last([c for c in _CLAUSE_END.split(clause) if _ASKS.search(c)]) or clause
    clause = clause.replace("“", "\"").replace("”", "\"")
    if len(clause) > 80:
        clause = clause[:79].rstrip() + "…"
    return LABEL[lang].format(ask=clause)


def _last(pieces: list[str]) -> str:
    return next((p.strip() for p in reversed(pieces) if re.search(r"\w", p)), "")
