"""Render a ``RegimeResult``: Markdown for the chat, plain text for support tickets, a JSON-able dict.

Every row carries its status, its one-line reason and its sources; the facts used (stated, given or
assumed), what changes if an assumption is wrong, and the follow-up question come after the table.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .model import Status
from .records import Change, Cite, ConflictView, FactSource, FactValue, Outcome, RegimeResult

STATUS_LABELS = {
    Status.NEEDED: ("Needed", "需要"),
    Status.NOT_NEEDED: ("Not needed", "不需要"),
    Status.DEPENDS: ("Depends", "视情况而定"),
    Status.NOT_POSSIBLE: ("Not possible", "无法办理"),
}
SOURCE_LABELS = {FactSource.STATED: ("stated", "您提到"), FactSource.GIVEN: ("given", "已指定"),
                 FactSource.ASSUMED: ("assumed", "假定")}
TEXTS = {
    "title": ("Which filings and licences apply", "需要办理哪些备案和许可"),
    "intro": ("Based on the facts listed below; assumed facts are marked. Not legal advice.",
              "依据下列事实得出，假定的事实已标明。不构成法律意见。"),
    "head": ("| Obligation | Status | Why | Sources |", "| 事项 | 结论 | 理由 | 依据 |"),
    "facts": ("Facts used", "所依据的事实"),
    "whatif": ("If an assumption is wrong", "如果假定不成立"),
    "disputed": ("Disputed", "存在分歧"),
    "ask": ("To be sure, tell me", "为确认，请告诉我"),
    "not_shown": ("not applicable", "不适用"),
}


def _t(key: str, lang: str) -> str:
    en, zh = TEXTS[key]
    return zh if lang == "zh" else en


def _pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def status_label(status: Status | None, lang: str) -> str:
    if status is None:
        return _t("not_shown", lang)
    en, zh = STATUS_LABELS[status]
    return _pick(lang, en, zh)


def cite_text(cite: Cite, lang: str) -> str:
    return _pick(lang, cite.label_en, cite.label_zh) or cite.ref


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fact_line(fact: FactValue, lang: str, missing: tuple[str, ...]) -> str:
    value = _pick(lang, fact.label_en, fact.label_zh) + (f" ({fact.detail})" if fact.detail else "")
    source = _pick(lang, *SOURCE_LABELS[fact.source])
    if fact.source == FactSource.ASSUMED and fact.fact not in missing:
        source += _pick(lang, " (no effect here)", "（对本结论无影响）")
    quoted = f": “{fact.span}”" if fact.span else ""
    return f"{_pick(lang, fact.name_en, fact.name_zh) or fact.fact}: {value} — {source}{quoted}"


def change_line(change: Change, lang: str) -> str:
    """'If servers: in Hong Kong — ICP filing: Needed → Not needed; …' (plain, unescaped)."""
    name = _pick(lang, change.name_en, change.name_zh) or change.fact
    what = _pick(lang, f"If {name.lower()}: {change.alternative_en}", f"如果{name}：{change.alternative_zh}")
    rows = [f"{_pick(lang, c.label_en, c.label_zh)}: "
            + (status_label(c.after, lang) if c.before is None else f"{status_label(c.before, lang)} → {status_label(c.after, lang)}")
            for c in change.changes if c.after is not None]  # a row that disappears is replaced by one that appears
    return f"{what} — " + "; ".join(rows)


def _conflict_lines(conflict: ConflictView, lang: str) -> list[str]:
    lines = [f"{_t('disputed', lang)} — {_pick(lang, conflict.title_en, conflict.title_zh)}"]
    for p in conflict.positions:
        sources = "; ".join(cite_text(c, lang) for c in p.cites)
        lines.append(f"- {p.source} ({status_label(p.status, lang)}): {_pick(lang, p.view_en, p.view_zh)} [{sources}]")
    lines.append(f"- {_pick(lang, conflict.resolution_en, conflict.resolution_zh)}")
    return lines


def _conflicts(result: RegimeResult) -> list[ConflictView]:
    return list({o.conflict.id: o.conflict for o in result.outcomes if o.conflict}.values())


def _follow_up_line(result: RegimeResult, lang: str) -> str:
    ask = result.follow_up
    if ask is None:
        return ""
    options = " / ".join(_pick(lang, o.label_en, o.label_zh) for o in ask.options)
    return f"{_pick(lang, ask.question_en, ask.question_zh)} ({options})"


def _row(outcome: Outcome, lang: str) -> str:
    reason = _pick(lang, outcome.reason_en, outcome.reason_zh)
    conditions = _pick(lang, outcome.conditions_en, outcome.conditions_zh)
    why = reason + (f" *{conditions}*" if conditions else "")
    sources = "; ".join(cite_text(c, lang) for c in outcome.cites)
    return f"| {_cell(_pick(lang, outcome.label_en, outcome.label_zh))} | **{status_label(outcome.status, lang)}** | {_cell(why)} | {_cell(sources)} |"


def regime_markdown(result: RegimeResult, lang: str | None = None) -> str:
    """The answer for the chat: table, disputes, facts used, what-ifs and one follow-up question."""
    lang = lang or result.language
    lines = [f"**{_t('title', lang)}** — {_t('intro', lang)}", "", _t("head", lang), "|---|---|---|---|"]
    lines += [_row(o, lang) for o in result.outcomes]
    for conflict in _conflicts(result):
        lines += ["", *(f"**{line}**" if i == 0 else line for i, line in enumerate(_conflict_lines(conflict, lang)))]
    lines += ["", f"**{_t('facts', lang)}**", *(f"- {_fact_line(f, lang, result.missing)}" for f in result.facts)]
    if result.what_if:
        lines += ["", f"**{_t('whatif', lang)}**", *(f"- {change_line(c, lang)}" for c in result.what_if)]
    if result.follow_up:
        lines += ["", f"**{_t('ask', lang)}:** {_follow_up_line(result, lang)}"]
    return "\n".join(lines)


def regime_text(result: RegimeResult, lang: str | None = None) -> str:
    """Plain text for a support ticket: the question, the facts, then every row with its sources."""
    lang = lang or result.language
    lines = [_t("title", lang), _t("intro", lang), ""]
    if result.question:
        lines += [_pick(lang, "Question: ", "问题：") + result.question, ""]
    lines += [_t("facts", lang) + ":", *(f"  {_fact_line(f, lang, result.missing)}" for f in result.facts), ""]
    for o in result.outcomes:
        lines.append(f"* {_pick(lang, o.label_en, o.label_zh)}: {status_label(o.status, lang).upper()}")
        lines.append(f"    {_pick(lang, 'Why', '理由')}: {_pick(lang, o.reason_en, o.reason_zh)}")
        if o.conditions_en:
            lines.append(f"    {_pick(lang, 'Note', '说明')}: {_pick(lang, o.conditions_en, o.conditions_zh)}")
        lines.append(f"    {_pick(lang, 'Sources', '依据')}: " + "; ".join(cite_text(c, lang) for c in o.cites))
    for conflict in _conflicts(result):
        lines += ["", *_conflict_lines(conflict, lang)]
    if result.what_if:
        lines += ["", _t("whatif", lang) + ":", *(f"  - {change_line(c, lang)}" for c in result.what_if)]
    if result.follow_up:
        lines += ["", f"{_t('ask', lang)}: {_follow_up_line(result, lang)}"]
    return "\n".join(lines)


def regime_json(result: RegimeResult) -> dict[str, Any]:
    """Every field of the result as plain JSON types, plus ``statuses`` (obligation -> status)."""
    data = asdict(result)  # StrEnum values are str, so json.dumps writes their value
    data["statuses"] = {o.obligation: o.status.value for o in result.outcomes}
    return data
