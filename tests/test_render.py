"""render.py: Markdown, plain text, JSON, sources panel and chat messages from hand-built Answers."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import pytest

from assistant.models import Answer, Chunk, Citation, Document, Hit, Kind, Status
from assistant.regime import DEFAULT_MODEL_PATH, find_regime, load_regime_model
from assistant.render import (
    answer_json,
    answer_markdown,
    answer_text,
    chat_messages,
    markdown_blocks,
    md_escape,
    shorten,
    source_line,
    sources_html,
)

SCRIPT = "<script>alert('x')</script>"


def citation(n: int, **changes: object) -> Citation:
    values: dict[str, object] = {
        "n": n,
        "doc_id": f"regulations/measures-{n}.zh.md",
        "article_no": 4 + n,
        "title": "互联网信息服务管理办法",
        "title_en": "Measures for the Administration of Internet Information Services",
        "quote": "国家对经营性互联网信息服务实行许可制度；对非经营性互联网信息服务实行备案制度。",
        "kind": Kind.ADMINISTRATIVE_REGULATION,
        "status": Status.IN_FORCE,
        "version": "2024",
        "date_effective": date(2024, 3, 10),
        "chunk_id": f"c{n}",
    }
    values.update(changes)
    return Citation(**values)  # type: ignore[arg-type]


def answer(**changes: object) -> Answer:
    values: dict[str, object] = {
        "question": "Does my personal blog need Bei'an?",
        "language": "en",
        "verdict": "Yes — a personal blog hosted in mainland China needs ICP filing [1].",
        "points": ("Non-commercial sites are filed, not licensed [1].", "The hosting provider submits the filing [2]."),
        "citations": (citation(1), citation(2, kind=Kind.PROVIDER_GUIDE, article_no=None, title="备案流程",
                                         title_en="Filing process", status=Status.UNKNOWN, version="",
                                         date_effective=None)),
        "abstained": False,
        "notices": ("Answer composed from project notes.",),
    }
    values.update(changes)
    return Answer(**values)  # type: ignore[arg-type]


def guide(n: int, **changes: object) -> Citation:
    """A provider FAQ entry as the composer cites it: provider and section set, no legal status."""
    values: dict[str, object] = {
        "kind": Kind.PROVIDER_GUIDE, "status": Status.UNKNOWN, "article_no": None, "version": "", "date_effective": None,
        "title": "一个腾讯云账号能否同时备案两个公司？", "title_en": "", "provider": "Tencent Cloud",
        "section": "帐号已有备案，能否备案其他主体的网站？",
        "doc_id": "guides/tencentcloud/tencentcloud-intl-beian-chang-jian-wen-ti-bei-an-qian-zi-xun-neng-fou-jin-xing-bei-an.zh.md",
        "quote": "一个账号只能备案一个主体的网站，如需新增其他主体的备案请注册新的账号、使用备案授权码提交备案。",
    }
    values.update(changes)
    return citation(n, **values)


def abstention() -> Answer:
    return answer(verdict=None, points=("The corpus does not cover trademark law.",), citations=(), abstained=True,
                  notices=())


class _Collector(HTMLParser):
    """Records start tags and the ids of elements, so tests can assert on real HTML structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids.extend(v for k, v in attrs if k == "id" and v)


def parse(html_text: str) -> _Collector:
    collector = _Collector()
    collector.feed(html_text)
    return collector


# Markdown ---------------------------------------------------------------------------------------------------------

def test_markdown_starts_with_bold_verdict() -> None:
    md = answer_markdown(answer())
    first = md.splitlines()[0]
    assert first.startswith("**Yes — a personal blog")
    assert first.endswith("**")


def test_markdown_points_are_bullets_with_linked_markers() -> None:
    md = answer_markdown(answer())
    assert "- Non-commercial sites are filed, not licensed [[1]](#src-1)." in md
    assert "- The hosting provider submits the filing [[2]](#src-2)." in md


def test_every_marker_in_markdown_has_a_source_entry() -> None:
    a = answer()
    md = answer_markdown(a)
    linked = {int(n) for n in re.findall(r"\[\[(\d+)\]\]\(#src-\1\)", md)}
    assert linked == {c.n for c in a.citations}
    panel_ids = set(parse(sources_html(a)).ids)
    assert {f"src-{n}" for n in linked} <= panel_ids


def test_marker_without_citation_is_not_a_link() -> None:
    md = answer_markdown(answer(points=("Unsupported claim [7].",)))
    assert "#src-7" not in md
    assert r"\[7\]" in md


def test_markdown_sources_list_has_title_article_version_status() -> None:
    md = answer_markdown(answer())
    assert ("- [[1]](#src-1) 《互联网信息服务管理办法》 第5条 (Measures for the Administration of Internet "
            "Information Services, Art. 5) — version 2024 / effective 2024-03-10 / in force") in md
    assert "- [[2]](#src-2) 《备案流程》 — provider guide" in md
    assert "status unknown" not in md


def test_notices_are_italic() -> None:
    assert "*Answer composed from project notes.*" in answer_markdown(answer())


def test_markdown_escapes_html_and_markdown_in_corpus_text() -> None:
    a = answer(verdict=f"Yes {SCRIPT} **not bold** [1]", points=("<img src=x onerror=alert(1)> [1]",),
               citations=(citation(1, title=f"标题{SCRIPT}", warning=f"Conflicts {SCRIPT}"),))
    md = answer_markdown(a)
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;" in md
    assert r"\*\*not bold\*\*" in md


def test_abstention_renders_message_only() -> None:
    a = abstention()
    md = answer_markdown(a)
    assert md == "The corpus does not cover trademark law."
    assert "#src-" not in md
    assert "Sources" not in md


def test_abstention_without_text_has_a_default_message() -> None:
    md = answer_markdown(answer(verdict=None, points=(), citations=(), abstained=True, notices=()))
    assert "could not find" in md


def test_markdown_blocks_join_to_markdown() -> None:
    blocks = markdown_blocks(answer())
    assert blocks[0].startswith("**Yes")
    assert all(block in answer_markdown(answer()) for block in blocks)


def test_warning_is_shown_in_markdown() -> None:
    a = answer(citations=(citation(1, warning="Contradicts the 2022 Provisions, Art. 6"),), points=("x [1]",))
    assert "⚠ *Contradicts the 2022 Provisions, Art. 6*" in answer_markdown(a)


# Plain text -------------------------------------------------------------------------------------------------------

def test_a_verdict_given_beside_the_scenario_table_leads_above_it_and_the_table_leads_without_one() -> None:
    # (Assistant.ask gives none beside the table: beside_table; the renderers still place one a caller gives)
    result = find_regime("We're a US company with no entity in China, hosting in Shanghai — what do we need?", None,
                         load_regime_model(DEFAULT_MODEL_PATH), "en")
    for render in (answer_markdown, lambda a: answer_text(a, "2026-12-01")):
        quoted = render(answer(regime=result))
        assert quoted.index("Yes — a personal blog") < quoted.index("Which filings and licences apply")
        assert quoted.index("Which filings and licences apply") < quoted.index("Non-commercial sites are filed")
        table_first = render(answer(regime=result, verdict=None))
        assert table_first.lstrip("*").startswith("Which filings and licences apply")


def test_copied_text_ends_with_disclaimer() -> None:
    text = answer_text(answer(), "2026-11-28")
    assert text.splitlines()[-1] == "Based on the corpus as of 2026-11-28; not legal advice"


def test_copied_text_has_footnotes_with_title_article_doc_id() -> None:
    text = answer_text(answer(), date(2026, 11, 28))
    assert text.startswith("Yes — a personal blog")
    assert "[1] 《互联网信息服务管理办法》 第5条 (Measures for the Administration of Internet Information Services, " \
           "Art. 5)" in text
    assert "regulations/measures-1.zh.md" in text
    assert "regulations/measures-2.zh.md" in text
    assert "](#src-" not in text and "**" not in text


def test_source_lines_of_guides_and_notes_say_what_they_are_instead_of_a_status() -> None:
    assert source_line(guide(3)) == ("[3] Tencent Cloud › 《一个腾讯云账号能否同时备案两个公司？》 › 帐号已有备案，能否备案其他主体的网站？"
                                     " — provider guide")
    assert source_line(guide(3), "zh").startswith("[3] 腾讯云 › 《一个腾讯云账号能否同时备案两个公司？》")
    assert source_line(guide(3), "zh").endswith("— 服务商指南")
    note = citation(4, kind=Kind.PROJECT_NOTE, article_no=None, title="个人网站与ICP备案",
                    title_en="Personal websites and ICP filing")
    assert source_line(note) == "[4] 《个人网站与ICP备案》 (Personal websites and ICP filing) — project note"
    quoting = replace(note, title="《电信业务分类目录（2015年版）》：B21与B25")
    assert source_line(quoting).startswith("[4] 《电信业务分类目录（2015年版）》：B21与B25 (")
    assert "《《" not in sources_html(answer(citations=(quoting,), points=("x [4]",)))
    assert source_line(citation(1)).endswith("— version 2024 / effective 2024-03-10 / in force")


def test_copied_text_keeps_full_footnotes_for_guides() -> None:
    text = answer_text(answer(citations=(guide(1),), points=("x [1]",)), "2026-11-28")
    assert "[1] Tencent Cloud › 《一个腾讯云账号能否同时备案两个公司？》 › 帐号已有备案" in text
    assert guide(1).doc_id in text and "status unknown" not in text


def test_copied_text_shortens_quotes() -> None:
    long_quote = "第一句话。" * 100
    text = answer_text(answer(citations=(citation(1, quote=long_quote),), points=("x [1]",)), "2026-11-28")
    quote_line = next(line for line in text.splitlines() if line.strip().startswith('"'))
    assert len(quote_line.strip()) <= 203
    assert quote_line.strip().endswith('…"')


def test_copied_text_of_abstention_ends_with_disclaimer() -> None:
    text = answer_text(abstention(), None)
    assert text.splitlines()[0] == "The corpus does not cover trademark law."
    assert text.splitlines()[-1] == "Based on the corpus as of unknown date; not legal advice"


def test_shorten_keeps_short_text() -> None:
    assert shorten("  a  b\nc ") == "a b c"


# JSON -------------------------------------------------------------------------------------------------------------

def test_answer_json_is_serialisable_with_expected_keys() -> None:
    doc = Document(doc_id="regulations/measures-1.zh.md", root="corpus", title="t", title_en="t",
                   kind=Kind.ADMINISTRATIVE_REGULATION, language="zh", body="b")
    chunk = Chunk(chunk_id="c1", doc_id=doc.doc_id, position=0, text="b", title_path="《t》", article_no=5)
    a = answer(retrieved=(Hit(chunk=chunk, document=doc, score=0.5),), timings_ms={"retrieve": 12.0},
               as_of=date(2025, 1, 1))
    data = json.loads(json.dumps(answer_json(a, "2026-11-28"), ensure_ascii=False))
    assert {"question", "answer", "answer_text", "verdict", "abstained", "language", "mode", "notices", "citations",
            "retrieved", "timings_ms"} <= set(data)
    assert data["citations"][0] == {
        "n": 1, "doc_id": "regulations/measures-1.zh.md", "article_no": 5, "title": "互联网信息服务管理办法",
        "title_en": "Measures for the Administration of Internet Information Services",
        "quote": citation(1).quote, "kind": "administrative regulation", "status": "in force", "version": "2024",
        "date_effective": "2024-03-10", "warning": "", "provider": None, "section": None,
    }
    assert data["citations"][1]["date_effective"] is None
    assert data["retrieved"] == [{"chunk_id": "c1", "doc_id": doc.doc_id, "article_no": 5, "score": 0.5}]
    assert data["as_of"] == "2025-01-01"
    assert data["answer_text"].endswith("Based on the corpus as of 2026-11-28; not legal advice")


# Sources panel ----------------------------------------------------------------------------------------------------

def test_sources_panel_lists_every_citation() -> None:
    a = answer(citations=(citation(1), citation(2, status=Status.SUPERSEDED, partial=True),
                          citation(3, kind=Kind.BLOG, warning="Contradicts the Provisions, Art. 6")),
               points=("a [1] [2] [3]",))
    panel = sources_html(a)
    assert parse(panel).ids == ["src-1", "src-2", "src-3"]
    assert "《互联网信息服务管理办法》" in panel and "第5条" in panel and "Art. 5" in panel
    assert "version 2024" in panel and "effective 2024-03-10" in panel
    assert 'icp-status-in-force">in force<' in panel
    assert 'icp-status-superseded">superseded<' in panel
    assert "partial text" in panel
    assert ">blog<" in panel and ">regulation<" in panel
    assert 'class="icp-warning" role="alert"' in panel and "Contradicts the Provisions, Art. 6" in panel
    assert panel.count('<details class="icp-quote">') == 3
    assert panel.startswith('<details class="icp-sources"') and "<summary><h3>Sources (3)</h3></summary>" in panel


def test_sources_panel_names_a_guide_by_provider_page_and_section_without_a_legal_status() -> None:
    a = answer(citations=(guide(1), citation(2, kind=Kind.PROJECT_NOTE, article_no=None, title="个人网站与ICP备案",
                                            title_en="Personal websites and ICP filing")), points=("x [1] [2]",))
    panel = sources_html(a)
    assert "Tencent Cloud › 《一个腾讯云账号能否同时备案两个公司？》 › 帐号已有备案，能否备案其他主体的网站？" in panel
    assert 'icp-secondary">provider guide<' in panel and 'icp-secondary">project note<' in panel
    assert "unknown" not in panel and "in force" not in panel


def test_sources_panel_uses_chinese_labels_for_chinese_answers() -> None:
    panel = sources_html(answer(language="zh", question="外资可以持有ICP许可证吗？"))
    assert "现行有效" in panel and "来源" in panel and "行政法规" in panel


@pytest.mark.parametrize("field", ["question", "title", "title_en", "quote", "warning", "doc_id", "version", "provider",
                                   "section"])
def test_sources_panel_escapes_everything(field: str) -> None:
    evil = f'{SCRIPT}<img src=x onerror="alert(1)">'
    if field == "question":
        a = answer(question=evil)
    else:
        make = guide if field in ("provider", "section") else citation
        a = answer(citations=(make(1, **{field: evil}),), points=("x [1]",))
    panel = sources_html(a)
    tags = parse(panel).tags
    assert "script" not in tags and "img" not in tags
    assert "&lt;script&gt;" in panel


def test_sources_panel_of_abstention_has_no_entries() -> None:
    panel = sources_html(abstention())
    assert parse(panel).ids == []
    assert "No sources" in panel


def test_empty_sources_panel() -> None:
    assert "appear here" in sources_html(None)


# Chat messages ----------------------------------------------------------------------------------------------------

def test_chat_messages_are_user_then_assistant() -> None:
    messages = chat_messages(answer(question=f"Is this safe? {SCRIPT}"))
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "<script>" not in messages[0]["content"]
    assert "&lt;script&gt;" in messages[0]["content"]
    assert messages[1]["content"] == answer_markdown(answer())


def test_md_escape() -> None:
    assert md_escape("a*b_c [1] <b>&") == r"a\*b\_c \[1\] &lt;b&gt;&amp;"


@pytest.mark.parametrize(("line", "en", "zh"), [
    ("Cloudflare (China Network, operated with JD Cloud)", "Cloudflare", "Cloudflare"),  # not JD Cloud's page
    ("JD Cloud (京东云)", "JD Cloud", "京东云"),
    ("Tencent Cloud (腾讯云, international site docs)", "Tencent Cloud", "腾讯云"),
    ("Example Host", "Example Host", "Example Host"),
])
def test_a_guide_is_attributed_to_the_provider_its_header_names_first(line: str, en: str, zh: str) -> None:
    from assistant.citations import provider_name

    doc = Document(doc_id="guides/x.md", root="r", title="Page", title_en="", kind=Kind.PROVIDER_GUIDE,
                   language="en", body="", issuer=line)
    assert (provider_name(doc, "en"), provider_name(doc, "zh")) == (en, zh)


def test_a_guide_page_without_a_heading_is_cited_by_the_name_of_its_source_file() -> None:
    from assistant.citations import page_title, source_label

    # 15 Tencent pages were cited as "《tencentcloud-intl-beian-tiao-kuan-yu-gong-gao-…》"
    doc_id = "guides/tencentcloud/tencentcloud-intl-beian-tiao-kuan-yu-gong-gao-gong-an.zh.md"
    doc = Document(doc_id=doc_id, root="r", title="tencentcloud-intl-beian-tiao-kuan-yu-gong-gao-gong-an.zh", title_en="",
                   kind=Kind.PROVIDER_GUIDE, language="zh", body="", issuer="Tencent Cloud",
                   extra={"path": "product/域名与网站/网站备案/条款与公告/备案相关通知/关于上海市网站办理公安备案的公告_intl_cn.md"})
    chunk = Chunk(chunk_id="c", doc_id=doc_id, position=0, text="…", title_path=doc.title)
    assert page_title(doc) == "关于上海市网站办理公安备案的公告"
    assert source_label(doc, chunk, "zh") == "腾讯云备案文档《关于上海市网站办理公安备案的公告》"
    titled = replace(doc, title="备案限制")  # a page with a heading keeps it
    assert page_title(titled) == "备案限制"
    assert page_title(replace(doc, extra={})) == doc.title  # no source path: its file name, as before
