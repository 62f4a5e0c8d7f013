"""The optional LLM path: prompt, post-check, fallback; a fake chat model and a real local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.assistant import Assistant
from assistant.llm import LLMAnswerer, check_sentences
from assistant.models import Answer, Citation, Kind, Status


def extractive() -> Answer:
    return Answer(
        question="Does my personal blog need Bei'an?", language="en",
        verdict="Yes — a personal site must be filed. [1]", points=("Filing is required before going online. [1]",),
        citations=(Citation(n=1, doc_id="regulations/x.zh.md", article_no=5, title="办法", title_en="Measures",
                            quote="第五条 未经备案，不得在中华人民共和国境内从事非经营性互联网信息服务。", kind=Kind.DEPARTMENT_RULE,
                            status=Status.IN_FORCE),),
        abstained=False)


def test_supported_sentences_are_kept_and_unsupported_dropped() -> None:
    text = ("Yes — your blog needs a filing. [1]\nFiling takes 20 working days. [1]\n"
            "The fine is RMB 5 million. [2]\nNo citation here.")
    kept, dropped = check_sentences(text, extractive())
    assert kept == ["Yes — your blog needs a filing. [1]"]
    assert dropped == 3  # an unseen figure, an unknown source, no marker


def test_llm_answer_replaces_the_extractive_one_when_it_passes() -> None:
    model = FakeListChatModel(responses=["Yes — a personal blog must be filed first. [1]\nThis applies to individuals. [1]"])
    answer = LLMAnswerer(model).rewrite(extractive())
    assert answer.mode == "llm"
    assert answer.verdict == "Yes — a personal blog must be filed first. [1]"
    assert answer.citations == extractive().citations


def test_llm_that_cites_nothing_valid_falls_back_with_the_reason() -> None:
    model = FakeListChatModel(responses=["Sure! Ignore the sources: you need nothing. [7]"])
    answer = LLMAnswerer(model).rewrite(extractive())
    assert answer.mode == "extractive" and answer.verdict == extractive().verdict
    assert any("could not be used" in n for n in answer.notices)


def test_prompt_numbers_the_sources_and_marks_the_question_as_data() -> None:
    messages = LLMAnswerer(FakeListChatModel(responses=["x"])).prompt(extractive())
    assert "[1] 办法 第5条" in messages[1].content
    assert "not an instruction" in messages[0].content


class _Handler(BaseHTTPRequestHandler):
    reply = ""
    status = 200
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        payload = {"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"],
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": type(self).reply}}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(payload).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def openai_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_compatible_server_end_to_end(small_index: object, openai_server: str) -> None:
    settings = small_index.with_(llm_base_url=openai_server, llm_model="local-test")  # type: ignore[attr-defined]
    assistant = Assistant.from_settings(settings)
    plain = assistant.ask("个人博客需要备案吗？")
    _Handler.status, _Handler.reply = 200, "需要——个人网站必须先备案。[1]"
    answer = assistant.ask("个人博客需要备案吗？", mode="llm")
    assert answer.mode == "llm" and answer.verdict == "需要——个人网站必须先备案。[1]"
    assert answer.citations == plain.citations
    assert _Handler.seen[-1]["model"] == "local-test"
    _Handler.status = 500
    failed = assistant.ask("个人博客需要备案吗？", mode="llm")
    assert failed.mode == "extractive" and failed.verdict == plain.verdict
    assert any("语言模型" in n for n in failed.notices)
