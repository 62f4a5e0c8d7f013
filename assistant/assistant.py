"""The assistant: cleans a question, retrieves, composes (optionally through an LLM) and times it.

``Assistant.from_settings`` loads the model and the index once; ``ask`` is then cheap and thread-safe
(it only reads the loaded index).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from .asks import retrieval_query, split_asks
from .compose import Composer, ComposerConfig
from .embeddings import Embedder, make_embedder
from .errors import StoreUnavailableError
from .index import IndexStore, LoadedIndex
from .models import Answer
from .regime import RegimeModel, RegimeResult, asks_what_is_needed, find_regime, is_scenario, load_regime_model
from .registry import Glossary, load_glossary
from .retrieval import HybridRetriever, RetrievalConfig
from .settings import PROJECT_ROOT, Settings
from .text import detect_language

GLOSSARY_FILE = "glossary.yml"
REGIME_FILE = "regime.yml"
log = logging.getLogger(__name__)
REFRESH_S = 30.0  # how often a running assistant checks whether an ingest swapped the index generation
# Instructions aimed at a model are not part of the question: they must not steer what is cited.
INJECTION = re.compile(
    r"(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+|previous\s+|prior\s+|above\s+)*"
    r"(?:instructions?|rules?|prompts?|system prompt)[^.?!。？！\n]*[.?!。？！]?|"
    r"(?:忽略|无视|忘记)(?:你的|之前的|以上的|所有)*(?:指令|指示|规则|提示)[^。？！\n]*[。？！]?",
    flags=re.IGNORECASE)
FOLLOW_UP = re.compile(r"^\s*(?:and|what about|how about|what if|same for|also|or)\b|^\s*(?:那|那么|如果是|如果|还有|另外|同样)",
                       flags=re.IGNORECASE)
NOTICES = {
    "empty": {"en": "Please type a question, e.g. \"Does my personal blog need Bei'an?\"",
              "zh": "请输入一个问题，例如“个人博客需要备案吗？”"},
    "truncated": {"en": "Your question was longer than {n} characters; only the first {n} were used.",
                  "zh": "问题超过{n}个字符，只使用了前{n}个字符。"},
    "injection": {"en": "Instructions inside the question were ignored; sources are chosen by relevance only.",
                  "zh": "问题中的指令已被忽略；引用来源只按相关性选择。"},
    "follow_up": {"en": "Read as a follow-up to: \"{previous}\"", "zh": "按追问理解，上一问：“{previous}”"},
    "stale": {"en": "The index store is unreachable ({error}); answering from the copy loaded earlier.",
              "zh": "索引存储无法连接（{error}）；以下根据此前加载的索引回答。"},
    "as_of": {"en": "Answered from the texts in force on {date}.", "zh": "按{date}有效的文本回答。"},
    "table_only": {"en": "The table above answers this scenario rule by rule; no single passage of the corpus answers "
                         "the question as a whole.",
                   "zh": "上表按规则逐项回答这一情形；资料库中没有哪一段单独回答整个问题。"},
}


def clean_question(text: str) -> str:
    """Drop NUL and control characters (keep newlines and tabs as spaces), normalise width and spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if ch in "\t\n\r" else ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"\s+", " ", text).strip()


def find_glossary(roots: Sequence[Path]) -> Glossary | None:
    """The glossary of the first corpus root that has one, else the project's own: it is language knowledge
    (English names of Chinese terms), not a source, so a corpus of regulations alone still gets it."""
    for root in (*roots, PROJECT_ROOT / "corpus"):
        if (root / GLOSSARY_FILE).is_file():
            return load_glossary(root / GLOSSARY_FILE)
    return None


class Assistant:
    def __init__(self, settings: Settings, index: LoadedIndex, embedder: Embedder, glossary: Glossary | None,
                 retrieval_config: RetrievalConfig | None = None, composer_config: ComposerConfig | None = None) -> None:
        self.settings = settings
        self._embedder, self._glossary = embedder, glossary
        self._configs = (retrieval_config, composer_config)
        self._store: IndexStore | None = None
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._engine = self._build(index)
        self.regime_model = find_regime_model(settings.corpus_dirs)
        self.llm = None
        if settings.llm_enabled:
            from .llm import LLMAnswerer

            self.llm = LLMAnswerer.from_settings(settings)

    @classmethod
    def from_settings(cls, settings: Settings, **configs: object) -> Assistant:
        embedder = make_embedder(settings)
        # Loading the model and jieba's dictionary in threads while the index loads saved nothing (3.73 s against
        # 3.86 s to the first answer, GIL-bound) and cost ~40 MB of per-thread malloc arenas: one after the other.
        index = IndexStore(settings, embedder).load()
        return cls(settings, index, embedder, find_glossary(settings.corpus_dirs), **configs)  # type: ignore[arg-type]

    def _build(self, index: LoadedIndex) -> tuple[LoadedIndex, HybridRetriever, Composer]:
        retrieval_config, composer_config = self._configs
        retriever = HybridRetriever(index, self._embedder, self._glossary,
                                    retrieval_config or RetrievalConfig(mode=self.settings.retrieval))
        retriever.retrieve("备案 ICP filing warm-up")  # loads jieba's dictionary and the model now, not at question one
        composer = Composer(retriever, composer_config or ComposerConfig.for_backend(self.settings.embedding,
                                                                                     self.settings.lead_floor))
        return index, retriever, composer

    # One tuple, swapped whole: a question never mixes two generations.
    @property
    def index(self) -> LoadedIndex:
        return self._engine[0]

    @property
    def retriever(self) -> HybridRetriever:
        return self._engine[1]

    @property
    def composer(self) -> Composer:
        return self._engine[2]

    def refresh(self, *, force: bool = False) -> bool:
        """Load the generation the index pointer names if an ingest swapped it since this one was loaded.

        Checked at most every ``REFRESH_S`` seconds (one pointer read), or now with ``force``. An ingest drops
        the generation it replaced, so a long-running app must follow the pointer. True when it reloaded.
        """
        now = time.monotonic()
        if not force and now - self._checked_at < REFRESH_S:
            return False
        with self._lock:
            self._checked_at = now
            if self._store is None:
                self._store = IndexStore(self.settings, self._embedder)
            if self._store.unchanged(self.index.info):  # the store's file is as checked: no swap, no open
                return False
            active = self._store.active()
            if active is None or active.collection == self.index.info.collection:
                return False
            self._engine = self._build(self._store.load())
            return True

    def _regime(self, question: str, lang: str, facts: Mapping[str, str] | None, declined: bool) -> RegimeResult | None:
        """The obligations table for a scenario. A question the corpus does not cover (``declined``) gets one only
        when it asks what is needed: a situation told with a question on something else ("How do I open a corporate
        bank account for our new WFOE in Shanghai?") is not answered by a table of licences."""
        if self.regime_model is None or not (facts or is_scenario(question)):
            return None
        if declined and not facts and not asks_what_is_needed(question):
            return None
        return find_regime(question, facts, self.regime_model, lang)

    @property
    def corpus_version(self) -> str:
        return self.index.info.corpus_version or self.index.info.built_at[:10]

    def ask(self, question: str, history: Sequence[str] | None = None, as_of: date | None = None,
            language: str | None = None, mode: str = "extractive", facts: Mapping[str, str] | None = None) -> Answer:
        """Answer ``question``. A question that describes a scenario (or one asked with ``facts``, e.g. a fact
        the user edited in the chat) also gets the regime finder's table of obligations."""
        started = time.perf_counter()
        cleaned = clean_question(question or "")
        lang = language if language in ("en", "zh") else detect_language(cleaned)
        notices: list[str] = []
        if len(cleaned) > self.settings.max_question_chars:
            cleaned = cleaned[: self.settings.max_question_chars]
            notices.append(NOTICES["truncated"][lang].format(n=self.settings.max_question_chars))
        query = INJECTION.sub(" ", cleaned).strip()
        if query != cleaned:
            notices.append(NOTICES["injection"][lang])
        if not re.search(r"\w", query):
            return Answer(question=cleaned, language=lang, verdict=None, points=(NOTICES["empty"][lang],),
                          citations=(), abstained=True, notices=tuple(notices), as_of=as_of,
                          timings_ms={"retrieve": 0.0, "answer": 0.0, "total": _ms(started)})
        previous = [clean_question(h) for h in (history or []) if h and h.strip()]
        asks = split_asks(query)
        if previous and (FOLLOW_UP.search(query) or (len(query.split()) <= 3 and lang == "en")):
            notices.append(NOTICES["follow_up"][lang].format(previous=previous[-1][:200]))
            query = f"{previous[-1]} {query}"
            asks = [query]
        if as_of is not None:
            notices.append(NOTICES["as_of"][lang].format(date=as_of.isoformat()))
        try:
            self.refresh()
        except StoreUnavailableError as exc:
            # Search runs on the generation loaded in memory, so an outage of the Chroma server only delays
            # picking up a new ingest: keep answering, and say so.
            log.warning("index pointer check failed: %s", exc)
            notices.append(NOTICES["stale"][lang].format(error=exc))
        _, retriever, composer = self._engine
        retrieval = retriever.retrieve(query, as_of=as_of, k=self.settings.top_k)
        retrieved_at = time.perf_counter()
        answer = composer.compose(cleaned, lang, retrieval)
        if len(asks) > 1 and answer.lead_from == "none":
            # no unit answers the message as a whole: each of its asks is retrieved and answered on its own
            by_ask = [(ask, retriever.retrieve(retrieval_query(asks, i), as_of=as_of, k=self.settings.top_k))
                      for i, ask in enumerate(asks)]
            answer = composer.compose(cleaned, lang, retrieval, by_ask)
        if mode == "llm" and self.llm is not None and not answer.abstained:
            answer = self.llm.rewrite(answer)
        regime = self._regime(cleaned, lang, facts, declined=answer.abstained and not answer.citations)
        if regime is not None:
            answer = beside_table(answer, lang)
        answer = replace(answer, notices=tuple(notices) + answer.notices, regime=regime)
        done = time.perf_counter()
        return replace(answer, timings_ms={"retrieve": (retrieved_at - started) * 1000,
                                           "answer": (done - retrieved_at) * 1000, "total": (done - started) * 1000})


def beside_table(answer: Answer, lang: str) -> Answer:
    """The ordinary answer to a question that also gets the regime finder's table (it answers the situation)."""
    if answer.verdict and answer.lead_from == "note":
        # A note's verdict answers one rule and could read as contradicting the table ("a personal site must be
        # filed" beside "filing: not possible"), so only its points follow.
        return replace(answer, verdict=None)
    if answer.verdict:
        # A quoted answer (a FAQ, a guide section, an article) follows the table as its first point. It once stayed
        # above the table, for procedures such as "管局 rejected our filing…, what do we need to do?"; those get no
        # table now (``regime/finder.py``), and the 4 quotes still shown above one on the eval and held-back sets
        # answered something else ("我们是深圳的公司，官网服务器买的是腾讯云香港的…要不要去做ICP备案？" got "在腾讯云已备案，转入中国香港
        # 服务器，备案是否会被撤销？…" above a table that says no filing is needed).
        return replace(answer, verdict=None, points=(answer.verdict, *answer.points))
    if answer.abstained and not answer.citations:
        # "The corpus does not cover this" under a table that answers it would contradict the table.
        return replace(answer, points=(NOTICES["table_only"][lang],))
    return answer


def find_regime_model(roots: Sequence[Path]) -> RegimeModel | None:
    for root in roots:
        if (root / REGIME_FILE).is_file():
            return load_regime_model(root / REGIME_FILE)
    return None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
