"""Turn an ``Answer`` into what people read: chat Markdown, plain text for tickets, JSON, the sources panel.

Pure functions, no Gradio import. Every string that comes from the corpus or from the user is escaped
here (HTML entities, and Markdown punctuation in Markdown), so a question or a corpus file containing
``<script>`` stays inert text wherever it is shown.
"""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

from .citations import PROVIDERS
from .models import PRIMARY_KINDS, Answer, Citation, Kind, Status
from .regime import regime_json, regime_markdown, regime_text
from .text import SINGLE_MARKER, article_label, strip_markers

DISCLAIMER = "Based on the corpus as of {date}; not legal advice"
QUOTE_CHARS = 200

# Backslash-escaping these keeps text literal in Markdown; '<', '>' and '&' become entities instead.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|])")

_STATUS_LABELS = {
    "en": {Status.IN_FORCE: "in force", Status.SUPERSEDED: "superseded",
           Status.AMENDED: "amended (parts outdated)", Status.UNKNOWN: "status unknown"},
    "zh": {Status.IN_FORCE: "现行有效", Status.SUPERSEDED: "已被取代",
           Status.AMENDED: "已修订（部分条文过时）", Status.UNKNOWN: "状态未知"},
}
_KIND_LABELS = {
    "en": {Kind.LAW: "law", Kind.ADMINISTRATIVE_REGULATION: "regulation", Kind.DEPARTMENT_RULE: "department rule",
           Kind.NOTICE: "notice", Kind.PROJECT_NOTE: "project note", Kind.PROVIDER_GUIDE: "provider guide",
           Kind.BLOG: "blog"},
    "zh": {Kind.LAW: "法律", Kind.ADMINISTRATIVE_REGULATION: "行政法规", Kind.DEPARTMENT_RULE: "部门规章",
           Kind.NOTICE: "通知", Kind.PROJECT_NOTE: "项目说明", Kind.PROVIDER_GUIDE: "服务商指南", Kind.BLOG: "博客"},
}
_WORDS = {
    "en": {"sources": "Sources", "partial": "partial text", "version": "version", "effective": "effective",
           "quote": "Quoted text", "warning": "Warning", "none": "No sources: the corpus does not support an answer.",
           "empty": "Sources of the answer appear here.", "for": "Question", "abstain":
           "I could not find an answer to this in the corpus.", "related": "Related questions:"},
    "zh": {"sources": "来源", "partial": "非全文", "version": "版本", "effective": "施行日期",
           "quote": "引用原文", "warning": "注意", "none": "没有来源：语料库中找不到可支持的答案。",
           "empty": "答案的来源会显示在这里。", "for": "问题", "abstain": "语料库中找不到这个问题的答案。",
           "related": "相关问题："},
}
_PROVIDERS_ZH = dict(PROVIDERS.values())  # "Tencent Cloud" -> "腾讯云"


def _lang(answer: Answer) -> str:
    return "zh" if answer.language == "zh" else "en"


def md_escape(text: str) -> str:
    """Literal text inside Markdown: HTML entities for <>&, backslashes for Markdown punctuation."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def book_title(title: str) -> str:
    """A title in 《》, unless it already opens with them (some note titles quote the instrument they cover)."""
    return title if title.startswith("《") else f"《{title}》"


def article_zh(article_no: int | None) -> str:
    return article_label(article_no, "zh")


def article_en(article_no: int | None) -> str:
    return article_label(article_no, "en")


def status_label(citation: Citation, lang: str = "en") -> str:
    return _STATUS_LABELS[lang][citation.status]


def kind_label(citation: Citation, lang: str = "en") -> str:
    return _KIND_LABELS[lang][citation.kind]


def is_primary(citation: Citation) -> bool:
    """Laws, regulations, rules and notices: the only sources with a legal status worth a badge."""
    return citation.kind in PRIMARY_KINDS


def is_guide(citation: Citation) -> bool:
    """A provider's page or a blog post: named by provider, page and section rather than by article."""
    return bool(citation.provider) or citation.kind in (Kind.PROVIDER_GUIDE, Kind.BLOG)


def standing_label(citation: Citation, lang: str = "en") -> str:
    """A primary text's legal status ("in force"); what any other source is ("provider guide", "project note").

    A guide has no legal status, so "status unknown" would only make readers doubt a page that is fine.
    """
    return status_label(citation, lang) if is_primary(citation) else kind_label(citation, lang)


def provider_label(citation: Citation, lang: str = "en") -> str:
    """The provider of a guide in the reader's language ("Tencent Cloud" / "腾讯云"), or "" for other sources."""
    if not citation.provider:
        return ""
    return _PROVIDERS_ZH.get(citation.provider, citation.provider) if lang == "zh" else citation.provider


def guide_path(citation: Citation, lang: str = "en") -> str:
    """Provider, page title and section: "Tencent Cloud › 《备案号》 › 什么是 ICP 备案号？"."""
    parts = [provider_label(citation, lang), book_title(citation.title), citation.section]
    return " › ".join(part for part in parts if part)


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """One line, at most ``limit`` characters, cut on a word boundary when there is one nearby."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;，；、") + "…"


def with_links(text: str, numbers: set[int]) -> str:
    """Escape ``text`` for Markdown and turn each known [n] marker into a link to ``#src-n``."""
    out: list[str] = []
    last = 0
    for m in SINGLE_MARKER.finditer(text):
        n = int(m.group(1))
        if n not in numbers:
            continue
        out.append(md_escape(text[last:m.start()]))
        out.append(f"[[{n}]](#src-{n})")
        last = m.end()
    out.append(md_escape(text[last:]))
    return "".join(out)


def _date_str(d: date | None) -> str:
    return d.isoformat() if d else ""


def _version_bits(c: Citation, lang: str) -> list[str]:
    words = _WORDS[lang]
    bits = []
    if c.version:
        bits.append(f"{words['version']} {c.version}")
    if c.date_effective:
        bits.append(f"{words['effective']} {_date_str(c.date_effective)}")
    bits.append(status_label(c, lang))
    if c.partial:
        bits.append(words["partial"])
    return bits


def source_line(c: Citation, lang: str = "en") -> str:
    """Plain ``[n] 《title》 第X条 (title_en, Art. N) — version / effective date / status`` (unescaped).

    Guides read ``[n] Provider › 《page》 › section — provider guide``; notes end with ``— project note``.
    """
    if is_guide(c):
        return f"[{c.n}] {guide_path(c, lang)} — {kind_label(c, lang)}"
    head = f"[{c.n}] {book_title(c.title)}"
    if c.article_no is not None:
        head += f" {article_zh(c.article_no)}"
    english = ", ".join(part for part in (c.title_en, article_en(c.article_no)) if part)
    if english:
        head += f" ({english})"
    if not is_primary(c):
        return f"{head} — {kind_label(c, lang)}"
    return f"{head} — {' / '.join(_version_bits(c, lang))}"


def abstention_message(answer: Answer) -> str:
    parts = [answer.verdict or ""] + list(answer.points)
    text = " ".join(p for p in parts if p).strip()
    return strip_markers(text) or _WORDS[_lang(answer)]["abstain"]


def markdown_blocks(answer: Answer) -> list[str]:
    """The chat Markdown as blocks (verdict, each point, notices, sources) so the app can stream them."""
    if answer.abstained and not answer.citations:
        blocks = [md_escape(abstention_message(answer))]
        return blocks + [f"*{md_escape(notice)}*" for notice in answer.notices]
    numbers = {c.n for c in answer.citations}
    # the verdict leads; a scenario's table has none beside it (``assistant.beside_table``) and comes first
    blocks = [f"**{with_links(answer.verdict, numbers)}**"] if answer.verdict else []
    if answer.regime is not None:
        blocks.append(regime_markdown(answer.regime))
    blocks.extend(f"- {with_links(point, numbers)}" for point in answer.points)
    blocks.extend(f"*{md_escape(notice)}*" for notice in answer.notices)
    if answer.citations:
        lang = _lang(answer)
        lines = [f"**{_WORDS[lang]['sources']}**"]
        for c in answer.citations:
            line = md_escape(source_line(c, lang)).replace(f"\\[{c.n}\\]", f"[[{c.n}]](#src-{c.n})", 1)
            if c.warning:
                line += f" — ⚠ *{md_escape(c.warning)}*"
            lines.append(f"- {line}")
        blocks.append("\n".join(lines))
    return blocks


def answer_markdown(answer: Answer) -> str:
    """Verdict in bold first, points as bullets with linked [n] markers, notices in italics, then sources."""
    return join_blocks(markdown_blocks(answer))


def join_blocks(blocks: list[str]) -> str:
    """Markdown from blocks: consecutive bullets stay one list, every other block is its own paragraph."""
    out = ""
    for block in blocks:
        if out:
            out += "\n" if block.startswith("- ") and out.splitlines()[-1].startswith("- ") else "\n\n"
        out += block
    return out


def answer_text(answer: Answer, corpus_date: str | date | None) -> str:
    """Plain text for a support ticket: answer, numbered footnotes, and the disclaimer as the last line."""
    corpus = _date_str(corpus_date) if isinstance(corpus_date, date) else (corpus_date or "unknown date")
    disclaimer = DISCLAIMER.format(date=corpus)
    if answer.abstained and not answer.citations:
        notes = [f"Note: {n}" for n in answer.notices]
        return "\n\n".join([abstention_message(answer), *notes, disclaimer])
    parts = [answer.verdict] if answer.verdict else []
    if answer.regime is not None:
        parts.append(regime_text(answer.regime))
    if answer.points:
        parts.append("\n".join(f"- {point}" for point in answer.points))
    if answer.related:
        parts.append("\n".join([_WORDS[_lang(answer)]["related"], *(f"- {q}" for q in answer.related)]))
    parts.extend(f"Note: {notice}" for notice in answer.notices)
    if answer.citations:
        lang = _lang(answer)
        notes = ["Sources:"]
        for c in answer.citations:
            notes.append(f"{source_line(c, lang)} — {c.doc_id}")
            if c.quote:
                notes.append(f'    "{shorten(c.quote)}"')
            if c.warning:
                notes.append(f"    Warning: {c.warning}")
        parts.append("\n".join(notes))
    parts.append(disclaimer)
    return "\n\n".join(parts)


def citation_dict(c: Citation) -> dict[str, Any]:
    return {
        "n": c.n, "doc_id": c.doc_id, "article_no": c.article_no, "title": c.title, "title_en": c.title_en,
        "quote": c.quote, "kind": c.kind.value, "status": c.status.value, "version": c.version,
        "date_effective": _date_str(c.date_effective) or None, "warning": c.warning,
        "provider": c.provider or None, "section": c.section or None,
    }


def feedback_fields(answer: Answer, corpus_date: str | date | None = None) -> dict[str, Any]:
    """What a like/dislike of this answer stores (``FeedbackStore.add``): all the chat keeps per answer in a
    session's state, instead of the whole ``answer_json`` (retrieved hits, regime table, timings)."""
    return {"question": answer.question, "answer_text": answer_text(answer, corpus_date), "mode": answer.mode,
            "citations": [citation_dict(c) for c in answer.citations], "language": answer.language,
            "as_of": _date_str(answer.as_of) or None, "corpus": str(corpus_date or "")}


def answer_json(answer: Answer, corpus_date: str | date | None = None) -> dict[str, Any]:
    """Everything about an answer as JSON-ready values (for ``icp-assistant ask --json``)."""
    return {
        "question": answer.question,
        "answer": answer_markdown(answer),
        "answer_text": answer_text(answer, corpus_date),
        "verdict": answer.verdict,
        "abstained": answer.abstained,
        "language": answer.language,
        "mode": answer.mode,
        "as_of": _date_str(answer.as_of) or None,
        "notices": list(answer.notices),
        "lead_from": answer.lead_from,
        "related": list(answer.related),
        "regime": regime_json(answer.regime) if answer.regime is not None else None,
        "citations": [citation_dict(c) for c in answer.citations],
        "retrieved": [
            {"chunk_id": h.chunk.chunk_id, "doc_id": h.chunk.doc_id, "article_no": h.chunk.article_no,
             "score": h.score}
            for h in answer.retrieved
        ],
        "timings_ms": dict(answer.timings_ms),
    }


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _source_head(c: Citation, lang: str) -> list[str]:
    """The entry's title rows: 《title》 第X条 and the English title, or a guide's provider › page › section."""
    if is_guide(c):
        path = _e(guide_path(c, lang))
        return [f'<div class="icp-src-head"><span class="icp-n">[{c.n}]</span> <span class="icp-title">{path}</span></div>']
    english = ", ".join(part for part in (c.title_en, article_en(c.article_no)) if part)
    return [
        (f'<div class="icp-src-head"><span class="icp-n">[{c.n}]</span> <span class="icp-title">{_e(book_title(c.title))}</span>'
         f' <span class="icp-art">{_e(article_zh(c.article_no))}</span></div>'),
        f'<div class="icp-title-en">{_e(english)}</div>' if english else "",
    ]


def _source_item(c: Citation, lang: str) -> str:
    words = _WORDS[lang]
    # A guide or a note has no legal status: its badge says what it is instead.
    standing = f"icp-status-{c.status.value.replace(' ', '-')}" if is_primary(c) else "icp-secondary"
    badges = [f'<span class="icp-badge {standing}">{_e(standing_label(c, lang))}</span>']
    if c.partial:
        badges.append(f'<span class="icp-badge icp-partial">{_e(words["partial"])}</span>')
    if is_primary(c):
        badges.append(f'<span class="icp-kind">{_e(kind_label(c, lang))}</span>')
    dates = [f"{words['version']} {c.version}"] if c.version else []
    if c.date_effective:
        dates.append(f"{words['effective']} {_date_str(c.date_effective)}")
    rows = [
        *_source_head(c, lang),
        f'<div class="icp-meta">{" ".join(badges)} <span class="icp-dates">{_e(" · ".join(dates))}</span></div>',
        f'<div class="icp-warning" role="alert">⚠ {_e(words["warning"])}: {_e(c.warning)}</div>' if c.warning else "",
        (f'<details class="icp-quote"><summary>{_e(words["quote"])}</summary><blockquote>{_e(c.quote)}</blockquote>'
         "</details>") if c.quote else "",
        f'<div class="icp-doc-id">{_e(c.doc_id)}</div>',
    ]
    return f'<li id="src-{c.n}" class="icp-src" data-n="{c.n}">' + "".join(r for r in rows if r) + "</li>"


def sources_html(answer: Answer | None) -> str:
    """The sources panel: one entry per citation (anchor ``src-n``); every corpus and user string escaped.

    The entries sit in an open ``<details>``, so on a phone, where the panel comes under the chat, it folds away.
    """
    if answer is None:
        return f'<div class="icp-sources icp-empty">{_e(_WORDS["en"]["empty"])} / {_e(_WORDS["zh"]["empty"])}</div>'
    lang = _lang(answer)
    words = _WORDS[lang]
    count = f" ({len(answer.citations)})" if answer.citations and not answer.abstained else ""
    head = (f'<summary><h3>{_e(words["sources"])}{count}</h3></summary>'
            f'<p class="icp-question">{_e(words["for"])}: {_e(answer.question)}</p>')
    if answer.abstained or not answer.citations:
        body = f'<p class="icp-none">{_e(words["none"])}</p>'
    else:
        body = '<ol class="icp-list">' + "".join(_source_item(c, lang) for c in answer.citations) + "</ol>"
    return f'<details class="icp-sources" lang="{lang}" open>{head}{body}</details>'


def chat_messages(answer: Answer) -> list[dict[str, str]]:
    """The question and the answer as Gradio ``messages`` (role/content dicts)."""
    return [
        {"role": "user", "content": md_escape(answer.question)},
        {"role": "assistant", "content": answer_markdown(answer)},
    ]
