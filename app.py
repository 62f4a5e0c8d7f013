"""The Gradio chat: ``build_app(settings)`` makes the UI, ``launch(settings)`` serves it on 127.0.0.1.

Question -> ``Assistant.ask`` -> ``Answer`` -> ``assistant.chat_view`` (the streamed message: lead, points, one
chip per source, a scenario's obligations table; related questions as chat options) and ``assistant.render``
(sources panel, ticket text) -> like/dislike into ``assistant.feedback``. A scenario answer also fills the fact
form under the chat (``assistant.regime_view``): answering the follow-up or changing a fact asks the same
question again with ``facts=``. Library errors become chat messages; the app keeps serving.

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
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.access import access_for, request_user
from assistant.build import BuildRun, IndexBuildingError
from assistant.chat_assets import APP_CSS, CHAT_HEIGHT, COPY_JS, PAGE_HEAD, PAGE_JS, SOURCES_CSS
from assistant.chat_view import EMPTY_STATE, chat_blocks, example_messages, related_options, short_names
from assistant.errors import (
    AssistantError,
    ConfigError,
    CorpusError,
    FeedbackError,
    IndexMissingError,
    RegimeModelError,
)
from assistant.feedback import FeedbackStore
from assistant.models import Answer
from assistant.regime import RegimeModel, RegimeResult, load_regime_model
from assistant.regime.render import TEXTS
from assistant.regime_view import change_message, fact_fields, follow_up_choices
from assistant.registry import load_registry
from assistant.render import answer_text, feedback_fields, join_blocks, md_escape, sources_html
from assistant.settings import Settings, parse_as_of

log = logging.getLogger(__name__)

LANGUAGES = {"Auto": "", "English": "en", "中文": "zh"}
MODES = {"Extractive (quotes the corpus)": "extractive", "LLM (configured model)": "llm"}
INGEST_HINT = "Build the index with: `icp-assistant ingest`"
PLACEHOLDER = "_Searching the corpus… / 正在检索…_"
STREAM_DELAY_S = 0.02  # a visible stream; sleeping does not hold a CPU, so the queue below admits 16
# Local fonts only: the theme's default web font cannot load offline, and Noto covers the Chinese text.
THEME = gr.themes.Soft(font=["Noto Sans", "Noto Sans CJK SC", "system-ui", "sans-serif"],
                       font_mono=["Noto Sans Mono", "DejaVu Sans Mono", "monospace"])


class Backend:
    """Creates the Assistant on first use, so a missing index is a message (and ``ingest`` fixes it live).

    With ``build`` (an index build running in this process), a question asked before any index exists gets the
    build's progress instead of the "run ingest" hint.
    """

    def __init__(self, settings: Settings, assistant: Any = None, build: BuildRun | None = None) -> None:
        self._settings = settings
        self._assistant = assistant
        self._lock = threading.Lock()
        self.build = build

    def get(self) -> Any:
        with self._lock:
            if self._assistant is None:
                from assistant.assistant import Assistant

                try:
                    self._assistant = Assistant.from_settings(self._settings)
                except IndexMissingError as exc:
                    status = self.build.status() if self.build else None
                    if status is None or status.finished:
                        raise
                    raise IndexBuildingError(status.banner(answering=False).lstrip("⏳ ")) from exc
            return self._assistant

    def corpus_version(self) -> str:
        try:
            return str(self.get().corpus_version)
        except AssistantError:
            return ""

    def ask(self, question: str, history: list[str], as_of: date | None, language: str, mode: str,
            facts: Mapping[str, str] | None = None) -> Answer:
        answer: Answer = self.get().ask(question, history=history or None, as_of=as_of, language=language or None,
                                        mode=mode, facts=facts)
        return answer


def page_data(settings: Settings) -> tuple[RegimeModel | None, dict[str, str]]:
    """The regime model (for the fact form) and compact source names (for chips), from the corpus roots.

    Read once when the app is built, independently of the index, so the form exists even before an ingest.
    """
    model: RegimeModel | None = None
    names: dict[str, str] = {}
    for root in settings.corpus_dirs:
        try:
            if model is None and (Path(root) / "regime.yml").is_file():
                model = load_regime_model(Path(root) / "regime.yml")
            if not names and (Path(root) / "registry.yml").is_file():
                names = short_names(load_registry(Path(root) / "registry.yml"))
        except (RegimeModelError, CorpusError) as exc:  # the chat still answers; chips fall back to titles
            log.warning("%s", exc)
    return model, names


def error_message(exc: Exception) -> str:
    """Markdown for the chat: what went wrong and, for a missing index, the command that builds it."""
    # Library messages may quote commands in `backticks`: keep those as code.
    text = md_escape(str(exc) or type(exc).__name__).replace("\\`", "`")
    if isinstance(exc, IndexMissingError) and not isinstance(exc, IndexBuildingError) \
            and "icp-assistant ingest" not in str(exc):
        text += f"\n\n{INGEST_HINT}"
    if not isinstance(exc, AssistantError):
        text = f"The assistant failed ({type(exc).__name__}: {text}). The app is still running: try again."
    return f"⚠️ {text}"


def _header(corpus: str) -> str:
    return ("## ICP Assistant — China internet licensing Q&A / 互联网许可问答\n"
            "Every answer cites the articles it relies on. "
            f"*Corpus as of {md_escape(corpus or 'unknown')}; not legal advice.*")


def _status(backend: Backend, store_problem: str) -> tuple[str, str]:
    """Header and problem banner (Markdown), computed at every page load (and every few seconds while an index
    builds): a fresh ``ingest`` shows at once."""
    problems = [store_problem] if store_problem else []
    build = backend.build.status() if backend.build else None
    try:
        backend.get()
        answering = True
    except AssistantError as exc:
        answering = False
        if build is None or build.finished:
            problems.insert(0, error_message(exc))
    progress = build.banner(answering=answering) if build is not None else ""
    if progress:
        problems.insert(0, progress)
    return _header(backend.corpus_version()), "\n\n".join(problems)


def _new_state() -> dict[str, Any]:
    # regime: the scenario on screen (question, history, facts given so far, follow-up options, language)
    return {"questions": [], "answers": {}, "last": None, "regime": None}


def _respond(backend: Backend, names: Mapping[str, str], question: str, messages: list[dict[str, Any]],
             state: dict[str, Any], language: str, as_of_text: str, mode: str, *,
             facts: Mapping[str, str] | None = None, shown: str = "") -> Iterator[tuple[Any, ...]]:
    """Stream one answer into the chat: a placeholder, then the message block by block.

    ``facts`` re-asks the scenario on screen with those facts (``shown`` is then the user's turn in the chat).
    Yields values for (chatbot, sources, ticket text, state, question box) and the regime result for the fact
    form (a ``RegimeResult``, None to hide the form, or ``gr.skip()``).
    """
    question = (question or "").strip()
    if not question:
        yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return
    messages = [*messages, {"role": "user", "content": md_escape(shown or question)}]
    try:
        as_of = parse_as_of(as_of_text)
    except ConfigError as exc:
        yield _shown_error(messages, state, f"⚠️ {md_escape(str(exc))}")
        return
    messages.append({"role": "assistant", "content": PLACEHOLDER})
    yield messages, gr.skip(), gr.skip(), gr.skip(), "", gr.skip()
    scenario = state.get("regime") if facts is not None else None
    history = list(scenario["history"]) if scenario else list(state["questions"])
    try:
        answer = backend.ask(question, history, as_of, LANGUAGES.get(language, ""), MODES.get(mode, "extractive"),
                             facts)
    except Exception as exc:  # any failure is shown in the chat; the server keeps serving the next question
        if not isinstance(exc, AssistantError):
            log.exception("answering %r failed", question)
        yield _shown_error(messages[:-1], state, error_message(exc))
        return
    corpus = backend.corpus_version()
    index = len(messages) - 1
    state = {"questions": state["questions"] if scenario else [*state["questions"], question], "last": index,
             "answers": {**state["answers"], index: feedback_fields(answer, corpus)},
             "regime": _scenario(answer, history, facts)}
    blocks = chat_blocks(answer, names)
    # The lead first, then the rest: each streamed step costs the server a full Gradio update (load test: ~10
    # answers/s on 2 cores with one step per block, see docs/benchmarks.md).
    for count in sorted({1, len(blocks)}) if blocks else ():
        messages[-1] = {"role": "assistant", "content": join_blocks(blocks[:count])}
        yield messages, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        time.sleep(STREAM_DELAY_S)
    messages[-1] = {**messages[-1], "options": related_options(answer)}
    yield messages, sources_html(answer), answer_text(answer, corpus), state, gr.skip(), answer.regime


def _scenario(answer: Answer, history: list[str], facts: Mapping[str, str] | None) -> dict[str, Any] | None:
    result: RegimeResult | None = answer.regime
    if result is None:
        return None
    fact, _, options = follow_up_choices(result, result.language)
    return {"question": answer.question, "history": history, "facts": dict(facts or {}), "lang": result.language,
            "follow_up": [[fact, value] for _, value in options]}


def _shown_error(messages: list[dict[str, Any]], state: dict[str, Any], text: str) -> tuple[Any, ...]:
    """The error as the answer; the sources panel and ticket text no longer show an older answer."""
    return ([*messages, {"role": "assistant", "content": text}], sources_html(None), "", {**state, "last": None},
            gr.skip(), gr.skip())


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


class FactForm:
    """The scenario controls under the chat: the follow-up question with one button per option, and one
    dropdown per fact of the regime model. Hidden until an answer carries a regime result."""

    def __init__(self, model: RegimeModel) -> None:
        self.model = model
        most = max(len(spec.values) for spec in model.facts)
        with gr.Group(visible=False, elem_id="regime-panel") as self.panel:
            self.question = gr.Markdown(elem_id="follow-up")
            with gr.Row(elem_id="follow-up-options"):
                self.buttons = [gr.Button(visible=False, size="sm", elem_id=f"follow-up-{i}") for i in range(most)]
            with gr.Accordion("Change a fact (re-checks the table) / 修改事实", open=False, elem_id="fact-form"), \
                    gr.Row():
                self.dropdowns = {f.fact: gr.Dropdown(choices=list(f.choices), value=_dropdown_value(f.value, f.multiple),
                                                      label=f.label, multiselect=f.multiple, min_width=280,
                                                      elem_id=f"fact-{f.fact}")
                                  for f in fact_fields(model)}

    @property
    def outputs(self) -> list[Any]:
        return [self.panel, self.question, *self.buttons, *self.dropdowns.values()]

    def updates(self, result: Any) -> list[Any]:
        """Updates for ``outputs``: filled from a result, hidden for None, untouched for anything else."""
        if not isinstance(result, RegimeResult):
            hidden = [gr.Group(visible=False)] if result is None else [gr.skip()]
            return hidden + [gr.skip()] * (len(self.outputs) - 1)
        _, question, options = follow_up_choices(result, result.language)
        label = TEXTS["ask"][1 if result.language == "zh" else 0]
        ask = f"**{label}:** {md_escape(question)}" if question else ""
        buttons = [gr.Button(options[i][0], visible=True) if i < len(options) else gr.Button(visible=False)
                   for i in range(len(self.buttons))]
        fields = [gr.Dropdown(choices=list(f.choices), value=_dropdown_value(f.value, f.multiple), label=f.label)
                  for f in fact_fields(self.model, result, result.language)]
        return [gr.Group(visible=True), gr.Markdown(ask, visible=bool(question)), *buttons, *fields]


def _dropdown_value(values: tuple[str, ...], multiple: bool) -> Any:
    return list(values) if multiple else (values[0] if values else None)


def build_app(settings: Settings, assistant: Any = None, build: BuildRun | None = None) -> gr.Blocks:
    """The chat UI. ``assistant`` defaults to ``Assistant.from_settings(settings)``, created on first use;
    ``build``, an index build running beside it, is shown in the status banner until it is done."""
    backend = Backend(settings, assistant, build)
    model, names = page_data(settings)
    store: FeedbackStore | None = None
    store_problem = ""
    try:
        store = FeedbackStore.from_settings(settings)
    except FeedbackError as exc:
        store_problem = f"⚠️ {md_escape(str(exc))}"
    header_text, banner_text = _status(backend, store_problem)
    modes = list(MODES) if settings.llm_enabled else list(MODES)[:1]

    with gr.Blocks(title="ICP Assistant") as app:
        header = gr.Markdown(header_text, elem_id="header")
        banner = gr.Markdown(banner_text, visible=bool(banner_text), elem_id="status-banner")

        def refresh_status() -> tuple[str, Any]:
            text, problems = _status(backend, store_problem)
            return text, gr.Markdown(problems, visible=bool(problems))

        app.load(refresh_status, None, [header, banner])
        if build is not None:  # the banner follows the build every 2 s, then the timer stops
            timer = gr.Timer(2.0)

            def follow_build() -> tuple[str, Any, Any]:
                # Whether it had finished, read before the banner: a build that finishes in between gets one more
                # tick. Read after it, the timer could stop on a banner still showing 98 %.
                finished = build.status().finished
                text, shown = refresh_status()
                return text, shown, gr.Timer(active=not finished)

            timer.tick(follow_build, None, [header, banner, timer])
        state = gr.State(_new_state())
        with gr.Row(equal_height=False, elem_id="main"):
            with gr.Column(scale=3, min_width=330, elem_id="chat-col"):
                chatbot = gr.Chatbot(elem_id="chat", label="Chat", show_label=False, height=CHAT_HEIGHT,
                                     autoscroll=False, latex_delimiters=[], buttons=["copy"],
                                     placeholder=EMPTY_STATE, examples=example_messages())  # type: ignore[arg-type]
                form = FactForm(model) if model is not None else None
                with gr.Row(elem_id="ask-row"):
                    question = gr.Textbox(placeholder="Type your question (English or 中文) and press Enter",
                                          show_label=False, scale=5, elem_id="question", autofocus=True)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask-btn")
                with gr.Row(elem_id="tools"):
                    copy = gr.Button("Copy answer for a ticket", elem_id="copy-btn", size="sm")
                    new_chat = gr.Button("New conversation", size="sm", elem_id="new-chat-btn")
            with gr.Column(scale=2, min_width=300, elem_id="side-col"):
                sources = gr.HTML(sources_html(None), elem_id="sources", css_template=SOURCES_CSS, js_on_load=PAGE_JS)
        with gr.Accordion("Options / 选项", open=False, elem_id="options"), gr.Row():
            language = gr.Radio(list(LANGUAGES), value="Auto", label="Answer language")
            mode = gr.Radio(modes, value=modes[0], label="Answer mode",
                            info=None if settings.llm_enabled else "No LLM configured.")
            as_of = gr.Textbox(label="Law as of (YYYY-MM-DD, empty = today)", placeholder="2024-03-01", elem_id="as-of")
        with gr.Accordion("Feedback and ticket text / 反馈与工单", open=False, elem_id="feedback"):
            with gr.Row():
                like = gr.Button("Helpful", elem_id="like-btn", size="sm")
                dislike = gr.Button("Not helpful", elem_id="dislike-btn", size="sm")
                comment = gr.Textbox(placeholder="Optional comment on the last answer", show_label=False, scale=3,
                                     elem_id="feedback-comment")
            feedback_status = gr.Markdown(elem_id="feedback-status")
            ticket = gr.Textbox(label="Answer for a ticket (plain text with sources)", lines=4, max_lines=10,
                                buttons=["copy"], interactive=False, elem_id="ticket-text")

        ask_inputs = [chatbot, state, language, as_of, mode]
        ask_outputs = [chatbot, sources, ticket, state, question, *(form.outputs if form else [])]

        def streamed(turns: Iterator[tuple[Any, ...]]) -> Iterator[list[Any]]:
            for *values, regime in turns:
                yield [*values, *(form.updates(regime) if form else [])]

        def respond(q: str, msgs: list[dict[str, Any]], st: dict[str, Any], lang: str, when: str,
                    how: str) -> Iterator[list[Any]]:
            yield from streamed(_respond(backend, names, q, msgs, st, lang, when, how))

        def picked(msgs: list[dict[str, Any]], st: dict[str, Any], lang: str, when: str, how: str,
                   data: gr.SelectData) -> Iterator[list[Any]]:
            value = data.value.get("text", "") if isinstance(data.value, dict) else str(data.value or "")
            yield from respond(value, msgs, st, lang, when, how)

        asking = [question.submit(respond, [question, *ask_inputs], ask_outputs),
                  send.click(respond, [question, *ask_inputs], ask_outputs),
                  chatbot.example_select(picked, ask_inputs, ask_outputs),  # an example of the empty chat
                  chatbot.option_select(picked, ask_inputs, ask_outputs)]  # a related question under the last answer

        form_events = _wire_form(form, backend, names, streamed, ask_inputs, ask_outputs) if form is not None else []

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
            status = _record(store, st["answers"].get(index), data.liked, text, request_user(request))
            gr.Info(status, duration=3, title="Feedback")
            return status, ""

        chatbot.like(rate_message, [state, comment], [feedback_status, comment])

        def copied(text: str) -> None:
            if text:
                gr.Info("Copied the answer with its sources.", duration=3, title="Copied")

        copy.click(None, [ticket], None, js=COPY_JS).then(copied, [ticket], None)
        cleared = [[], sources_html(None), "", _new_state(), ""]
        # Starting over stops an answer still streaming in; its later chunks would fill the cleared chat again.
        new_chat.click(lambda: [*cleared, *(form.updates(None) if form else [])], None,
                       [chatbot, sources, ticket, state, feedback_status, *(form.outputs if form else [])],
                       cancels=[*asking, *form_events])
    return app


def _wire_form(form: FactForm, backend: Backend, names: Mapping[str, str],
               streamed: Callable[[Iterator[tuple[Any, ...]]], Iterator[list[Any]]], inputs: list[Any],
               outputs: list[Any]) -> list[Any]:
    """Answering the follow-up or changing a fact asks the scenario on screen again with that fact set; returns
    the events (so that starting over can cancel them)."""

    def recheck(fact: str, value: str, msgs: list[dict[str, Any]], st: dict[str, Any], lang: str, when: str,
                how: str) -> Iterator[list[Any]]:
        scenario = st.get("regime")
        if not scenario or not value:
            yield [gr.skip()] * len(outputs)
            return
        facts = {**scenario["facts"], fact: value}
        shown = change_message(form.model, fact, value.split(","), scenario["lang"])
        yield from streamed(_respond(backend, names, scenario["question"], msgs, st, lang, when, how, facts=facts,
                                     shown=shown))

    def follow_up(i: int) -> Callable[..., Iterator[list[Any]]]:
        def answer(msgs: list[dict[str, Any]], st: dict[str, Any], lang: str, when: str,
                   how: str) -> Iterator[list[Any]]:
            options = (st.get("regime") or {}).get("follow_up") or []
            fact, value = options[i] if i < len(options) else ("", "")
            yield from recheck(fact, value, msgs, st, lang, when, how)
        return answer

    def changed(fact: str) -> Callable[..., Iterator[list[Any]]]:
        def change(value: Any, msgs: list[dict[str, Any]], st: dict[str, Any], lang: str, when: str,
                   how: str) -> Iterator[list[Any]]:
            text = ",".join(value) if isinstance(value, list) else str(value or "")
            yield from recheck(fact, text, msgs, st, lang, when, how)
        return change

    return [*(button.click(follow_up(i), inputs, outputs) for i, button in enumerate(form.buttons)),
            *(dropdown.input(changed(fact), [dropdown, *inputs], outputs) for fact, dropdown in form.dropdowns.items())]


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, *, assistant: Any = None,
           block: bool = True, build: bool | BuildRun = False) -> gr.Blocks:
    """Serve the app (no share link). ``block=False`` returns once the server listens (tests). ``build``: bring
    the index in line with the corpus in the background while the page is already up (``serve --build``).

    Off loopback it needs users (Gradio's login page) or ``trust_proxy_auth`` (user from a proxy header);
    without either it raises ``ConfigError`` before anything listens (``assistant.access``).
    """
    access = access_for(settings, host)
    running = build if isinstance(build, BuildRun) else BuildRun(settings) if build else None
    if running is not None and not running.started:
        running.start()
    app = build_app(settings, assistant, running)
    app.queue(default_concurrency_limit=settings.concurrency)
    app.launch(server_name=host, server_port=port, share=False, state_session_capacity=settings.sessions, prevent_thread_lock=not block, quiet=not block,
               footer_links=[], theme=THEME, css=APP_CSS, head=PAGE_HEAD, **access.launch_kwargs())
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
