"""Lexical side of retrieval: one tokenizer for Chinese (jieba) and English, and a BM25 index (bm25s).

The same ``tokenize`` runs at ingest (tokens are stored on every chunk in Chroma) and at query time, so
the BM25 index can be rebuilt from Chroma in a fraction of a second without re-segmenting the corpus.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache

import bm25s
import jieba
import numpy as np

jieba.setLogLevel(logging.WARNING)

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN = re.compile(r"[a-z][a-z0-9'’]*[a-z0-9]|[a-z]|\d+(?:\.\d+)?")
EN_STOP = frozenset(
    "a an the and or of to in on for is are was be been do does did my i we you your it its can could should "
    "would will with as at by from that this these those what which who how when where if there their they "
    "have has had not no yes any need needs me our us about into than then so such also just only still get got "
    "gets getting go going want wants like really very much many more most some one two thing things way ok okay "
    "please thanks hi hello whats what's i'm im we're were don't dont doesn't does't isn't can't cant won't "
    "without with within run running make making use using used put set take takes know tell say said "
    "actually already again ever even else etc per via other others another each every all both either "
    "here now today currently right should must may might shall why whose happen happens happened possible exactly".split()
)
ZH_STOP = frozenset("的 了 和 与 及 或 是 在 有 为 对 等 我 你 他 她 它 们 吗 呢 吧 啊 要 会 能 可 该 这 那 就 都 也 而 之 其 以 于 被 "
                    "怎么 怎样 如何 什么 哪些 哪个 为什么 多少 多久 是否 一下 一个 可以 需要 请问 我们 你们 他们 我的 我们的 "
                    "只是 就是 还是 但是 如果 的话 时候 时 之类 之类的 顺便 一起 现在 已经 还要 也要 还能 能不能 可不可以 "
                    "是不是 有没有 要不要 怎么办 怎么样 应该 吗 呢 啦 嘛 哦 呀 那么 这个 那个 这样 那样 一些 有些 所有 "
                    "自己 不 没 没有 不能 不会 不用 不要 不是 会不会 行不行 好不好 多长 几 几个 哪里 哪儿 哪 谁 该 用 做 "
                    "搞 弄 办 得 地 着 过 后 前 里 上 下 中".split())


# Words that ask for a figure ("有效期是几年？"): what kind of answer is wanted, not what the question is about. A note asked
# "ICP经营许可证有效期是几年？" covered "ICP备案号是不是有有效期？是不是过几年不续就自动失效了？" better than the note on the
# filing's (no) expiry, by "几年" alone. Left out of the concepts (``content_words``), kept for BM25 (a heading that asks
# the same way is a fair lexical match).
ZH_ASKING = frozenset("几年 几天 几次 几月 几周 几号 几岁 几家 多少天 多少年 多少次 多少钱 多长时间 多少个 多少家 多大".split())


@lru_cache(maxsize=1)
def _jieba_ready() -> bool:
    jieba.initialize()
    return True


def content_words(text: str) -> list[str]:
    """The words a question is about, each once: jieba's accurate mode (no overlapping sub-words) for
    Chinese, possessives stripped in English, stop words dropped."""
    _jieba_ready()
    lowered = text.lower().replace("’", "'")
    words = [re.sub(r"'s$", "", t) for t in _LATIN.findall(_HAN_RUN.sub(" ", lowered))]
    for run in _HAN_RUN.findall(lowered):
        words.extend(jieba.lcut(run))
    return list(dict.fromkeys(w for w in words if len(w.strip()) > 1 and w not in EN_STOP and w not in ZH_STOP
                              and w not in ZH_ASKING))


def tokenize(text: str) -> list[str]:
    """Lower-cased English words and numbers, plus jieba search-mode words for Chinese runs."""
    _jieba_ready()
    lowered = text.lower()
    tokens = [t.replace("’", "'") for t in _LATIN.findall(_HAN_RUN.sub(" ", lowered)) if t not in EN_STOP]
    for run in _HAN_RUN.findall(lowered):
        tokens.extend(w for w in jieba.lcut_for_search(run) if w.strip() and w not in ZH_STOP)
    return tokens


class BM25Index:
    """BM25 over pre-tokenized chunks (bm25s, the fastest maintained implementation)."""

    def __init__(self, corpus_tokens: Sequence[Sequence[str]]) -> None:
        self.size = len(corpus_tokens)
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in corpus_tokens]
        self.vocab = vocab
        self.model = bm25s.BM25()
        self.model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """A BM25 score for every chunk (0 where no query token occurs)."""
        known = [t for t in query_tokens if t in self.vocab]
        if not known or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)
