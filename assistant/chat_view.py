"""The chat's view of an answer: the message (lead, points, one chip per source), related questions, empty state.

Pure functions, no Gradio import. The message leads with the answer and gives each source one short chip
("[1] Order 292 Art. 4 · in force", "[2] Huawei Cloud · 备案注销咨询 · provider guide") that links to its entry
in the sources panel; the full entries with quotes live in the panel (``render.sources_html``) and the ticket
copy keeps full footnotes (``render.answer_text``). A scenario answer starts with the regime finder's table
(``regime_view``). Every string from the corpus or the user is escaped here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from .models import Answer, Citation, Status
from .regime_view import regime_html
from .registry import Registry
from .render import (
    abstention_message,
    article_en,
    article_zh,
    book_title,
    is_guide,
    is_primary,
    md_escape,
    provider_label,
    source_line,
    standing_label,
    with_links,
)

ShortNames = Mapping[str, str]  # doc_id or registry instrument id -> compact English name ("Order 292")

MAX_RELATED = 4
_ORDER = re.compile(r"\b((?:[A-Z]{2,6}(?:/[A-Z]{2,6})?\s+)?Order\s+\d+)")
_WORDS = {
    "en": {"sources": "Sources", "background": "From the sources"},
    "zh": {"sources": "来源", "background": "相关条文与说明"},
}

# Three questions, each in English and in Chinese (side by side on a laptop, one after the other on a phone).
EXAMPLES = (
    "Does my personal blog need Bei'an?",
    "个人博客需要备案吗？",
    "Can a WFOE hold an ICP Zheng?",
    "外资可以持有ICP许可证吗？",
    "We're a US company, no entity in China, a SaaS hosted in Shanghai, we charge subscriptions — what do we need?",
    "我们是外资企业，服务器在上海，做付费会员网站，需要办什么？",
)

EMPTY_STATE = """\
### Ask about China's internet licensing rules · 中国互联网许可问答

**What I cover:** ICP filing (备案), the ICP licence (经营许可证), EDI, foreign ownership of value-added telecom, \
App and public-security filing, domains and hosting. Describe your set-up and I list which filings and licences \
apply. Every answer cites the article it rests on.

**涵盖范围：** ICP备案、ICP经营许可证、EDI、增值电信外资股比、App备案与公安备案、域名与主机。描述您的业务情况，\
我会列出需要办理的备案和许可；每个答案都注明所依据的条文。

*Try an example · 试试示例* — not legal advice · 不构成法律意见
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def compact_name(short_en: str) -> str:
    """A name a practitioner cites: "… Measures (State Council Order 292)" -> "Order 292", "… (MII Order 33)" ->
    "MII Order 33"; a dated name stays ("Foreign Investment Negative List 2024"), other brackets go."""
    plain = re.sub(r"\s*\([^)]*\)", "", short_en).strip()
    order = _ORDER.search(short_en)
    if order and not re.search(r"\b(?:19|20)\d\d\b", plain):
        return order.group(1)
    return plain or short_en


def short_names(registry: Registry) -> dict[str, str]:
    """Compact names for every file of every instrument version, its stand-in note and its id."""
    names: dict[str, str] = {}
    for instrument in registry.instruments:
        name = compact_name(instrument.short_en or instrument.title_en)
        names[instrument.id] = name
        names[f"notes/instrument-{instrument.id}.yml"] = name
        names.update({path: name for version in instrument.versions for path in version.files})
    return names


def _lang(answer: Answer) -> str:
    return "zh" if answer.language == "zh" else "en"


def chip_name(c: Citation, lang: str, names: ShortNames) -> str:
    """The source in a few words: the instrument and article, a guide's provider and section, a note's title."""
    if is_guide(c):
        where = c.section.split(" › ")[-1] if c.section else c.title
        return " · ".join(part for part in (provider_label(c, lang), where) if part)
    if lang == "zh":
        return f"{book_title(c.title)}{article_zh(c.article_no)}"
    name = names.get(c.doc_id) or c.title_en or book_title(c.title)
    if is_primary(c) and c.version and c.status != Status.IN_FORCE:
        name += f" ({c.version})"
    return " ".join(part for part in (name, article_en(c.article_no)) if part)


def chip_label(c: Citation, lang: str = "en", names: ShortNames | None = None) -> str:
    """Plain "[1] Order 292 Art. 4 · in force" (unescaped)."""
    return f"[{c.n}] {chip_name(c, lang, names or {})} · {standing_label(c, lang)}"


def source_chip(c: Citation, lang: str = "en", names: ShortNames | None = None) -> str:
    """One link to the panel entry ``#src-n``: number, name (cut with an ellipsis, never wrapped), standing, and
    ⚠ when the source conflicts with a primary text or is outdated (the panel says why; so does the tooltip)."""
    standing = "icp-tag-" + (c.status.value.replace(" ", "-") if is_primary(c) else "secondary")
    tooltip = source_line(c, lang) + (f" — ⚠ {c.warning}" if c.warning else "")
    warning = ' <span class="icp-chip-warn">⚠</span>' if c.warning else ""
    return (f'<a class="icp-chip" href="#src-{c.n}" title="{_e(tooltip)}">'
            f'<span class="icp-chip-n">[{c.n}]</span> <span class="icp-chip-name">{_e(chip_name(c, lang, names or {}))}'
            f'</span> <span class="icp-chip-tag {standing}">{_e(standing_label(c, lang))}</span>{warning}</a>')


def source_chips(citations: Sequence[Citation], lang: str = "en", names: ShortNames | None = None) -> str:
    """The message's sources: one chip per citation, on one line each at most."""
    if not citations:
        return ""
    chips = " ".join(source_chip(c, lang, names) for c in citations)
    return f'<div class="icp-chips" aria-label="{_e(_WORDS[lang]["sources"])}">{chips}</div>'


def chat_blocks(answer: Answer, names: ShortNames | None = None) -> list[str]:
    """The chat message as Markdown/HTML blocks, streamed one by one: lead, points, notices, source chips.

    A scenario answer shows the regime table (it answers the situation) and the ordinary answer's points after it
    as background. ``Assistant.ask`` leaves no verdict beside the table (``beside_table``); one given by another
    caller leads, above the table.
    """
    lang = _lang(answer)
    notices = [f"*{md_escape(notice)}*" for notice in answer.notices]
    if answer.abstained and not answer.citations and answer.regime is None:
        return [md_escape(abstention_message(answer)), *notices]
    numbers = {c.n for c in answer.citations}
    blocks: list[str] = []
    if answer.regime is not None:
        if answer.verdict:
            blocks.append(f"**{with_links(answer.verdict, numbers)}**")
        blocks.append(regime_html(answer.regime, names or {}, lang))
        if answer.citations and answer.points:
            blocks.append(f"**{_WORDS[lang]['background']}**")
            blocks.extend(f"- {with_links(point, numbers)}" for point in answer.points[:3])
    else:
        if answer.verdict:
            blocks.append(f"**{with_links(answer.verdict, numbers)}**")
        blocks.extend(f"- {with_links(point, numbers)}" for point in answer.points)
    blocks.extend(notices)
    chips = source_chips(answer.citations, lang, names)
    return blocks + [chips] if chips else blocks


def related_options(answer: Answer) -> list[dict[str, str]]:
    """The questions the corpus answers next to this one, as chat options (one click asks one)."""
    questions = [q.strip() for q in answer.related if q and q.strip()]
    return [{"value": q, "label": q} for q in dict.fromkeys(questions)][:MAX_RELATED]


def example_messages() -> list[dict[str, str]]:
    """The empty chat's examples (three questions, in English and in Chinese)."""
    return [{"text": q} for q in EXAMPLES]
