"""The Gradio chat: ``build_app(settings)`` makes the UI, ``launch(settings)`` serves it on 127.0.0.1.

Question -> ``Assistant.ask`` -> ``Answer`` -> ``assistant.render`` (streamed Markdown, sources panel,
ticket text) -> like/dislike into ``assistant.feedback``. Library errors become chat messages; the app
keeps serving.

Run: ``python app.py`` or ``icp-assistant serve``.
"""

from __future__ import annotations

import os

# Before gradio is imported: otherwise it contacts outside hosts at launch.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import argparse
import logging
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import gradio as gr

from assistant.access import access_for, request_user
from assistant.errors import AssistantError, ConfigError, FeedbackError, IndexMissingError
from assistant.feedback import FeedbackStore
from assistant.models import Answer
from assistant.render import answer_json, answer_text, join_blocks, markdown_blocks, md_escape, sources_html
from assistant.settings import Settings, parse_as_of

log = logging.getLogger(__name__)

EXAMPLES = ["Does my personal blog need Bei'an?", "Can a WFOE hold an ICP Zheng?", "备案审核要多久？",
            "外资可以持有ICP许可证吗？"]
LANGUAGES = {"Auto": "", "English": "en", "中文": "zh"}
MODES = {"Extractive (quotes the corpus)": "extractive", "LLM (configured model)": "llm"}
INGEST_HINT = "Build the index with: `icp-assistant ingest`"
STREAM_DELAY_S = 0.02  # a visible stream; sleeping does not hold a CPU, so the queue below admits 16

SOURCES_CSS = """
.icp-sources { font-size: 0.92rem; line-height: 1.45; }
.icp-sources h3 { margin: 0 0 0.3rem 0; }
.icp-question { color: var(--body-text-color-subdued); margin: 0 0 0.6rem 0; }
.icp-list { padding-left: 0; list-style: none; margin: 0; }
.icp-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.55rem 0.7rem;
           margin-bottom: 0.6rem; scroll-margin-top: 1rem; }
.icp-src:target { outline: 2px solid var(--color-accent); }
.icp-n { font-weight: 700; }
.icp-title { font-weight: 600; }
.icp-title-en, .icp-doc-id { color: var(--body-text-color-subdued); font-size: 0.85rem; }
.icp-doc-id { font-family: var(--font-mono); word-break: break-all; }
.icp-meta { margin: 0.25rem 0; }
.icp-badge { display: inline-block; border-radius: 999px; padding: 0 0.5rem; font-size: 0.8rem;
             font-weight: 600; background: #e5e7eb; color: #374151; }
.icp-status-in-force { background: #dcfce7; color: #166534; }
.icp-status-superseded { background: #fee2e2; color: #991b1b; }
.icp-status-amended { background: #fef3c7; color: #92400e; }
.icp-partial { background: #e0e7ff; color: #3730a3; }
.icp-kind { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.03em;
            color: var(--body-text-color-subdued); margin-left: 0.3rem; }
.icp-dates { font-size: 0.85rem; margin-left: 0.3rem; }
.icp-warning { background: #fff7ed; border-left: 4px solid #f97316; color: #9a3412; padding: 0.3rem 0.5rem;
               margin: 0.3rem 0; border-radius: 4px; }
.icp-quote summary { cursor: pointer; color: var(--color-accent); }
.icp-quote blockquote { margin: 0.3rem 0; padding-left: 0.6rem; border-left: 3px solid #d1d5db;
                        white-space: pre-wrap; }
"""

# The [n] markers in chat answers read as links to their source entries.
APP_CSS = '#chat a[href^="#src-"] { color: var(--color-accent); font-weight: 600; text-decoration: none; }'

# [n] links point at #src-n in the sources panel; scroll there in-page (markdown links may open new tabs).
SOURCES_JS = """
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#src-"]');
  if (!link) return;
  const target = document.getElementById(link.getAttribute('href').slice(1));
  if (!target) return;
  event.preventDefault();
  event.stopPropagation();
  target.scrollIntoView({behavior: 'smooth', block: 'start'});
  const details = target.querySelector('details');
  if (details) details.open = true;
}, true);
"""

# Copies the ticket text; falls back to execCommand where the Clipboard API is unavailable (plain http).
COPY_JS = """
async (text) => {
  try { await navigator.clipboard.writeText(text); }
  catch (error) {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  return text;
}
"""


class Backend:
    """Creates the Assistant on first use, so a missing index is a message (and ``ingest`` fixes it live)."""

    def __init__(self, settings: Settings, assistant: Any = None) -> None:
        self._settings = settings
        self._assistant = assistant
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._assistant is None:
                from assistant.assistant import Assistant

                self._assistant = Assistant.from_settings(self._settings)
            return self._assistant

    def corpus_version(self) -> str:
        try:
            return str(self.get().corpus_version)
        except AssistantError:
            return ""

    def ask(self, question: str, history: list[str], as_of: date | None, language: str, mode: str) -> Answer:
        answer: Answer = self.get().ask(question, history=history or None, as_of=as_of, language=language or None,
                                        mode=mode)
        return answer


def error_message(exc: Exception) -> str:
    """Markdown for the chat: what went wrong and, for a missing index, the command that builds it."""
    # Library messages may quote commands in `backticks`: keep those as code.
    text = md_escape(str(exc) or type(exc).__name__).replace("\\`", "`")
    if isinstance(exc, IndexMissingError) and "icp-assistant ingest" not in str(exc):
        text += f"\n\n{INGEST_HINT}"
    if not isinstance(exc, AssistantError):
        text = f"The assistant failed ({type(exc).__name__}: {text}). The app is still running: try again."
    return f"⚠️ {text}"


def _header(corpus: str) -> str:
    return ("## ICP Assistant — China internet licensing Q&A / 互联网许可问答\n"
            "Ask about ICP filing (备案), ICP licences (经营许可证), foreign ownership and related rules. "
            f"Every answer cites the articles it relies on. *Corpus as of {md_escape(corpus or 'unknown')}; "
            "not legal advice.*")


def _status(backend: Backend, store_problem: str) -> tuple[str, str]:
    """Header and problem banner (Markdown), computed at every page load: a fresh ``ingest`` shows at once."""
    problems = [store_problem] if store_problem else []
    try:
        backend.get()
    except AssistantError as exc:
        problems.insert(0, error_message(exc))
    return _header(backend.corpus_version()), "\n\n".join(problems)


def _new_state() -> dict[str, Any]:
    return {"questions": [], "answers": {}, "last": None}


def _respond(backend: Backend, question: str, messages: list[dict[str, Any]], state: dict[str, Any],
             language: str, as_of_text: str, mode: str) -> Iterator[tuple[Any, ...]]:
    """Stream one answer into the chat: a placeholder, then the Markdown block by block.

    Yields values for (chatbot, sources, ticket text, state, question box).
    """
    question = (question or "").strip()
    if not question:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    messages = [*messages, {"role": "user", "content": md_escape(question)}]
    try:
        as_of = parse_as_of(as_of_text)
    except ConfigError as exc:
        yield _shown_error(messages, state, f"⚠️ {md_escape(str(exc))}")
        return
    messages.append({"role": "assistant", "content": "_Searching the corpus… / 正在检索…_"})
    yield messages, gr.skip(), gr.skip(), gr.skip(), ""
    try:
        answer = backend.ask(question, list(state["questions"]), as_of, LANGUAGES.get(language, ""),
                             MODES.get(mode, "extractive"))
    except Exception as exc:  # any failure is shown in the chat; the server keeps serving the next question
        if not isinstance(exc, AssistantError):
            log.exception("answering %r failed", question)
        yield _shown_error(messages[:-1], state, error_message(exc))
        return
    corpus = backend.corpus_version()
    index = len(messages) - 1
    state = {"questions": [*state["questions"], question], "last": index,
             "answers": {**state["answers"], index: {**answer_json(answer, corpus), "corpus": corpus}}}
    blocks = markdown_blocks(answer)
    for shown in range(1, len(blocks) + 1):
        messages[-1] = {"role": "assistant", "content": join_blocks(blocks[:shown])}
        yield messages, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        time.sleep(STREAM_DELAY_S)
    yield messages, sources_html(answer), answer_text(answer, corpus), state, gr.skip()


def _shown_error(messages: list[dict[str, Any]], state: dict[str, Any], text: str) -> tuple[Any, ...]:
    """The error as the answer; the sources panel and ticket text no longer show an older answer."""
    return ([*messages, {"role": "assistant", "content": text}], sources_html(None), "", {**state, "last": None},
            gr.skip())


def _record(store: FeedbackStore | None, data: dict[str, Any] | None, liked: bool, comment: str,
            user_name: str | None = None) -> str:
    if data is None:
        return "There is no answer to rate yet: ask a question first."
    if store is None:
        return "⚠️ Feedback cannot be stored (see the message at the top)."
    try:
        record = store.add(rating="like" if liked else "dislike", question=data["question"],
                           answer=data["answer_text"], citations=data["citations"], mode=data["mode"],
                           corpus_version=data["corpus"], comment=comment or "", language=data["language"],
                           as_of=data["as_of"] or "", user_name=user_name)
    except FeedbackError as exc:
        return f"⚠️ {md_escape(str(exc))}"
    return f"Thanks — feedback #{record.id} saved ({'helpful' if liked else 'not helpful'})."


def build_app(settings: Settings, assistant: Any = None) -> gr.Blocks:
    """The chat UI. ``assistant`` defaults to ``Assistant.from_settings(settings)``, created on first use."""
    backend = Backend(settings, assistant)
    store: FeedbackStore | None = None
    store_problem = ""
    try:
        store = FeedbackStore.from_settings(settings)
    except FeedbackError as exc:
        store_problem = f"⚠️ {md_escape(str(exc))}"
    header_text, banner_text = _status(backend, store_problem)
    modes = list(MODES) if settings.llm_enabled else list(MODES)[:1]

    with gr.Blocks(title="ICP Assistant") as app:
        header = gr.Markdown(header_text)
        banner = gr.Markdown(banner_text, visible=bool(banner_text), elem_id="status-banner")

        def refresh_status() -> tuple[str, Any]:
            text, problems = _status(backend, store_problem)
            return text, gr.Markdown(problems, visible=bool(problems))

        app.load(refresh_status, None, [header, banner])
        state = gr.State(_new_state())
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="chat", label="Chat", height=520, latex_delimiters=[],
                                     buttons=["copy"], placeholder="Ask a question below or pick an example.")
                with gr.Row():
                    question = gr.Textbox(placeholder="Type your question (English or 中文) and press Enter",
                                          show_label=False, scale=5, elem_id="question", autofocus=True)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-btn")
                examples = gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question],
                                       label="Examples: click one to ask it / 示例：点击即可提问")
                with gr.Accordion("Options / 选项", open=False), gr.Row():
                    language = gr.Radio(list(LANGUAGES), value="Auto", label="Answer language")
                    mode = gr.Radio(modes, value=modes[0], label="Answer mode",
                                    info=None if settings.llm_enabled else "No LLM configured.")
                    as_of = gr.Textbox(label="Law as of (YYYY-MM-DD, empty = today)", placeholder="2024-03-01",
                                       elem_id="as-of")
                with gr.Row():
                    like = gr.Button("Helpful", elem_id="like-btn", size="sm")
                    dislike = gr.Button("Not helpful", elem_id="dislike-btn", size="sm")
                    comment = gr.Textbox(placeholder="Optional comment on the last answer", show_label=False, scale=3,
                                         elem_id="feedback-comment")
                feedback_status = gr.Markdown(elem_id="feedback-status")
                with gr.Row():
                    copy = gr.Button("Copy answer for a ticket", elem_id="copy-btn", size="sm")
                    new_chat = gr.Button("New conversation", size="sm", elem_id="new-chat-btn")
                ticket = gr.Textbox(label="Answer for a ticket (plain text with sources)", lines=4, max_lines=10,
                                    buttons=["copy"], interactive=False, elem_id="ticket-text")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="sources", css_template=SOURCES_CSS,
                                  js_on_load=SOURCES_JS, max_height=900)

        def respond(q: str, msgs: list[dict[str, Any]], st: dict[str, Any], lang: str, when: str,
                    how: str) -> Iterator[tuple[Any, ...]]:
            yield from _respond(backend, q, msgs, st, lang, when, how)

        ask_inputs = [question, chatbot, state, language, as_of, mode]
        ask_outputs = [chatbot, sources, ticket, state, question]
        question.submit(respond, ask_inputs, ask_outputs)
        send.click(respond, ask_inputs, ask_outputs)
        examples.load_input_event.then(respond, ask_inputs, ask_outputs)  # one click asks the example

        def rate_last(st: dict[str, Any], text: str, liked: bool, user_name: str | None) -> tuple[str, str]:
            last = st["last"]
            return _record(store, st["answers"].get(last) if last is not None else None, liked, text, user_name), ""

        def like_last(st: dict[str, Any], text: str, request: gr.Request) -> tuple[str, str]:
            return rate_last(st, text, True, request_user(request))

        def dislike_last(st: dict[str, Any], text: str, request: gr.Request) -> tuple[str, str]:
            return rate_last(st, text, False, request_user(request))

        like.click(like_last, [state, comment], [feedback_status, comment])
        dislike.click(dislike_last, [state, comment], [feedback_status, comment])

        def rate_message(st: dict[str, Any], text: str, data: gr.LikeData, request: gr.Request) -> tuple[Any, Any]:
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            if not isinstance(data.liked, bool):  # un-rating a message stores nothing
                return gr.skip(), gr.skip()
            return _record(store, st["answers"].get(index), data.liked, text, request_user(request)), ""

        chatbot.like(rate_message, [state, comment], [feedback_status, comment])

        def copied(text: str) -> None:
            if text:
                gr.Info("Copied the answer with its sources.", duration=3, title="Copied")

        copy.click(None, [ticket], None, js=COPY_JS).then(copied, [ticket], None)
        new_chat.click(lambda: ([], sources_html(None), "", _new_state(), ""), None,
                       [chatbot, sources, ticket, state, feedback_status])
    return app


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, *, assistant: Any = None,
           block: bool = True) -> gr.Blocks:
    """Serve the app (no share link). ``block=False`` returns once the server listens (tests).

    Off loopback it needs users (Gradio's login page) or ``trust_proxy_auth`` (user from a proxy header);
    without either it raises ``ConfigError`` before anything listens (``assistant.access``).
    """
    access = access_for(settings, host)
    app = build_app(settings, assistant)
    app.queue(default_concurrency_limit=16)
    app.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=not block, quiet=not block,
               footer_links=[], theme=gr.themes.Soft(), css=APP_CSS, **access.launch_kwargs())
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the ICP Assistant chat on this machine.")
    parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default: 127.0.0.1).")
    parser.add_argument("--port", type=int, default=7860, help="Port (default: 7860).")
    args = parser.parse_args(argv)
    try:
        launch(Settings.from_env(), host=args.host, port=args.port)
    except AssistantError as exc:  # e.g. a non-loopback host without users: say why, as the CLI does
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
