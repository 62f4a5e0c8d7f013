"""The regime finder's answer in the chat, and the data behind its fact form and follow-up buttons.

``regime_html`` shows one row per obligation (status, one line of reason, short source chips), the facts it
relied on marked stated / given / assumed, what changes if an assumption is wrong, and the follow-up
question. ``fact_fields`` and ``follow_up_choices`` feed the small form under the chat: changing a fact there
re-runs the finder with ``facts={name: value}``. Pure functions, no Gradio import; every string escaped.
(``regime.render`` keeps the Markdown and ticket text; this is the chat's HTML.)
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .citations import PROVIDERS
from .regime import Cite, FactSource, FactValue, RegimeModel, RegimeResult
from .regime.render import SOURCE_LABELS, TEXTS, change_line, cite_text, status_label

WHATIF_OPEN_MAX = 4  # more what-ifs than this start folded: the table stays the first thing read
_WORDS = {
    "affects": ("assumed — affects the result", "假定——影响结论"),
    "no_effect": ("assumed — no effect here", "假定——不影响结论"),
    "given": ("you set", "您指定"),
    "edit": ("change any fact with the form under the chat", "可在对话下方的表单中修改任一事实"),
    "answer": ("answer with a button under the chat", "点击对话下方的按钮回答"),
    "note": ("Project note", "项目笔记"),
    "practice": ("practice", "服务商实践"),
    "unverified": ("unverified", "未核实"),
}


@dataclass(frozen=True)
class FactField:
    """One dropdown of the fact form: the fact, its label with where the value came from, choices, value."""

    fact: str
    label: str
    choices: tuple[tuple[str, str], ...]  # (shown label, value id)
    value: tuple[str, ...]
    multiple: bool


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _w(key: str, lang: str) -> str:
    en, zh = _WORDS[key]
    return zh if lang == "zh" else en


def _t(key: str, lang: str) -> str:
    en, zh = TEXTS[key]
    return zh if lang == "zh" else en


def _pick(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _provider_of(path: str) -> str:
    flat = path.lower().replace(" ", "")
    return next((names[0] for key, names in PROVIDERS.items() if key.replace(" ", "") in flat), "")


def cite_chip_name(cite: Cite, lang: str, names: Mapping[str, str]) -> str:
    """A regime source in a few words ("Order 333 Art. 6", "Tencent Cloud · practice", "Project note")."""
    if cite.kind == "note":
        return _w("note", lang)
    if cite.practice:
        return f"{_provider_of(cite.ref) or cite_text(cite, lang)} · {_w('practice', lang)}"
    if lang == "zh" or cite.ref not in names:
        return cite_text(cite, lang)
    name = names[cite.ref] + (f" Art. {cite.article}" if cite.article is not None else "")
    return name if cite.verified else f"{name} ({_w('unverified', lang)})"


def _cite_chips(cites: Sequence[Cite], lang: str, names: Mapping[str, str]) -> str:
    """One chip per distinct short name ("Project note ×2"); the tooltip keeps every full label."""
    grouped: dict[str, list[str]] = {}
    for cite in cites:
        grouped.setdefault(cite_chip_name(cite, lang, names), []).append(cite_text(cite, lang))
    return " ".join(f'<span class="icp-rchip" title="{_e("; ".join(labels))}">{_e(name)}'
                    + (f" ×{len(labels)}" if len(labels) > 1 else "") + "</span>" for name, labels in grouped.items())


def _rows(result: RegimeResult, lang: str, names: Mapping[str, str]) -> str:
    rows = []
    for o in result.outcomes:
        conditions = _pick(lang, o.conditions_en, o.conditions_zh)
        why = _e(_pick(lang, o.reason_en, o.reason_zh)) + (f" <em>{_e(conditions)}</em>" if conditions else "")
        rows.append(
            f'<div class="icp-ob icp-ob-{_e(o.obligation)}"><span class="icp-ob-label">{_e(_pick(lang, o.label_en, o.label_zh))}'
            f'</span><span class="icp-st icp-st-{_e(o.status.value)}">{_e(status_label(o.status, lang))}</span>'
            f'<span class="icp-ob-why">{why} <span class="icp-rchips">{_cite_chips(o.cites, lang, names)}</span></span></div>')
    return '<div class="icp-obs">' + "".join(rows) + "</div>"


def _fact_item(fact: FactValue, result: RegimeResult, lang: str) -> str:
    value = _pick(lang, fact.label_en, fact.label_zh) + (f" ({fact.detail})" if fact.detail else "")
    if fact.source == FactSource.ASSUMED:
        matters = fact.fact in result.missing
        kind, tag = ("assumed icp-fact-matters", _w("affects", lang)) if matters else ("assumed", _w("no_effect", lang))
    elif fact.source == FactSource.GIVEN:
        kind, tag = "given", _w("given", lang)
    else:
        kind, tag = "stated", _pick(lang, *SOURCE_LABELS[FactSource.STATED])
    quoted = f' <q class="icp-span">{_e(fact.span)}</q>' if fact.span else ""
    return (f'<li class="icp-fact icp-fact-{kind} icp-fact-{_e(fact.fact)}"><span class="icp-fact-name">'
            f'{_e(_pick(lang, fact.name_en, fact.name_zh) or fact.fact)}</span>: {_e(value)} '
            f'<span class="icp-tag">{_e(tag)}</span>{quoted}</li>')


def _what_ifs(result: RegimeResult, lang: str) -> str:
    if not result.what_if:
        return ""
    items = "".join(f"<li>{_e(change_line(c, lang))}</li>" for c in result.what_if)
    opened = " open" if len(result.what_if) <= WHATIF_OPEN_MAX else ""
    return (f'<details class="icp-whatif"{opened}><summary><strong>{_e(_t("whatif", lang))}</strong> '
            f"({len(result.what_if)})</summary><ul>{items}</ul></details>")


def _disputes(result: RegimeResult, lang: str) -> str:
    conflicts = {o.conflict.id: o.conflict for o in result.outcomes if o.conflict}.values()
    return "".join(f'<p class="icp-dispute"><strong>{_e(_t("disputed", lang))} — {_e(_pick(lang, c.title_en, c.title_zh))}'
                   f"</strong>: {_e(_pick(lang, c.resolution_en, c.resolution_zh))}</p>" for c in conflicts)


def regime_html(result: RegimeResult, names: Mapping[str, str] | None = None, lang: str | None = None) -> str:
    """The scenario answer for the chat: the obligations table first, then disputes, facts, what-ifs, question.

    One HTML block without blank lines, so the chat's Markdown renderer passes it through untouched.
    """
    lang = lang or result.language
    facts = "".join(_fact_item(f, result, lang) for f in result.facts)
    parts = [
        f'<div class="icp-regime" lang="{_e(lang)}"><p class="icp-regime-title"><strong>{_e(_t("title", lang))}</strong>'
        f' — {_e(_t("intro", lang))}</p>',
        _rows(result, lang, names or {}),
        _disputes(result, lang),
        f'<p class="icp-facts-head"><strong>{_e(_t("facts", lang))}</strong> <span class="icp-hint">({_e(_w("edit", lang))})'
        f'</span></p><ul class="icp-facts">{facts}</ul>',
        _what_ifs(result, lang),
    ]
    if result.follow_up is not None:
        ask = result.follow_up
        parts.append(f'<p class="icp-ask"><strong>{_e(_t("ask", lang))}:</strong> '
                     f'{_e(_pick(lang, ask.question_en, ask.question_zh))} <span class="icp-hint">({_e(_w("answer", lang))})'
                     "</span></p>")
    return "".join(parts) + "</div>"


def _choices(model: RegimeModel, fact_id: str, lang: str) -> tuple[tuple[str, str], ...]:
    spec = model.fact(fact_id)
    return tuple((v.label(lang), v.id) for v in spec.values) if spec else ()


def fact_fields(model: RegimeModel, result: RegimeResult | None = None, lang: str = "en") -> tuple[FactField, ...]:
    """One dropdown per fact of the model, set to the result's values (or the defaults before any scenario)."""
    found = {f.fact: f for f in result.facts} if result else {}
    fields = []
    for spec in model.facts:
        fact = found.get(spec.id)
        if fact is None:
            label, value = spec.label.get(lang), spec.default
        else:
            source = _pick(lang, *SOURCE_LABELS[fact.source]) if fact.source != FactSource.GIVEN else _w("given", lang)
            label, value = f"{spec.label.get(lang)} · {source}", fact.values
        fields.append(FactField(spec.id, label, _choices(model, spec.id, lang), tuple(value), spec.multiple))
    return tuple(fields)


def follow_up_choices(result: RegimeResult | None, lang: str = "en") -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(fact id, question, ((option label, value id), …)) of the follow-up question; empty when there is none."""
    ask = result.follow_up if result else None
    if ask is None:
        return "", "", ()
    return ask.fact, _pick(lang, ask.question_en, ask.question_zh), tuple(
        (_pick(lang, o.label_en, o.label_zh), o.value) for o in ask.options)


def change_message(model: RegimeModel, fact_id: str, values: Sequence[str], lang: str = "en") -> str:
    """What the chat shows as the user's turn when a fact is changed: "Servers: in Hong Kong, Macao or Taiwan"."""
    spec = model.fact(fact_id)
    if spec is None:
        return f"{fact_id}: {', '.join(values)}"
    labels = [v.label(lang) for v in spec.values if v.id in values] or list(values)
    return f"{spec.label.get(lang)}{'：' if lang == 'zh' else ': '}{'、'.join(labels) if lang == 'zh' else ', '.join(labels)}"
