"""Chunking along the legal structure, on every real regulation file and on edge cases."""

from __future__ import annotations

import pytest

from assistant.chunking import (
    MAX_ARTICLE_CHARS,
    chunk_document,
    drop_repeated_facets,
    is_question,
    split_articles,
    split_long,
)
from assistant.corpus import scan_corpus
from assistant.models import Document, Kind
from assistant.text import HEADING, chinese_number
from tests.fixtures import require_shared


@pytest.fixture(scope="module")
def shared_docs() -> list[Document]:
    return list(scan_corpus([require_shared()]).documents)


@pytest.mark.parametrize(("text", "n"), [("一", 1), ("十", 10), ("十二", 12), ("二十九", 29), ("八十", 80),
                                         ("一百零三", 103), ("12", 12)])
def test_chinese_numbers(text: str, n: int) -> None:
    assert chinese_number(text) == n


def test_each_regulation_yields_exactly_its_header_article_count(shared_docs: list[Document]) -> None:
    regulations = [d for d in shared_docs if d.doc_id.startswith("regulations/")]
    assert len(regulations) >= 13
    for doc in regulations:
        chunks = chunk_document(doc)
        articles = sorted({c.article_no for c in chunks if c.article_no is not None})
        assert doc.expected_articles, doc.doc_id
        assert articles == list(range(1, doc.expected_articles + 1)), doc.doc_id
        # every regulation chunk is an article (or a part of one), except an explicit annex after the last article
        assert all(c.article_no is not None or c.annex for c in chunks), doc.doc_id
        assert all(c.article_no is None for c in chunks if c.annex)


def test_chunks_never_span_two_articles_and_quote_the_document_verbatim(shared_docs: list[Document]) -> None:
    for doc in shared_docs:
        for chunk in chunk_document(doc):
            if chunk.facet in ("question", "derived"):
                continue  # a question phrasing is matched, never quoted ("<page title> <heading>", asked.py)
            assert chunk.text in doc.body, chunk.chunk_id
            if chunk.article_no is not None:
                later = f"第{chunk.article_no + 1}条"
                assert not any(line.startswith(later) for line in chunk.text.splitlines()[1:]), chunk.chunk_id


def test_long_articles_are_split_with_their_header_repeated(shared_docs: list[Document]) -> None:
    parts = [c for d in shared_docs if d.doc_id.startswith("regulations/") for c in chunk_document(d) if c.part > 0 and not c.annex and not c.facet]
    assert parts, "the corpus has articles longer than the window"
    for chunk in parts:
        assert f"第{chunk.article_no}条" in chunk.embed_text.splitlines()[0]
        assert len(chunk.text) <= MAX_ARTICLE_CHARS


def test_title_path_names_document_chapter_and_article(shared_docs: list[Document]) -> None:
    doc = next(d for d in shared_docs if d.doc_id == "regulations/cybersecurity-law-2025.zh.md")
    art26 = next(c for c in chunk_document(doc) if c.article_no == 26)
    assert art26.title_path.startswith("《中华人民共和国网络安全法》 › 第三章")
    assert art26.title_path.endswith("第26条")


def test_cross_reference_at_line_start_is_not_an_article() -> None:
    body = "第一条 总则。\n\n第二条 依照规定。\n第一条所称的事项，适用本条。\n\n第三条 施行。"
    articles = split_articles(body)
    assert [a[0] for a in articles] == [1, 2, 3]
    assert "第一条所称" in articles[1][2]


def test_split_long_keeps_text_verbatim() -> None:
    text = "甲" * 300 + "。" + "乙" * 300 + "；" + "丙" * 100 + "。"
    parts = split_long(text, 450)
    assert len(parts) == 2 and all(p in text for p in parts) and "".join(parts) == text


def test_faq_question_blocks_stay_whole(shared_docs: list[Document]) -> None:
    guides = [d for d in shared_docs if d.kind == Kind.PROVIDER_GUIDE and "\n### " in d.body]
    assert guides
    blocks = 0
    for doc in guides:
        for chunk in chunk_document(doc):
            heading = HEADING.match(chunk.text.splitlines()[0]) if not chunk.facet else None
            if heading and is_question(heading.group(2)):
                # the block ends where a heading of its level or above starts: the answer (even under
                # sub-headings such as "处理办法") stays with its question
                blocks += 1
                start = doc.body.index(chunk.text)
                rest = doc.body[start + len(chunk.text):].lstrip()
                next_heading = HEADING.match(rest.splitlines()[0]) if rest else None
                assert rest == "" or (next_heading and len(next_heading.group(1)) <= len(heading.group(1))), chunk.chunk_id
                assert any(c.facet == "question" and c.parent == chunk.chunk_id for c in chunk_document(doc))
    assert blocks > 100


def test_code_blocks_hold_neither_headings_nor_sentences() -> None:
    # As in the Huawei Cloud skill page: "# Fetch raw HTML" in a shell block once became a level-1 heading,
    # and every later section was cited under it ("… › Required for web search capability › Response Examples").
    # Nor is a line of code a sentence to quote: "pip install requests beautifulsoup4" once led an answer.
    body = ("## Core Commands\n\nRun the fetcher.\n\n```bash\n# Fetch raw HTML\npip install requests beautifulsoup4\n```\n\nThen run it.\n\n"
            "## Response Examples\n\n### Example 2: Cancel access on one provider\n\n取消阿里云一侧的接入不影响华为云。\n")
    doc = Document(doc_id="guides/x/skill.md", root="r", title="Skill", title_en="", kind=Kind.PROVIDER_GUIDE,
                   language="zh", body=body)
    paths = {c.title_path for c in chunk_document(doc) if not c.facet}
    assert paths == {"Skill › Core Commands", "Skill › Response Examples › Example 2: Cancel access on one provider"}
    sentences = [c.text for c in chunk_document(doc) if c.facet == "sentence"]
    assert "取消阿里云一侧的接入不影响华为云。" in sentences and not any("pip" in s or "Fetch" in s for s in sentences)


def test_an_agent_skill_answers_only_through_its_q_and_a_examples() -> None:
    # A SKILL.md is instructions for an AI agent: "Prerequisite check: Python >= 3.9 required" once led "do we really
    # need to install the Huawei Cloud app for the face check?". Its worked examples answer, matched on their question.
    body = ("## Prerequisites\n\n> **Prerequisite check: Python >= 3.9 required**\n\n## Response Examples\n\n"
            "### Example 3: Filing quantity limit reached\n\n**Q**: 备案数量已达上限怎么办？\n\n**A**:\n个人主体最多备案5个互联网信息服务。\n\n"
            "### Example 6: Output format\n\n**问**：个人备案需要准备什么材料？\n\n**答**：\n```\n结论：身份证原件。\n```\n")
    def doc(path: str) -> Document:
        return Document(doc_id="guides/x/" + path.replace("/", "-"), root="r", title="Skill", title_en="",
                        kind=Kind.PROVIDER_GUIDE, language="zh", body=body, extra={"provider": "X", "path": path})
    chunks = chunk_document(doc("skills/icp/SKILL.md"))
    assert {c.title_path for c in chunks if not c.facet} == {"Skill › Response Examples › Example 3: Filing quantity limit reached"}
    assert ("question", "备案数量已达上限怎么办？") in {(c.facet, c.text) for c in chunks}
    # the skill's knowledge base is content: every section stays
    assert len({c.title_path for c in chunk_document(doc("skills/icp/references/knowledge-base.md")) if not c.facet}) == 3


def test_boilerplate_sentences_are_not_facets(shared_docs: list[Document]) -> None:
    chunks = [c for d in shared_docs for c in chunk_document(d)]
    kept = drop_repeated_facets(chunks, {d.doc_id for d in shared_docs if d.kind in (Kind.PROVIDER_GUIDE, Kind.BLOG)})
    dropped = {c.text for c in chunks if c not in kept}
    assert dropped and all(c.facet == "sentence" for c in chunks if c.text in dropped and c not in kept)
    assert len({c.doc_id for c in chunks if c.facet == "sentence" and c.text == next(iter(dropped))}) > 2
    assert all(c.doc_id.startswith("guides/") for c in chunks if c.text in dropped)


def test_chunk_ids_are_stable_and_content_sensitive(shared_docs: list[Document]) -> None:
    doc = shared_docs[0]
    first, second = chunk_document(doc), chunk_document(doc)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)


def test_a_transcribers_note_is_never_a_sentence_to_quote() -> None:
    from assistant.text import sentences, statements

    text = ("## 附录：备案登记表（填表说明）\n\n（源文件此处为表格图片 https://main.qcloudimg.com/raw/x.png 及链接 https://da.do/8kzg ；"
            "以下为源文件表格中的填表说明文字。源文件第5项为空行，缺失。）\n\n"
            "1. “主办单位名称” 栏：若网站为组织开办，则应填写组织名称。\n5. （源文件缺失）\n")
    assert sentences(text) == statements(text) == ["“主办单位名称” 栏：若网站为组织开办，则应填写组织名称。"]
    assert sentences("（本办法自发布之日起施行。）第一条 为了规范备案，制定本办法。") != []  # only notes about the source


def test_the_question_of_a_q_and_a_pair_is_never_a_sentence_to_quote() -> None:
    from assistant.text import statements

    # an agent skill's examples: the question line once answered "how many websites can one ECS file?"
    text = "**Q**: 我们有一个新的app需要做下备案，这个互联网信息服务类型怎么选呢\n\n**A**:\n互联网信息服务类型选择“APP”即可。"
    assert statements(text) == ["互联网信息服务类型选择“APP”即可。"]
    assert statements("问：备案要多久\n答：一般20个工作日。") == ["答：一般20个工作日。"]


def test_the_problem_a_section_answers_is_matched_as_a_question_and_never_quoted() -> None:
    from assistant.chunking import qa_questions
    from assistant.text import statements

    # Huawei's error FAQ: the error message restated the problem and led "身份证到期换了新证，需要去改信息吗？"
    text = ("**错误提示**：备案信息填写的主体负责人身份证证件已经超过有效期限。\n\n**关键词**：身份证过期、证件过期\n\n"
            "**解决方案**：\n- 参考变更备案提交变更备案，填写新的主体信息并上传最新的主体负责人身份证件\n")
    assert statements(text) == ["参考变更备案提交变更备案，填写新的主体信息并上传最新的主体负责人身份证件"]
    assert qa_questions(text) == ["备案信息填写的主体负责人身份证证件已经超过有效期限。", "身份证过期、证件过期"]


@pytest.mark.parametrize(("sentence", "pointer"), [
    ("请参见 \\[网站命名要求\\](https://cloud.tencent.com/document/product/243/11740)。", True),
    ("备案审核流程与时长，请参考 [备案时长](https://cloud.tencent.com/document/product/243/1)。", True),
    ("See [ICP Filing Overview](https://example.com/overview).", True),
    ("详细操作请参见 [变更备案](https://example.com) ，变更期间网站可以正常访问，但需要保证信息真实并且按照管局要求提交相关材料。", False),
    ("如果您的服务器购买时长不足 3 个月，请进行续费，使购买时长不少于 3 个月。", False),
    # a link or address with a short label and nothing else: once quoted as the answer to "how many websites can one
    # ECS file?" and to "why is my site unreachable?"
    ("备案流程：https://support.huaweicloud.com/usermanual-icp/zh-cn_topic_0000002127712329.html", True),
    ("[立刻进行备案 >>](https://console.cloud.tencent.com/beian)", True),
    ("登录 [工信部公共查询网站](http://www.beian.miit.gov.cn) 查询备案信息。", False),  # the label says what to do
    # a label and an address, the label longer than eight characters: quoted as the answer to "我们的App需要做备案吗？"
    ("各地区管局备案要求：https://support.huaweicloud.com/prepare-icp/icp_02_0005.html", True),
])
def test_a_sentence_that_only_points_elsewhere_is_not_an_answer(sentence: str, pointer: bool) -> None:
    from assistant.text import statements

    assert (statements(sentence) == []) is pointer


def test_an_address_inside_a_sentence_ends_no_sentence() -> None:
    from assistant.text import sentences

    # the "!" of a session id in a link: "-964799922) 找回备案密码。" was quoted as the answer on how to get the password back
    line = ("若忘记备案密码，请到 [工信部备案系统](http://www.miitbeian.gov.cn/loginPortal.action;jsessionid=Lx9!-964799922) "
            "找回备案密码。")
    assert sentences(line) == [line]
    assert sentences("详见 https://example.com/a?b=1 的说明。备案需要二十个工作日。") == [
        "详见 https://example.com/a?b=1 的说明。", "备案需要二十个工作日。"]


def test_html_tags_and_date_lines_are_no_part_of_what_is_quoted() -> None:
    from assistant.text import sentences, statements

    # Tencent's notice on PSB filing in Shanghai: "二零一六年八月三十日</p>" was quoted as related reading
    text = ("<p>开办者位于本市的网站在工信部备案成功后，需在网站开通之日起 30 日内提交公安备案申请。</p>\n"
            "<p align=right>上海市公安局网络安全保卫总队\n二零一六年八月三十日</p>\n<p>您好！</br>为了保证您的备案信息能根据最新的管局规则进行审核，"
            "腾讯云将增加有效期限制。</br>")
    assert "开办者位于本市的网站在工信部备案成功后，需在网站开通之日起 30 日内提交公安备案申请。" in sentences(text)
    assert not any("<" in s or ">" in s for s in sentences(text))
    assert "二零一六年八月三十日" not in statements(text) and "2016年9月22日" not in statements("2016年9月22日")
    assert all(s in text for s in sentences(text))  # verbatim


def test_a_bold_label_stays_whole_when_a_sentence_starts_with_it() -> None:
    from assistant.text import sentences

    # "**域名过期处理**：" was cut to "域名过期处理**：", whose lone marker bolded the rest of the answer
    text = "**域名过期的处理办法**：\n- 若备案号下有域名过期不续费，建议通过变更备案删除该域名\n> 以下证件只需提供电子版。\n* 一个列表项的内容"
    assert sentences(text) == ["**域名过期的处理办法**：", "若备案号下有域名过期不续费，建议通过变更备案删除该域名",
                               "以下证件只需提供电子版。", "一个列表项的内容"]
    assert sentences("**域名过期处理**：\n**解决方案**：") == []  # labels: the markup does not count towards the length


def test_articles_are_also_matched_by_the_questions_their_clauses_answer(shared_docs: list[Document]) -> None:
    doc = next(d for d in shared_docs if d.doc_id.endswith("non-commercial-internet-information-services-filing-measures-2005.zh.md"))
    chunks = chunk_document(doc)
    units = {c.chunk_id: c for c in chunks if not c.facet}
    derived = [c for c in chunks if c.facet == "derived"]
    assert derived and all(units[c.parent].article_no == c.article_no is not None for c in derived)
    # Art. 24 punishes breaking Arts. 10, 18 and 19 and names no conduct: its questions name theirs
    art24 = {c.text for c in derived if c.article_no == 24}
    assert "互联网接入服务提供者为未经备案的组织或者个人从事非经营性互联网信息服务提供互联网接入服务会受到什么处罚？" in art24
    assert not any(c.facet == "derived" for d in shared_docs if not d.doc_id.startswith("regulations/")
                   for c in chunk_document(d))

