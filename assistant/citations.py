"""How sources are numbered, labelled and warned about in an answer (used by the composer).

``CitationBook`` gives every cited chunk one [n] in order of first use. Labels name an article the way a
reader looks it up (《外商投资电信企业管理规定》第6条 / "FIE Telecom Provisions (《…》), Art. 6") and a guide by its
provider, page and section ("Huawei Cloud ICP guide 《备案注销咨询》 › 操作流程"), never as "status unknown".
"""

from __future__ import annotations

import re
from pathlib import Path

from .models import Chunk, Citation, Document, Kind, Status
from .text import article_label as text_article_label
from .text import mostly_chinese

PROVIDERS = {"tencent": ("Tencent Cloud", "腾讯云"), "huawei": ("Huawei Cloud", "华为云"), "jd cloud": ("JD Cloud", "京东云"),
             "cloudflare": ("Cloudflare", "Cloudflare"), "remotepad": ("RemotePad", "RemotePad")}
GUIDE_KINDS = (Kind.PROVIDER_GUIDE, Kind.BLOG)
# How questions name a provider, by the keys of ``PROVIDERS`` (Alibaba Cloud has no guide in the corpus: naming it
# still says the question is about a provider's process, so guides of the others are "another provider's").
PROVIDER_NAMES = {"huawei": ("huawei", "华为"), "tencent": ("tencent", "腾讯"), "jd cloud": ("jd cloud", "jdcloud", "京东"),
                  "cloudflare": ("cloudflare",), "aliyun": ("aliyun", "alibaba cloud", "阿里云")}


class CitationBook:
    """Numbers sources in order of first use; the same chunk always gets the same [n]."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.citations: list[Citation] = []
        self._by_chunk: dict[str, int] = {}

    def has(self, chunk: Chunk) -> bool:
        return chunk.chunk_id in self._by_chunk

    def cite(self, chunk: Chunk, doc: Document) -> int:
        if chunk.chunk_id in self._by_chunk:
            return self._by_chunk[chunk.chunk_id]
        n = len(self.citations) + 1
        self._by_chunk[chunk.chunk_id] = n
        guide = doc.kind in GUIDE_KINDS
        self.citations.append(Citation(
            n=n, doc_id=doc.doc_id, article_no=chunk.article_no, title=page_title(doc), title_en=doc.title_en,
            quote=chunk.text, kind=doc.kind, status=doc.status, version=doc.version,
            date_effective=doc.date_effective, chunk_id=chunk.chunk_id, partial=doc.partial,
            warning=source_warning(doc, chunk.article_no, self.lang),
            provider=provider_name(doc, "en") if guide else "", section=section_of(chunk, doc) if guide else ""))
        return n


def source_warning(doc: Document, article_no: int | None, lang: str) -> str:
    """Why this source must not be taken as the authority on its own, in the answer's language."""
    i = 0 if lang == "en" else 1
    parts = [pair[i] for pair in doc.warnings]
    parts += [(o[1], o[2])[i] for o in doc.outdated_articles if o[0] == article_no]
    if doc.status == Status.SUPERSEDED:
        parts.append("This version is no longer in force." if lang == "en" else "该版本已失效。")
    if doc.partial:
        parts.append("Partial text: only part of this instrument is in the corpus." if lang == "en"
                     else "本文件仅收录部分文本。")
    return " ".join(p for p in parts if p)


def _provider_line(doc: Document) -> str:
    """The guide's provider, without what a parenthesis adds: "Cloudflare (China Network, operated with JD Cloud)"
    is Cloudflare's page."""
    return (doc.issuer or doc.extra.get("provider", "")).split(" (")[0]


def provider_key(doc: Document) -> str:
    """The key of ``PROVIDERS`` that the guide's provider line names ("" when none does)."""
    name = _provider_line(doc).lower()
    return next((key for key in PROVIDERS if key in name), "")


def named_providers(question: str) -> frozenset[str]:
    """The providers a question names (keys of ``PROVIDER_NAMES``)."""
    lowered = question.lower()
    return frozenset(key for key, names in PROVIDER_NAMES.items() if any(n in lowered for n in names))


# A provider's name as a question writes it, longest first ("腾讯云" before "腾讯"), for ``without_providers``.
_PROVIDER_MENTION = re.compile(r"(?:阿里|腾讯|华为|京东)云?|\b(?:alibaba|tencent|huawei|jd)[ -]?cloud\b|\b(?:aliyun|tencent|"
                               r"huawei|jdcloud|cloudflare)\b", re.IGNORECASE)


def without_providers(question: str) -> str:
    """``question`` with each provider it names put as "a cloud provider" / "云服务商": for matching it against
    the notes' question phrasings, which name none (``HybridRetriever.retrieve``)."""
    generic = "云服务商" if mostly_chinese(question) else "a cloud provider"
    return _PROVIDER_MENTION.sub(generic, question)


def provider_name(doc: Document, lang: str) -> str:
    """'Tencent Cloud' / '腾讯云' from the guide's provider line."""
    key = provider_key(doc)
    return PROVIDERS[key][0 if lang == "en" else 1] if key else _provider_line(doc) or doc.title


def page_title(doc: Document) -> str:
    """A document's title as cited. A guide page with no heading of its own is titled by the file it was taken from
    ("…/备案相关通知/关于开展互联网备案管理工作通知_intl.md": 关于开展互联网备案管理工作通知), not by its file name here
    ("《tencentcloud-intl-beian-tiao-kuan-yu-gong-gao-…》", 15 pages). Only the label: the indexed text keeps its title."""
    path = str(doc.extra.get("path") or "")
    if doc.title != Path(doc.doc_id).stem or not path:
        return doc.title
    return re.sub(r"_intl(?:_cn)?$", "", Path(path).stem) or doc.title


def section_of(chunk: Chunk, doc: Document) -> str:
    """The heading path inside a guide page, without the page title."""
    parts = [p.strip("*# ").strip() for p in chunk.title_path.split(" › ")]
    return " › ".join(p for p in parts if p and p != doc.title)


def markers(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(numbers))


def article_label(doc: Document, article_no: int | None, lang: str) -> str:
    """《title》第6条 in Chinese; 'English title (《title》), Art. 6' in English (the Chinese title is what
    a reader searches for)."""
    if lang == "zh":
        return f"《{doc.title}》" + text_article_label(article_no, "zh")
    name = f"{doc.title_en} (《{doc.title}》)" if doc.title_en else f"《{doc.title}》"
    return name + (f", {text_article_label(article_no, 'en')}" if article_no else "")


def source_label(doc: Document, chunk: Chunk, lang: str) -> str:
    """How a quoted point is attributed: the article label, or the provider, page and section of a guide."""
    if doc.kind not in GUIDE_KINDS:
        return article_label(doc, chunk.article_no, lang)
    provider = provider_name(doc, lang)
    section = section_of(chunk, doc)
    where = f"《{page_title(doc)}》" + (f" › {section}" if section else "")
    if doc.kind == Kind.BLOG:
        return f"{provider} blog post {where}" if lang == "en" else f"{provider}博客{where}"
    return f"{provider} ICP guide {where}" if lang == "en" else f"{provider}备案文档{where}"


def quoted(label: str, sentence: str, n: int, lang: str) -> str:
    return f"{label}: “{sentence}” [{n}]" if lang == "en" else f"{label}：“{sentence}” [{n}]"
